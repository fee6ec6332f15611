"""Idle sleep: after N seconds without a client command the server goes to sleep.

Sleeping is the self-hosted meaning of a container going to sleep: every session gets
``containerState{state: SLEEP}`` first, then the server shuts down as on SIGTERM (flush OT,
persist chat, stop processes, close 1001) and ``goval serve`` exits. Activity is any command a
client sends (``incRef`` included: that is how a client keeps a workspace awake); the router
stamps ``last_activity`` on every one, so the check costs nothing per message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

__all__ = ["IdleSleep"]

log = logging.getLogger("goval.idle")


class _Activity(Protocol):
    last_activity: float


class IdleSleep:
    """Watches ``activity.last_activity``; calls ``fall_asleep`` once idle for ``idle_after``."""

    def __init__(
        self, activity: _Activity, idle_after: float, fall_asleep: Callable[[], Awaitable[None]]
    ) -> None:
        self._activity = activity
        self._idle_after = idle_after
        self._fall_asleep = fall_asleep
        self._task: asyncio.Task[None] | None = None
        self.asleep = asyncio.Event()

    def start(self) -> None:
        """Begin watching (no-op when idle sleep is off); the idle clock starts now."""
        if self._idle_after > 0 and self._task is None:
            self._activity.last_activity = time.monotonic()
            self._task = asyncio.get_running_loop().create_task(self._watch(), name="idle-sleep")

    async def _watch(self) -> None:
        while True:
            idle_for = time.monotonic() - self._activity.last_activity
            if idle_for >= self._idle_after:
                break
            await asyncio.sleep(self._idle_after - idle_for)
        log.info("idle for %.0f s: going to sleep", self._idle_after)
        try:
            await self._fall_asleep()
        finally:
            self.asleep.set()

    async def aclose(self) -> None:
        """Stop watching (unless this is the sleep itself shutting the server down)."""
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
