"""PTY output throughput: goval's ``Terminal`` against a bare read loop on a PTY.

Both run ``head -c 50M /dev/zero | base64`` on a fresh PTY. The raw figure is a blocking
``os.read(master, 65536)`` loop that only counts bytes; the Terminal figure counts the decoded
text reaching ``on_output`` (decoding, coalescing, screen bookkeeping included).

    .venv/bin/python bench/pty_throughput.py [--mb 50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import time

from goval.host import Terminal


def _command(mb: int) -> list[str]:
    return ["sh", "-c", f"head -c {mb}M /dev/zero | base64"]


def raw_rate(mb: int) -> tuple[float, int]:
    """MB/s and bytes of a plain blocking read loop on a PTY master."""
    master, slave = os.openpty()
    start = time.perf_counter()
    child = subprocess.Popen(_command(mb), stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    total = 0
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the slave side is closed
            break
        if not data:
            break
        total += len(data)
    elapsed = time.perf_counter() - start
    child.wait()
    os.close(master)
    return total / elapsed / 1e6, total


async def terminal_rate(mb: int) -> tuple[float, int, int, float]:
    """MB/s, characters and chunks of decoded output delivered by ``Terminal``, and the
    seconds a redraw then takes (it parses the kept tail of the backlog first)."""
    total = 0
    chunks = 0

    def on_output(text: str) -> None:
        nonlocal total, chunks
        total += len(text)
        chunks += 1

    start = time.perf_counter()
    terminal = await Terminal.start(_command(mb), cwd="/", on_output=on_output)
    await terminal.wait()
    elapsed = time.perf_counter() - start
    redraw_start = time.perf_counter()
    terminal.redraw()
    redraw = time.perf_counter() - redraw_start
    return total / elapsed / 1e6, total, chunks, redraw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=50, help="MiB of zeros fed to base64")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    raw_best = term_best = 0.0
    for round_no in range(1, args.rounds + 1):
        raw, raw_bytes = raw_rate(args.mb)
        term, term_chars, chunks, redraw = asyncio.run(terminal_rate(args.mb))
        raw_best, term_best = max(raw_best, raw), max(term_best, term)
        print(
            f"round {round_no}: raw {raw:6.1f} MB/s ({raw_bytes} B)   "
            f"Terminal {term:6.1f} MB/s ({term_chars} chars, {chunks} chunks, "
            f"redraw after it {redraw * 1000:.0f} ms)"
        )
    ratio = term_best / raw_best
    print(f"best: raw {raw_best:.1f} MB/s, Terminal {term_best:.1f} MB/s, ratio {ratio:.2f}")


if __name__ == "__main__":
    main()
