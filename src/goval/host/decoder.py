"""Turning process output bytes into protocol-sized text chunks (pure: no I/O, no asyncio).

Owns the two rules of protocol §3.5 that do not depend on a clock source:

* ``Utf8Decoder`` decodes incrementally: a multi-byte sequence split across two reads is completed
  by the next read, invalid bytes become U+FFFD, and an incomplete tail at end of stream becomes
  U+FFFD too.
* ``OutputCoalescer`` collects decoded text and hands it out in chunks of at most ``limit``
  UTF-8 bytes. A chunk is due when ``limit`` is reached, after ``quiet`` seconds without new
  text, or ``max_delay`` seconds after its first text (so a slow trickle is not held back for
  ever). Time is injected: every call takes ``now`` from the caller's clock, so the class is
  tested without sleeping; ``goval.host.output.OutputPump`` drives it from the asyncio loop.
"""

from __future__ import annotations

import codecs

__all__ = [
    "CHUNK_LIMIT",
    "MAX_DELAY",
    "QUIET",
    "OutputCoalescer",
    "Utf8Decoder",
    "split_utf8",
    "utf8_length",
]

CHUNK_LIMIT = 64 * 1024
QUIET = 0.002
MAX_DELAY = 0.016


class Utf8Decoder:
    """Incremental UTF-8 decoder that never raises (invalid input becomes U+FFFD)."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def decode(self, data: bytes) -> str:
        """Decode ``data``, keeping an incomplete trailing sequence for the next call."""
        return self._decoder.decode(data)

    def finish(self) -> str:
        """End of stream: return what is held back (an incomplete sequence → U+FFFD)."""
        text = self._decoder.decode(b"", final=True)
        self._decoder.reset()
        return text


def utf8_length(text: str) -> int:
    """Length of ``text`` in UTF-8 bytes (O(1) for ASCII, the common case)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def split_utf8(text: str, limit: int) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` UTF-8 bytes, never inside a character."""
    if limit < 4:
        raise ValueError("limit must hold any one character (>= 4 bytes)")
    if text.isascii():
        return [text[i : i + limit] for i in range(0, len(text), limit)]
    data = text.encode("utf-8", "surrogatepass")
    pieces: list[str] = []
    start = 0
    while start < len(data):
        end = min(start + limit, len(data))
        # Back off to a character boundary: continuation bytes are 0b10xxxxxx.
        while end < len(data) and data[end] & 0xC0 == 0x80:
            end -= 1
        pieces.append(data[start:end].decode("utf-8", "surrogatepass"))
        start = end
    return pieces


class OutputCoalescer:
    """Collects text and releases it in bounded chunks (see the module docstring).

    Args:
        limit: largest chunk in UTF-8 bytes; reaching it releases a chunk at once.
        quiet: seconds without new text after which the pending text is due.
        max_delay: seconds after the first pending text after which it is due regardless.
    """

    def __init__(
        self, *, limit: int = CHUNK_LIMIT, quiet: float = QUIET, max_delay: float = MAX_DELAY
    ) -> None:
        if limit < 4:
            raise ValueError("limit must be at least 4 bytes")
        self.limit = limit
        self.quiet = quiet
        self.max_delay = max_delay
        self._parts: list[str] = []
        self._size = 0
        self._first = 0.0
        self._last = 0.0

    @property
    def pending(self) -> int:
        """UTF-8 bytes waiting to be released."""
        return self._size

    def push(self, text: str, now: float) -> list[str]:
        """Add ``text``; return the chunks that reached ``limit`` (usually none)."""
        if not text:
            return []
        size = utf8_length(text)
        if not self._parts:
            self._first = now
        self._last = now
        if self._size + size < self.limit:
            self._parts.append(text)
            self._size += size
            return []
        self._parts.append(text)
        pieces = split_utf8("".join(self._parts), self.limit)
        tail = pieces.pop()
        tail_size = utf8_length(tail)
        if tail_size >= self.limit:
            pieces.append(tail)
            tail, tail_size = "", 0
        self._parts = [tail] if tail else []
        self._size = tail_size
        self._first = now
        return pieces

    def deadline(self) -> float | None:
        """Clock time at which the pending text is due, or None when nothing is pending."""
        if not self._parts:
            return None
        return min(self._last + self.quiet, self._first + self.max_delay)

    def poll(self, now: float) -> str | None:
        """Release the pending text if its deadline has passed."""
        due = self.deadline()
        if due is None or now < due:
            return None
        return self.flush()

    def flush(self) -> str:
        """Release everything pending now ('' when nothing is)."""
        text = "".join(self._parts)
        self._parts = []
        self._size = 0
        return text
