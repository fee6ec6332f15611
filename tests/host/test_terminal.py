"""Terminals on real PTYs: output, size, signals, line modes, redraws and respawning."""

from __future__ import annotations

import os
import re
import signal
import tempfile
from collections.abc import AsyncIterator, Callable

import pytest

from goval.host import Terminal, TerminalScreen, child_environment
from goval.host.procfs import all_stats
from tests.host.helpers import Collector, eventually, gone

# A predictable interactive shell: no rc files, a fixed prompt.
SHELL = ["/bin/bash", "--norc", "--noprofile", "-i"]
PROMPT = "READY$ "


def shell_env() -> dict[str, str]:
    # Not HISTFILE=/dev/null: bash as root renames its history file over it (see terminal_kit).
    history = os.path.join(tempfile.gettempdir(), f"goval-test-history-{os.getpid()}")
    return child_environment({"PS1": PROMPT, "HISTFILE": history}, pty=True)


class Session:
    def __init__(self, terminal: Terminal, out: Collector) -> None:
        self.terminal = terminal
        self.out = out

    async def run(self, command: str, until: Callable[[str], bool], timeout: float = 10) -> None:
        """Type ``command`` and wait until the output seen after it satisfies ``until``."""
        start = len(self.out.text)
        self.terminal.write(command + "\r")
        await eventually(lambda: until(self.out.text[start:]), timeout)


@pytest.fixture
async def shell() -> AsyncIterator[Session]:
    out = Collector()
    terminal = await Terminal.start(
        SHELL, cwd="/tmp", env=shell_env(), rows=24, cols=80, on_output=out
    )
    session = Session(terminal, out)
    await eventually(lambda: PROMPT in out.text)
    yield session
    await terminal.terminate_group(grace=1.0)


async def test_echo_output_arrives_from_the_pty(shell: Session) -> None:
    await shell.run("echo hello-$((6*7))", lambda text: "hello-42\r\n" in text)
    assert shell.terminal.alive


async def test_stty_size_reflects_the_initial_size_and_a_resize(shell: Session) -> None:
    await shell.run("stty size", lambda text: "24 80\r\n" in text)
    shell.terminal.resize(33, 101)
    await shell.run("stty size", lambda text: "33 101\r\n" in text)
    assert (shell.terminal.screen.rows, shell.terminal.screen.cols) == (33, 101)


async def test_the_default_environment_has_term_xterm_256color_and_no_goval_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setenv("GOVAL_TOKEN_KEY", "secret")
    out = Collector()
    command = ["sh", "-c", "echo term=$TERM key=$GOVAL_TOKEN_KEY."]
    terminal = await Terminal.start(command, cwd="/tmp", on_output=out)
    await terminal.wait()
    assert out.text == "term=xterm-256color key=.\r\n"


async def test_ctrl_c_interrupts_a_sleep_in_the_shell(shell: Session) -> None:
    shell.terminal.write("sleep 100\r")

    await eventually(lambda: bool(jobs_of(shell.terminal)))
    [pid] = jobs_of(shell.terminal)
    shell.terminal.write("\x03")
    await eventually(lambda: gone(pid))
    await shell.run("echo status=$?", lambda text: "status=130\r\n" in text)


def jobs_of(terminal: Terminal) -> list[int]:
    """Live processes in the terminal's session other than its shell."""
    return [
        st.pid
        for st in all_stats()
        if st.sid == terminal.pid and st.pid != terminal.pid and not st.dead
    ]


async def test_interrupt_reaches_the_foreground_job(shell: Session) -> None:
    shell.terminal.write("sleep 100; echo status=$?\r")
    await eventually(lambda: bool(jobs_of(shell.terminal)))
    shell.terminal.interrupt()
    await shell.run("echo after=$?", lambda text: "after=130\r\n" in text)


async def test_redraw_after_coloured_printf_rebuilds_the_same_screen(shell: Session) -> None:
    await shell.run(
        r"printf '\033[1;31mred\033[0m \033[44mblue bg\033[0m done\n'",
        lambda text: "done\r\n" in text,
    )
    await eventually(lambda: shell.out.text.endswith(PROMPT))
    original = shell.terminal.screen
    fresh = TerminalScreen(24, 80)
    fresh.feed(shell.terminal.redraw())
    assert fresh.display() == original.display()
    assert fresh.history_text() == original.history_text()
    row = next(y for y, line in enumerate(fresh.display()) if line.startswith("red blue bg"))
    assert fresh.vt.buffer[row][0].fg == "red" and fresh.vt.buffer[row][0].bold
    assert fresh.vt.buffer[row][4].bg == "blue"
    assert (fresh.vt.cursor.x, fresh.vt.cursor.y) == (original.vt.cursor.x, original.vt.cursor.y)


async def test_redraw_after_clear_shows_only_the_prompt(shell: Session) -> None:
    await shell.run("echo before-clear", lambda text: "before-clear\r\n" in text)
    await shell.run("clear", lambda text: "\x1b[2J" in text and text.endswith(PROMPT))
    redraw = shell.terminal.redraw()
    assert "before-clear" not in redraw
    fresh = TerminalScreen(24, 80)
    fresh.feed(redraw)
    assert fresh.display()[0].rstrip() == PROMPT.rstrip()
    assert fresh.display() == shell.terminal.screen.display()


