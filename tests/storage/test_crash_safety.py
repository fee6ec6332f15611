"""kill -9 during durable writes never leaves a torn or empty file (design principle 6)."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

SIZE = 64 * 1024
FILES = ("one.txt", "sub/two.txt", "sub/deeper/three.txt")
VERSIONS = {b"A" * SIZE, b"B" * SIZE}

CHILD = f"""
import sys
from pathlib import Path
from goval.storage import Workspace

ws = Workspace(Path(sys.argv[1]))
files = {FILES!r}
i = 0
while True:
    data = (b"A" if i % 2 else b"B") * {SIZE}
    for name in files:
        ws.write(name, data, durable=True)
    if i == 0:
        print("ready", flush=True)
    i += 1
"""


def test_sigkill_mid_write_leaves_each_file_whole(tmp_path: Path) -> None:
    rng = random.Random(20240601)
    for round_ in range(6):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(tmp_path)], stdout=subprocess.PIPE
        )
        assert child.stdout is not None
        assert child.stdout.readline() == b"ready\n"
        time.sleep(rng.uniform(0.005, 0.12))
        child.send_signal(signal.SIGKILL)
        assert child.wait(10) == -signal.SIGKILL
        child.stdout.close()
        for name in FILES:
            content = (tmp_path / name).read_bytes()
            assert content in VERSIONS, f"round {round_}: {name} is {len(content)} bytes, torn"
