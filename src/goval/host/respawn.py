"""When to restart a shell that exited (pure: the clock is the caller's).

Owns the rule of protocol §4.4: a shell that exits is replaced by a new one in the same
emulator, but after five consecutive exits each within one second of its start goval stops
(and the service says ``shell keeps exiting``) until the user types again.
"""

from __future__ import annotations

__all__ = ["RespawnPolicy"]


class RespawnPolicy:
    """Counts quick exits in a row.

    Args:
        max_quick_exits: consecutive quick exits after which respawning stops.
        quick: an exit this many seconds (or less) after its start is quick.
    """

    def __init__(self, *, max_quick_exits: int = 5, quick: float = 1.0) -> None:
        self.max_quick_exits = max_quick_exits
        self.quick = quick
        self._started_at: float | None = None
        self._quick_exits = 0

    @property
    def quick_exits(self) -> int:
        """Consecutive quick exits so far."""
        return self._quick_exits

    def started(self, now: float) -> None:
        """A shell was (re)started at ``now``."""
        self._started_at = now

    def exited(self, now: float) -> bool:
        """The shell exited at ``now``: True to start a new one, False to stop."""
        ran = None if self._started_at is None else now - self._started_at
        self._started_at = None
        if ran is not None and ran <= self.quick:
            self._quick_exits += 1
        else:
            self._quick_exits = 0
        return self._quick_exits < self.max_quick_exits

    def reset(self) -> None:
        """Forget past exits (the user asked for a shell again, e.g. by typing)."""
        self._quick_exits = 0
        self._started_at = None
