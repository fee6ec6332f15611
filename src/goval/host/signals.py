"""Exit descriptions in the wording Go's ``os.ProcessState`` uses on Linux.

Clients match these strings (``exit status 3``, ``signal: killed``), so the signal names are
Go's table for linux/amd64, not Python's ``signal.strsignal`` (which differs in case and words).
"""

from __future__ import annotations

__all__ = ["describe_exit", "signal_name"]

_GO_SIGNAL_NAMES = {
    1: "hangup",
    2: "interrupt",
    3: "quit",
    4: "illegal instruction",
    5: "trace/breakpoint trap",
    6: "aborted",
    7: "bus error",
    8: "floating point exception",
    9: "killed",
    10: "user defined signal 1",
    11: "segmentation fault",
    12: "user defined signal 2",
    13: "broken pipe",
    14: "alarm clock",
    15: "terminated",
    16: "stack fault",
    17: "child exited",
    18: "continued",
    19: "stopped (signal)",
    20: "stopped",
    21: "stopped (tty input)",
    22: "stopped (tty output)",
    23: "urgent I/O condition",
    24: "CPU time limit exceeded",
    25: "file size limit exceeded",
    26: "virtual timer expired",
    27: "profiling timer expired",
    28: "window changed",
    29: "I/O possible",
    30: "power failure",
    31: "bad system call",
}


def signal_name(signum: int) -> str:
    """Go's name for a signal number (``signal 34`` for ones without a name)."""
    return _GO_SIGNAL_NAMES.get(signum, f"signal {signum}")


def describe_exit(returncode: int) -> str:
    """``exit status N`` for a normal exit, ``signal: NAME`` for a death by signal.

    Args:
        returncode: as ``subprocess`` reports it (negative = killed by that signal).
    """
    if returncode < 0:
        return f"signal: {signal_name(-returncode)}"
    return f"exit status {returncode}"
