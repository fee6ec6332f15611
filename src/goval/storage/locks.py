"""Named snapshot locks owned by sessions (protocol §4.8 ``fsTakeLock`` / ``fsReleaseLock``).

Pure bookkeeping, no I/O and no git: which session holds which name, and an awaitable "no lock
is held" for ``fsSnapshot``. Used from the event loop thread only (not thread-safe).
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable

from goval.errors import GovalError

__all__ = ["Locks"]


class Locks:
    """Named locks; each name has at most one owner (a session id)."""

    def __init__(self) -> None:
        self._owners: dict[str, Hashable] = {}
        self._free = asyncio.Event()  # binds to a loop lazily, on first wait
        self._free.set()

    def take(self, name: str, owner: Hashable) -> None:
        """Take ``name`` for ``owner``.

        Raises:
            GovalError: ``lock <name> is held`` (by anyone, the owner included).
        """
        if name in self._owners:
            raise GovalError(f"lock {name} is held")
        self._owners[name] = owner
        self._free.clear()

    def release(self, name: str, owner: Hashable) -> None:
        """Release ``name``.

        Raises:
            GovalError: ``lock <name> is not held`` (by this owner).
        """
        if self._owners.get(name, _NOBODY) != owner:
            raise GovalError(f"lock {name} is not held")
        del self._owners[name]
        self._update()

    def release_all(self, owner: Hashable) -> list[str]:
        """Release every lock of ``owner`` (its session detached); returns their names."""
        names = sorted(name for name, who in self._owners.items() if who == owner)
        for name in names:
            del self._owners[name]
        self._update()
        return names

    def holder(self, name: str) -> Hashable | None:
        """Who holds ``name``, or None."""
        return self._owners.get(name)

    @property
    def held(self) -> bool:
        """Whether any lock is held."""
        return bool(self._owners)

    async def wait_free(self, timeout: float = 60.0) -> None:
        """Return once no lock is held.

        Raises:
            GovalError: ``snapshot timed out waiting for locks`` after ``timeout`` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._owners:  # re-check: someone may take a lock before we wake up
            remaining = deadline - loop.time()
            try:
                if remaining <= 0:
                    raise TimeoutError
                await asyncio.wait_for(self._free.wait(), remaining)
            except TimeoutError:
                raise GovalError("snapshot timed out waiting for locks") from None

    def _update(self) -> None:
        if not self._owners:
            self._free.set()


_NOBODY = object()
