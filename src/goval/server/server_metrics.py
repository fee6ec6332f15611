"""The server's own metric families, registered on the router's :class:`MetricsRegistry`.

Everything here is computed at scrape time from state the server keeps anyway (the session and
channel tables, per-session counters) so the message path pays nothing but the increments in
``session``. Sessions that ended are folded into :class:`TrafficTotals` so counters never go
back. Names follow protocol.md §4.16 (``goval_sessions``, ``goval_channels{service}``,
``goval_commands_total{direction}``, ``goval_ot_commits_total``, ``goval_processes``) plus bytes,
connections, drops and the request latency histogram.
"""

from __future__ import annotations

import collections
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from goval.services.metrics_registry import (
    OT_COMMITS,
    OT_COMMITS_HELP,
    Histogram,
    Kind,
    MetricsRegistry,
    Sample,
)

if TYPE_CHECKING:
    from goval.server.router import Router
    from goval.server.session import Session

__all__ = [
    "REQUEST_SECONDS",
    "TrafficTotals",
    "install_server_metrics",
    "request_histogram",
]

REQUEST_SECONDS = "goval_request_duration_seconds"
DROPPED_HELP = "Outbound frames dropped because their session was closed while they were queued."


@dataclass
class TrafficTotals:
    """Counters of sessions that are gone, plus how many connections were ever accepted."""

    frames_in: int = 0
    frames_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    frames_dropped: int = 0
    slow_closes: int = 0
    connections: int = 0

    def retire(self, session: Session) -> None:
        self.frames_in += session.frames_in
        self.frames_out += session.frames_out
        self.bytes_in += session.bytes_in
        self.bytes_out += session.bytes_out
        self.frames_dropped += session.frames_dropped
        self.slow_closes += session.close_code == 1013


class _ServerCollectors:
    """The scrape-time readers of the router's state (one method per family)."""

    def __init__(self, router: Router, totals: TrafficTotals) -> None:
        self._router = router
        self._totals = totals

    def _traffic(self, attribute: str) -> float:
        live = sum(getattr(session, attribute) for session in self._router.sessions.values())
        return float(live + getattr(self._totals, attribute))

    def sessions(self) -> list[Sample]:
        return [Sample((), float(len(self._router.sessions)))]

    def connections(self) -> list[Sample]:
        return [Sample((), float(self._totals.connections))]

    def channels(self) -> list[Sample]:
        counts = collections.Counter(live.channel.service for live in self._router.live.values())
        return [Sample((("service", service),), float(n)) for service, n in sorted(counts.items())]

    def commands(self) -> list[Sample]:
        return self._by_direction("frames")

    def bytes(self) -> list[Sample]:
        return self._by_direction("bytes")

    def _by_direction(self, name: str) -> list[Sample]:
        return [
            Sample((("direction", "in"),), self._traffic(f"{name}_in")),
            Sample((("direction", "out"),), self._traffic(f"{name}_out")),
        ]

    def dropped(self) -> list[Sample]:
        return [Sample((), self._traffic("frames_dropped"))]

    def slow_closes(self) -> list[Sample]:
        live = sum(s.close_code == 1013 for s in self._router.sessions.values())
        return [Sample((), float(self._totals.slow_closes + live))]

    def processes(self) -> list[Sample]:
        return [Sample((), float(_descendants()))]


def install_server_metrics(registry: MetricsRegistry, router: Router) -> TrafficTotals:
    """Register every server family; returns the totals the router must feed on session loss."""
    totals = TrafficTotals()
    read = _ServerCollectors(router, totals)
    counter, gauge = Kind.COUNTER, Kind.GAUGE
    for name, help, kind, collect in (
        ("goval_sessions", "Connected sessions.", gauge, read.sessions),
        ("goval_connections_total", "WebSocket sessions accepted.", counter, read.connections),
        ("goval_channels", "Live channels per service.", gauge, read.channels),
        ("goval_commands_total", "Commands (frames) received and sent.", counter, read.commands),
        ("goval_bytes_total", "Command bytes received and sent.", counter, read.bytes),
        ("goval_dropped_frames_total", DROPPED_HELP, counter, read.dropped),
        ("goval_slow_session_closes_total", "Sessions closed 1013.", counter, read.slow_closes),
        ("goval_processes", "Processes descended from the server.", gauge, read.processes),
    ):
        registry.collector(name, help, kind, collect)
    registry.counter(OT_COMMITS, OT_COMMITS_HELP)
    return totals


def request_histogram(registry: MetricsRegistry) -> Histogram:
    """The latency histogram channels observe each request into (label ``service``)."""
    return registry.histogram(REQUEST_SECONDS, "Time from a request to its final reply.")


def _descendants() -> int:
    """How many processes descend from this one (read from /proc at scrape time)."""
    children: dict[int, list[int]] = collections.defaultdict(list)
    try:
        names = os.listdir("/proc")
    except OSError:
        return 0
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                raw = stat.read()
        except OSError:
            continue  # it exited while we looked
        fields = raw[raw.rfind(b")") + 2 :].split()
        if len(fields) > 1:
            children[int(fields[1])].append(int(name))
    count, pending = 0, [os.getpid()]
    while pending:
        for child in children.get(pending.pop(), []):
            count += 1
            pending.append(child)
    return count