async def test_alternate_screen_mode_is_reflected_in_the_redraw(shell: Session) -> None:
    await shell.run("echo on-main", lambda text: "on-main\r\n" in text)
    await shell.run(
        r"printf '\033[?1049h\033[Hfull-screen\n'",
        lambda text: "full-screen" in text and text.endswith(PROMPT),
    )
    redraw = shell.terminal.redraw()
    assert "\x1b[?1049h" in redraw
    fresh = TerminalScreen(24, 80)
    fresh.feed(redraw)
    assert fresh.vt.in_alt
    assert fresh.display() == shell.terminal.screen.display()
    assert fresh.display()[0].rstrip() == "full-screen"


def stty_flags(text: str) -> set[str]:
    return set(text.split())


async def test_pipe_mode_turns_echo_and_canonical_input_off_and_sane_restores_them() -> None:
    out = Collector()
    script = "read go; stty -a; read go; stty -a"
    terminal = await Terminal.start(["sh", "-c", script], cwd="/tmp", on_output=out)
    terminal.set_pipe_mode(True)
    terminal.write("\r")  # icrnl: CR still ends the line
    await eventually(lambda: "-extproc" in out.text)
    piped = stty_flags(out.text)
    assert {"-echo", "-icanon", "isig", "icrnl", "-opost", "-ixon"} <= piped
    terminal.sane()
    terminal.write("\r")
    assert await terminal.wait() == 0
    sane = stty_flags(out.text.split("-extproc")[1])
    assert {"echo", "icanon", "isig", "icrnl", "opost", "onlcr", "iutf8"} <= sane


async def test_output_is_decoded_utf8_and_coalesced() -> None:
    out = Collector()
    command = ["sh", "-c", "for i in $(seq 200); do printf 'é€𝄞 %s\\n' $i; done"]
    terminal = await Terminal.start(command, cwd="/tmp", on_output=out)
    assert await terminal.wait() == 0
    assert out.text.count("é€𝄞 ") == 200
    assert "\ufffd" not in out.text
    assert len(out.chunks) < 20  # 200 writes, far fewer messages


async def test_a_large_output_never_yields_a_chunk_over_64_kib() -> None:
    out = Collector()
    command = ["sh", "-c", "head -c 3000000 /dev/zero | base64"]
    terminal = await Terminal.start(command, cwd="/tmp", on_output=out)
    assert await terminal.wait() == 0
    assert sum(len(c) for c in out.chunks) > 4_000_000
    assert max(len(c.encode()) for c in out.chunks) <= 65536
    assert terminal.screen.display()[-2].startswith("AAAA")


async def test_the_screen_catches_up_by_itself_once_output_is_quiet(shell: Session) -> None:
    await shell.run("seq 1 3000", lambda text: text.endswith(PROMPT))
    await eventually(lambda: shell.terminal.screen.backlog == 0)
    assert shell.terminal.screen.display()[-2].rstrip() == "3000"


async def test_exit_status_and_describe_after_the_command_ends() -> None:
    terminal = await Terminal.start(["sh", "-c", "exit 7"], cwd="/tmp", on_output=Collector())
    assert await terminal.wait() == 7
    assert terminal.describe() == "exit status 7"
    assert not terminal.alive


async def test_a_respawned_shell_draws_on_the_same_screen() -> None:
    out = Collector()
    first = await Terminal.start(["sh", "-c", "echo first-life"], cwd="/tmp", on_output=out)
    await first.wait()
    second = await Terminal.start(
        ["sh", "-c", "echo second-life"], cwd="/tmp", on_output=out, screen=first.screen
    )
    await second.wait()
    lines = [line.rstrip() for line in second.screen.display()]
    assert lines[:2] == ["first-life", "second-life"]


async def test_terminate_group_ends_the_shell_and_its_jobs(shell: Session) -> None:
    await shell.run("sleep 100 & echo job=$!", lambda text: bool(re.search(r"job=\d+\r", text)))
    job = int(re.findall(r"job=(\d+)", shell.out.text)[-1])
    code = await shell.terminal.terminate_group(grace=1.0)
    assert code == -signal.SIGHUP
    assert gone(shell.terminal.pid)
    await eventually(lambda: gone(job), timeout=3)
    shell.terminal.write("ignored after exit\r")  # must not raise


async def test_a_large_paste_is_written_in_full_without_blocking_the_loop() -> None:
    out = Collector()
    command = ["sh", "-c", "sleep 0.3; head -c 200000 | wc -c"]
    terminal = await Terminal.start(command, cwd="/tmp", on_output=out)
    terminal.set_pipe_mode(True)
    terminal.write(b"p" * 200_000)  # more than the PTY buffer: the rest waits in ours
    assert await terminal.wait() == 0
    assert out.text.split() == ["200000"]
