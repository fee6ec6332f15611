"""Launching children, their exit texts, limits and ending their whole tree (real processes)."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from goval.errors import ProcessError
from goval.host import Limits, PipeProcess, child_environment, describe_exit
from tests.host.helpers import Collector, eventually, gone


@pytest.mark.parametrize(
    ("returncode", "text"),
    [
        (0, "exit status 0"),
        (3, "exit status 3"),
        (-signal.SIGKILL, "signal: killed"),
        (-signal.SIGINT, "signal: interrupt"),
        (-signal.SIGTERM, "signal: terminated"),
        (-signal.SIGHUP, "signal: hangup"),
        (-signal.SIGSEGV, "signal: segmentation fault"),
        (-34, "signal: signal 34"),
    ],
)
def test_exits_are_described_in_go_wording(returncode: int, text: str) -> None:
    assert describe_exit(returncode) == text


async def run(argv: list[str], **kwargs: object) -> tuple[PipeProcess, Collector]:
    out = Collector()
    proc = await PipeProcess.start(argv, cwd="/tmp", on_output=out, **kwargs)  # type: ignore[arg-type]
    return proc, out


async def test_a_missing_command_is_reported_as_not_found_in_path() -> None:
    with pytest.raises(ProcessError) as err:
        await run(["no-such-command-goval"])
    assert str(err.value) == 'exec: "no-such-command-goval": executable file not found in $PATH'


async def test_a_file_that_cannot_be_executed_reports_the_os_error(tmp_path: Path) -> None:
    script = tmp_path / "not-executable"
    script.write_text("echo hi\n")
    script.chmod(0o644)
    with pytest.raises(ProcessError) as err:
        await run([str(script)])
    assert str(err.value) == f'exec: "{script}": permission denied'


async def test_a_missing_working_directory_is_reported() -> None:
    with pytest.raises(ProcessError) as err:
        await PipeProcess.start(["true"], cwd="/no/such/dir", on_output=Collector())
    assert str(err.value) == 'exec: "true": chdir /no/such/dir: no such file or directory'


async def test_empty_args_are_a_missing_command() -> None:
    with pytest.raises(ProcessError, match="^missing command$"):
        await run([])


async def test_exit_status_and_output_are_both_delivered_before_wait_returns() -> None:
    proc, out = await run(["sh", "-c", "echo hi; exit 3"])
    assert await proc.wait() == 3
    assert proc.describe() == "exit status 3"
    assert out.text == "hi\n"


async def test_stdout_and_stderr_arrive_merged_in_the_order_written() -> None:
    script = "for i in 1 2 3; do echo out$i; echo err$i >&2; done"
    proc, out = await run(["sh", "-c", script])
    await proc.wait()
    assert out.text == "out1\nerr1\nout2\nerr2\nout3\nerr3\n"


async def test_stdin_feeds_the_child_and_closing_it_sends_end_of_file() -> None:
    proc, out = await run(["sh", "-c", "read line; echo got:$line; cat"])
    proc.write("hello\n")
    proc.write(b"rest")
    proc.close_stdin()
    assert await proc.wait() == 0
    assert out.text == "got:hello\nrest"


async def test_the_environment_drops_goval_secrets_and_adds_the_given_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOVAL_SECRET", "hunter2")
    monkeypatch.setenv("KEEP_ME", "yes")
    env = child_environment({"ADDED": "1"})
    proc, out = await run(["sh", "-c", "echo $GOVAL_SECRET/$KEEP_ME/$ADDED"], env=env)
    await proc.wait()
    assert out.text == "/yes/1\n"


async def test_the_child_leads_its_own_session_and_process_group() -> None:
    proc, out = await run(["sh", "-c", "ps -o pid=,pgid=,sid= -p $$"])
    await proc.wait()
    assert out.text.split() == [str(proc.pid)] * 3


async def test_rlimits_are_visible_to_the_child() -> None:
    limits = Limits(cpu_seconds=7, file_size=1024 * 1024, processes=500)
    show = "import resource as r; print(*[r.getrlimit(x)[0] for x in (r.RLIMIT_CPU, "
    show += "r.RLIMIT_FSIZE, r.RLIMIT_NPROC)])"
    proc, out = await run([sys.executable, "-c", show], limits=limits)
    await proc.wait()
    assert out.text.split() == ["7", str(1024 * 1024), "500"]


async def test_the_file_size_limit_stops_a_large_write(tmp_path: Path) -> None:
    out = Collector()
    proc = await PipeProcess.start(
        ["sh", "-c", "head -c 100000 /dev/zero > big"],
        cwd=str(tmp_path),
        on_output=out,
        limits=Limits(file_size=4096),
    )
    assert await proc.wait() != 0
    assert (tmp_path / "big").stat().st_size == 4096


async def test_terminate_group_leaves_no_orphan() -> None:
    proc, out = await run(["sh", "-c", "sleep 100 & echo $!; sleep 100"])
    await eventually(lambda: out.text.endswith("\n"))
    background = int(out.text)
    code = await proc.terminate_group(grace=2.0)
    assert code == -signal.SIGTERM
    assert proc.describe() == "signal: terminated"
    assert gone(proc.pid)
    assert gone(background)


async def test_a_child_ignoring_sigterm_is_killed_after_the_grace_period() -> None:
    proc, out = await run(["sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done"])
    await eventually(lambda: "ready" in out.text)
    assert await proc.terminate_group(grace=0.2) == -signal.SIGKILL
    assert proc.describe() == "signal: killed"


async def test_interrupt_sends_sigint_to_the_group() -> None:
    proc, out = await run(["sh", "-c", "echo ready; exec sleep 100"])
    await eventually(lambda: "ready" in out.text)
    proc.interrupt()
    assert await proc.wait() == -signal.SIGINT


async def test_paused_reading_holds_the_producer_back_until_resumed() -> None:
    proc, out = await run([sys.executable, "-c", "import sys; sys.stdout.write('z' * 2_000_000)"])
    proc.pause_reading()
    await eventually(lambda: proc.paused)
    # The pipe holds 64 KiB: the writer cannot finish while nobody reads.
    await asyncio.sleep(0.2)
    assert proc.alive
    assert len(out.text) < 2_000_000
    proc.resume_reading()
    assert await proc.wait() == 0
    assert len(out.text) == 2_000_000
    assert all(len(chunk) <= 65536 for chunk in out.chunks)


async def test_terminating_a_paused_process_does_not_wait_for_a_reader() -> None:
    proc, _ = await run(["sh", "-c", "while :; do echo spam; done"])
    proc.pause_reading()
    code = await asyncio.wait_for(proc.terminate_group(grace=1.0), timeout=10)
    assert code == -signal.SIGTERM


async def test_wait_returns_even_if_a_background_grandchild_keeps_the_pipe() -> None:
    proc, out = await run(["sh", "-c", "sleep 5 & echo started"], linger=0.1)
    assert await proc.wait() == 0
    assert out.text == "started\n"
    await proc.terminate_group(grace=0.5)
