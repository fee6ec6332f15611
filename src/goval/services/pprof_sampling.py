"""Profiles of this server process: sampled CPU stacks and tracemalloc heap snapshots.

CPU: a sampling loop (run in a worker thread) reads ``sys._current_frames()`` ~100 times a
second and counts every other thread's stack. Python cannot read another thread's CPU time per
sample, so a sample is taken as "on CPU" unless the thread sits in a known idle wait (the event
loop's selector, a lock or condition wait); those are dropped, which is what makes the result a
CPU profile rather than a wall-clock one. Heap: tracemalloc slows every allocation 2-3x, so it is
not left on: unless the operator runs the server with ``PYTHONTRACEMALLOC=N`` (then the snapshot
covers everything still live), a heap request traces for a short window and reports what was
allocated in it and is still live at its end, then stops tracing.
"""

from __future__ import annotations

import sys
import threading
import time
import tracemalloc
from types import FrameType

from goval.services.pprof_encoding import Frame, ProfileBuilder

__all__ = ["DEFAULT_HEAP_WINDOW", "DEFAULT_INTERVAL", "cpu_profile", "heap_profile"]

DEFAULT_INTERVAL = 0.01
DEFAULT_HEAP_WINDOW = 5.0
TRACEMALLOC_FRAMES = 32
MAX_DEPTH = 128
# (file name suffix, function) pairs where a thread waits without using the CPU.
_heap_lock = threading.Lock()
IDLE_LEAVES = frozenset(
    {
        ("selectors.py", "select"),
        ("threading.py", "wait"),
        ("threading.py", "_wait_for_tstate_lock"),
        ("queue.py", "get"),
        ("socket.py", "accept"),
        # A pool worker blocked in SimpleQueue.get (C code, so _worker itself is the leaf).
        ("thread.py", "_worker"),
    }
)


def _stack(frame: FrameType | None) -> list[Frame]:
    stack: list[Frame] = []
    while frame is not None and len(stack) < MAX_DEPTH:
        code = frame.f_code
        stack.append(Frame(code.co_qualname, code.co_filename, code.co_firstlineno, frame.f_lineno))
        frame = frame.f_back
    return stack


def _idle(leaf: Frame) -> bool:
    return (leaf.filename.rsplit("/", 1)[-1], leaf.function.rsplit(".", 1)[-1]) in IDLE_LEAVES


def cpu_profile(seconds: float, interval: float = DEFAULT_INTERVAL) -> bytes:
    """Sample every other thread for ``seconds``; returns a gzip'd pprof profile (blocking)."""
    period_ns = int(interval * 1e9)
    builder = ProfileBuilder(
        [("samples", "count"), ("cpu", "nanoseconds")], ("cpu", "nanoseconds"), period_ns
    )
    me = threading.get_ident()
    builder.time_nanos = time.time_ns()
    started = time.monotonic()
    deadline = started + seconds
    next_tick = started
    while True:
        now = time.monotonic()
        if now >= deadline:
            break
        for thread_id, frame in sys._current_frames().items():
            if thread_id == me:
                continue
            stack = _stack(frame)
            if stack and not _idle(stack[0]):
                builder.add(stack, (1, period_ns))
        next_tick += interval
        time.sleep(max(0.0, min(next_tick, deadline) - time.monotonic()))
    builder.duration_nanos = int((time.monotonic() - started) * 1e9)
    return builder.gzipped()


def heap_profile(allocs: bool = False, window: float = DEFAULT_HEAP_WINDOW) -> bytes:
    """Live traced allocations as a gzip'd pprof profile (blocking; see the module docstring).

    tracemalloc tracks live blocks only, so ``allocs`` labels the same data with Go's
    ``alloc_*`` sample types rather than counting freed memory too.
    """
    with _heap_lock:  # one tracing window at a time: a second must not stop the first's
        started_here = not tracemalloc.is_tracing()
        if started_here:
            tracemalloc.start(TRACEMALLOC_FRAMES)
            time.sleep(window)
        try:
            snapshot = tracemalloc.take_snapshot()
        finally:
            if started_here:
                tracemalloc.stop()
    snapshot = snapshot.filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
    prefix = "alloc" if allocs else "inuse"
    builder = ProfileBuilder([(f"{prefix}_objects", "count"), (f"{prefix}_space", "bytes")])
    builder.time_nanos = time.time_ns()
    for statistic in snapshot.statistics("traceback"):
        # tracemalloc has no function names: a frame is named by its file and line.
        stack = [
            Frame(f"{frame.filename}:{frame.lineno}", frame.filename, 0, frame.lineno)
            for frame in reversed(statistic.traceback)
        ]
        builder.add(stack, (statistic.count, statistic.size))
    return builder.gzipped()
