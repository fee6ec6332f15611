"""``goval serve --idle-sleep``: the process goes to sleep (exits 0) after the idle time."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

GOVAL = [sys.executable, "-m", "goval.cli.main"]


async def test_serve_exits_by_itself_after_the_idle_sleep_time(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        *GOVAL, "serve", str(tmp_path), "--no-auth", "--port", "0", "--idle-sleep", "1s",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0
    assert "goval: asleep (idle)" in out.decode()
