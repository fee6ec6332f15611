"""The asyncio driver that turns raw output reads into coalesced text chunks.

``OutputPump`` owns one ``Utf8Decoder``, one ``OutputCoalescer`` and the single timer that
releases pending text after the quiet period. Readers (pipes, PTYs) call ``feed`` with each read;
chunks go to a synchronous ``on_chunk`` callback, in order. It never touches file descriptors.

The timer is armed lazily: one handle per pending burst, re-armed when it fires early instead
of being cancelled and recreated on every read, which keeps the per-read cost flat under load.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from goval.host.decoder import CHUNK_LIMIT, MAX_DELAY, QUIET, OutputCoalescer, Utf8Decoder

__all__ = ["OutputPump"]

# asyncio may run a timer up to its clock resolution early; treat that as on time.
_EARLY = 1e-4


class OutputPump:
    """Decode and coalesce bytes, delivering text chunks to ``on_chunk``.

    Args:
        on_chunk: called with each chunk (never empty, at most ``limit`` UTF-8 bytes).
        limit, quiet, max_delay: the coalescing rules (see ``OutputCoalescer``).
    """

    def __init__(
        self,
        on_chunk: Callable[[str], None],
        *,
        limit: int = CHUNK_LIMIT,
        quiet: float = QUIET,
        max_delay: float = MAX_DELAY,
    ) -> None:
        self._deliver_chunk = on_chunk
        self._quiet = quiet
        self._last_delivery = float("-inf")
        self._loop = asyncio.get_running_loop()
        self._decoder = Utf8Decoder()
        self._coalescer = OutputCoalescer(limit=limit, quiet=quiet, max_delay=max_delay)
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False

    def feed(self, data: bytes) -> None:
        """Take one read's bytes; full chunks are delivered at once, the rest when due."""
        if self._closed:
            return
        text = self._decoder.decode(data)
        if not text:
            return
        now = self._loop.time()
        after_quiet = self._coalescer.pending == 0 and now - self._last_delivery >= self._quiet
        for chunk in self._coalescer.push(text, now):
            self._on_chunk(chunk)
        if after_quiet:
            # The first read after a quiet spell (a keystroke's echo, a prompt) goes out at once;
            # only what follows it within the quiet window is coalesced.
            self.flush()
            return
        if self._timer is None:
            self._arm()

    def flush(self) -> None:
        """Deliver everything pending now (e.g. before reporting that a process ended)."""
        text = self._coalescer.flush()
        if text:
            self._on_chunk(text)

    def close(self) -> None:
        """End of stream: deliver the decoder's held-back tail and everything pending."""
        if self._closed:
            return
        tail = self._decoder.finish()
        for chunk in self._coalescer.push(tail, self._loop.time()):
            self._on_chunk(chunk)
        self.flush()
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _on_chunk(self, chunk: str) -> None:
        self._last_delivery = self._loop.time()
        self._deliver_chunk(chunk)

    def _arm(self) -> None:
        due = self._coalescer.deadline()
        if due is not None:
            self._timer = self._loop.call_at(due, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        text = self._coalescer.poll(self._loop.time() + _EARLY)
        if text:
            self._on_chunk(text)
        self._arm()
