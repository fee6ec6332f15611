"""Raw speed of goval.storage: Workspace write/read ops/s and readdir of 10,000 entries.

Run: ``.venv/bin/python bench/storage_ops.py [--dir DIR]`` (DIR defaults to a temp dir; put it
on the disk you care about — durable writes measure that disk's fsync).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from goval.storage import Workspace


def rate(fn: Callable[[int], object], min_seconds: float = 1.0) -> float:
    """Calls per second of ``fn(i)``, run for at least ``min_seconds``."""
    n = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < min_seconds:
        fn(n)
        n += 1
    return n / elapsed


def bench_io(ws: Workspace) -> None:
    for label, size in (("10 KiB", 10 * 1024), ("1 MiB", 1 << 20)):
        data = b"x" * size
        ws.write(f"r{size}", data)

        def read(i: int, name: str = f"r{size}") -> None:
            ws.read(name, 1 << 21)

        print(f"read   {label:>6}              {rate(read):10.0f} ops/s")
        for durable in (False, True):

            def write(i: int, durable: bool = durable, data: bytes = data) -> None:
                ws.write(f"w{i % 8}", data, durable=durable)

            kind = "durable" if durable else "plain  "
            print(f"write  {label:>6} {kind}      {rate(write):10.0f} ops/s")


def bench_readdir(ws: Workspace, root: Path) -> None:
    big = root / "big"
    big.mkdir()
    for i in range(10_000):
        (big / f"f{i:05d}").touch()
    ws.readdir("big")  # warm the dentry cache, as a live server's would be
    runs = 5
    start = time.perf_counter()
    for _ in range(runs):
        entries = ws.readdir("big")
    ms = (time.perf_counter() - start) / runs * 1000
    assert len(entries) == 10_000
    print(f"readdir 10,000 entries           {ms:10.1f} ms")
    start = time.perf_counter()
    objects = ws.list_objects("big/")
    print(f"list_objects 10,000 files        {(time.perf_counter() - start) * 1000:10.1f} ms")
    assert len(objects) == 10_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp, Workspace(Path(tmp)) as ws:
        bench_io(ws)
        bench_readdir(ws, Path(tmp))


if __name__ == "__main__":
    main()
