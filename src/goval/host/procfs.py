"""Read-only views of /proc used to find a child's whole process tree and its sockets.

Owns parsing ``/proc/<pid>/stat`` (process group, session, state) and ``/proc/<pid>/fd`` socket
links. Every reader tolerates processes vanishing mid-scan (that is the normal case). Nothing here
sends signals or changes state.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["ProcStat", "all_stats", "child_sessions", "read_stat", "socket_inodes"]


@dataclass(frozen=True, slots=True)
class ProcStat:
    """The fields of ``/proc/<pid>/stat`` goval needs."""

    pid: int
    state: str
    pgid: int
    sid: int
    ppid: int = 0

    @property
    def dead(self) -> bool:
        """A zombie (exited, not yet reaped) or dead process: it can run no more code."""
        return self.state in ("Z", "X", "x")


def read_stat(pid: int) -> ProcStat | None:
    """The stat of ``pid``, or None when it does not exist (any more)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: split after the last ')'.
    fields = raw[raw.rfind(b")") + 2 :].split()
    if len(fields) < 4:
        return None
    state = fields[0].decode("ascii", "replace")
    return ProcStat(pid, state, int(fields[2]), int(fields[3]), int(fields[1]))


def all_stats() -> list[ProcStat]:
    """The stat of every process visible in /proc."""
    stats: list[ProcStat] = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            stat = read_stat(int(name))
            if stat is not None:
                stats.append(stat)
    return stats


def child_sessions(parent: int) -> set[int]:
    """Session ids of ``parent``'s children that lead their own session (workspace processes)."""
    return {st.sid for st in all_stats() if st.ppid == parent and st.sid == st.pid}


def socket_inodes(pid: int) -> set[int]:
    """Inodes of the sockets ``pid`` holds open (empty if it vanished or is not ours)."""
    inodes: set[int] = set()
    fd_dir = f"/proc/{pid}/fd"
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return inodes
    for name in names:
        try:
            target = os.readlink(f"{fd_dir}/{name}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes
