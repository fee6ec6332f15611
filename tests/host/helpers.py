"""Waiting helpers for host tests: poll a condition with a deadline instead of fixed sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from goval.host.procfs import read_stat


async def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until ``condition()`` is true; fail the test after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)


def gone(pid: int) -> bool:
    """True when ``pid`` no longer exists or is a zombie (it can run no more code)."""
    stat = read_stat(pid)
    return stat is None or stat.dead


class Collector:
    """An ``on_output`` callback that keeps every chunk."""

    def __init__(self) -> None:
        self.chunks: list[str] = []

    def __call__(self, text: str) -> None:
        self.chunks.append(text)

    @property
    def text(self) -> str:
        return "".join(self.chunks)
