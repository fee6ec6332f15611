"""Pausing a pipe producer while any attached session is over its outbound budget (§3.5).

``LagGate`` is what exec, eval and socket share: after each broadcast they call ``check()``;
if a peer of the channel is lagging the producer is paused (a child blocks on its full pipe, a
socket stops being read) until every attached peer is writable again. It owns no I/O itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from goval.services.base import ChannelPort

__all__ = ["LagGate"]

# A peer may detach while we wait on it; look at the current peer list this often.
_RECHECK = 0.05


class LagGate:
    """Pause ``pause()``/``resume()`` a producer around lagging peers of ``channel``."""

    def __init__(
        self, channel: ChannelPort, pause: Callable[[], None], resume: Callable[[], None]
    ) -> None:
        self._channel = channel
        self._pause = pause
        self._resume = resume
        self._waiter: asyncio.Task[None] | None = None

    @property
    def paused(self) -> bool:
        return self._waiter is not None

    def check(self) -> None:
        """Pause now if any attached peer is over budget (resumes by itself later)."""
        if self._waiter is None and self._someone_lags():
            self._pause()
            self._waiter = asyncio.get_running_loop().create_task(self._wait_then_resume())

    def close(self) -> None:
        """Stop waiting; the producer stays as it is (its owner is shutting it down)."""
        if self._waiter is not None:
            self._waiter.cancel()
            self._waiter = None

    def _someone_lags(self) -> bool:
        return any(peer.lagging for peer in self._channel.peers())

    async def _wait_then_resume(self) -> None:
        while True:
            lagging = [peer for peer in self._channel.peers() if peer.lagging]
            if not lagging:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lagging[0].wait_writable(), _RECHECK)
        self._waiter = None
        self._resume()
