"""Server-wide facilities every ``ServerPort`` provides: shared instances and owned tasks.

The router (real server) and the test kit's harness both inherit this, so services see the same
behaviour in tests and in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["ServerFacilities"]

log = logging.getLogger("goval.facilities")
T = TypeVar("T")


class ServerFacilities:
    """One instance per key for things services share; background tasks the server owns."""

    def __init__(self) -> None:
        self._shared: dict[str, object] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def shared(self, key: str, factory: Callable[[], T]) -> T:
        """The one instance under ``key``, created by ``factory`` on first use."""
        if key not in self._shared:
            self._shared[key] = factory()
        return self._shared[key]  # type: ignore[return-value]

    def spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """Run ``coroutine`` as a task owned by the server; its failure is logged."""
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def close_facilities(self) -> None:
        """Cancel owned tasks, then ``aclose()`` every shared instance that has one."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for instance in reversed(list(self._shared.values())):
            closer = getattr(instance, "aclose", None)
            if closer is not None:
                try:
                    await closer()
                except Exception as exc:
                    log.error("closing %r failed", instance, exc_info=exc)
        self._shared.clear()
