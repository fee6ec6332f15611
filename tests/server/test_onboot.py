import asyncio
import logging
from pathlib import Path

import pytest

from goval.host.procfs import read_stat
from goval.testing import running_server


async def wait_for(condition: object, timeout: float = 10.0) -> None:
    assert callable(condition)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_on_boot_runs_once_at_start_logs_its_output_and_dies_with_the_server(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / ".replit").write_text(
        'onBoot = "echo booted >> boot.txt; echo hello from boot; echo $$ > boot.pid; sleep 30"\n'
    )
    caplog.set_level(logging.INFO, logger="goval.onboot")
    async with running_server(tmp_path):
        await wait_for(
            lambda: (tmp_path / "boot.pid").exists() and (tmp_path / "boot.pid").read_text()
        )
        await wait_for(lambda: "onBoot: hello from boot" in caplog.text)
        pid = int((tmp_path / "boot.pid").read_text())
        assert read_stat(pid) is not None
    assert (tmp_path / "boot.txt").read_text() == "booted\n"
    stat = read_stat(pid)
    assert stat is None or stat.dead, "onBoot's process outlived the server"
    assert "onBoot ended: signal: terminated" in caplog.text


async def test_a_failing_on_boot_is_logged_and_the_server_still_serves(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / ".replit").write_text('onBoot = ["no-such-program-xyz"]\n')
    caplog.set_level(logging.INFO, logger="goval.onboot")
    async with running_server(tmp_path) as rs, rs.client() as client:
        assert await client.ping() < 5
    assert (
        'onBoot did not start: exec: "no-such-program-xyz": executable file not found'
        in caplog.text
    )


async def test_without_on_boot_nothing_runs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="goval.onboot")
    async with running_server(tmp_path):
        pass
    assert "onBoot" not in caplog.text
