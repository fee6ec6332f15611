"""``goval exec URL -- CMD...`` as a real subprocess against a real server."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from goval.cli.execute import exit_status_of
from goval.testing import RunningServer, running_server

GOVAL = [sys.executable, "-m", "goval.cli.main", "--log-level", "error"]


async def goval_exec(
    rs: RunningServer, *argv: str, options: tuple[str, ...] = (), stdin: bytes | None = None
) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *GOVAL, "exec", *options, rs.ws_url(rs.token()), "--", *argv,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(stdin), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def test_exit_statuses_map_like_a_shell() -> None:
    assert exit_status_of("exit status 7") == 7
    assert exit_status_of("signal: killed") == 137
    assert exit_status_of("signal: terminated") == 143
    assert exit_status_of('exec: "nope": executable file not found in $PATH') == 127
    assert exit_status_of("already running") == 1


async def test_output_streams_and_the_exit_status_is_the_commands(tmp_path: Path) -> None:
    async with running_server(tmp_path) as rs:
        status, out, _ = await goval_exec(
            rs,
            "sh",
            "-c",
            'echo "hello $WHO"; echo oops >&2; exit 7',
            options=("-e", "WHO=world"),
        )
        assert (status, out) == (7, "hello world\noops\n")
        status, out, _ = await goval_exec(rs, "sh", "-c", "echo fine")
        assert (status, out) == (0, "fine\n")


async def test_a_killed_command_and_a_missing_program_have_shell_statuses(
    tmp_path: Path,
) -> None:
    async with running_server(tmp_path) as rs:
        status, _, _ = await goval_exec(rs, "sh", "-c", "kill -9 $$")
        assert status == 137
        status, _, err = await goval_exec(rs, "no-such-program-xyz")
        assert status == 127 and "executable file not found" in err


async def test_stdin_is_forwarded_with_dash_i(tmp_path: Path) -> None:
    async with running_server(tmp_path) as rs:
        status, out, _ = await goval_exec(rs, "head", "-n", "1", options=("-i",), stdin=b"typed\n")
        assert (status, out) == (0, "typed\n")
