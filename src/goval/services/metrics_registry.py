"""The server's metrics: counters, histograms and gauges read at scrape time.

One :class:`MetricsRegistry` per server, shared through ``ServerPort.shared(REGISTRY_KEY, ...)``
so the router, channels and services (e.g. the OT service's commit counter) feed the same one
that the ``metrics`` service and ``GET /metrics`` read. Hot paths pay an int or float addition:
per-session traffic is kept as plain attributes on the session and summed by a *collector*
(a callable run only when somebody scrapes). Formatting lives in ``metrics_format``.
"""

from __future__ import annotations

import bisect
import enum
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

__all__ = [
    "DEFAULT_BUCKETS",
    "OT_COMMITS",
    "OT_COMMITS_HELP",
    "REGISTRY_KEY",
    "Counter",
    "Family",
    "Histogram",
    "HistogramValue",
    "Kind",
    "MetricsRegistry",
    "Sample",
]

REGISTRY_KEY = "goval.metrics"
# The OT service counts commits here: ``shared(REGISTRY_KEY, MetricsRegistry).counter(OT_COMMITS,
# OT_COMMITS_HELP).inc()``; the server registers it at start so it is exported even at zero.
OT_COMMITS = "goval_ot_commits_total"
OT_COMMITS_HELP = "OT packets committed."
# Seconds; request latencies of a workspace server range from µs (stat) to minutes (installs).
DEFAULT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10)

Labels = tuple[tuple[str, str], ...]


class Kind(enum.IntEnum):
    """Prometheus' MetricType numbers."""

    COUNTER = 0
    GAUGE = 1
    HISTOGRAM = 4


@dataclass(frozen=True)
class HistogramValue:
    """Cumulative bucket counts (one per upper bound, +Inf implied by ``count``)."""

    bounds: tuple[float, ...]
    cumulative: tuple[int, ...]
    count: int
    total: float


@dataclass(frozen=True)
class Sample:
    labels: Labels
    value: float | HistogramValue


@dataclass(frozen=True)
class Family:
    """One metric family as collected: what both output formats are made from."""

    name: str
    help: str
    kind: Kind
    samples: list[Sample] = field(default_factory=list)


class Counter:
    """A monotonically increasing value per label set."""

    def __init__(self) -> None:
        self.values: dict[Labels, float] = {(): 0.0}

    def inc(self, amount: float = 1.0, labels: Labels = ()) -> None:
        self.values[labels] = self.values.get(labels, 0.0) + amount

    def samples(self) -> list[Sample]:
        if len(self.values) > 1 and self.values[()] == 0.0:
            return [Sample(k, v) for k, v in self.values.items() if k]
        return [Sample(k, v) for k, v in self.values.items()]


class _Buckets:
    __slots__ = ("counts", "total")

    def __init__(self, size: int) -> None:
        self.counts = [0] * size
        self.total = 0.0


class Histogram:
    """Observations per label set in fixed buckets (Prometheus ``le`` semantics)."""

    def __init__(self, bounds: tuple[float, ...] = DEFAULT_BUCKETS) -> None:
        self.bounds = bounds
        self._series: dict[Labels, _Buckets] = {}

    def observe(self, value: float, labels: Labels = ()) -> None:
        series = self._series.get(labels)
        if series is None:
            series = self._series[labels] = _Buckets(len(self.bounds) + 1)
        series.counts[bisect.bisect_left(self.bounds, value)] += 1
        series.total += value

    def samples(self) -> list[Sample]:
        out = []
        for labels, series in self._series.items():
            cumulative, running = [], 0
            for count in series.counts[:-1]:
                running += count
                cumulative.append(running)
            value = HistogramValue(
                self.bounds, tuple(cumulative), running + series.counts[-1], series.total
            )
            out.append(Sample(labels, value))
        return out


Collector = Callable[[], Iterable[Sample]]


class MetricsRegistry:
    """Every metric of one server, by name, in registration order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._families: dict[str, tuple[str, Kind, Counter | Histogram | Collector]] = {}

    def counter(self, name: str, help: str) -> Counter:
        """The counter ``name`` (created on first use; the same object afterwards)."""
        return self._get(name, help, Kind.COUNTER, Counter)  # type: ignore[return-value]

    def histogram(
        self, name: str, help: str, bounds: tuple[float, ...] = DEFAULT_BUCKETS
    ) -> Histogram:
        return self._get(name, help, Kind.HISTOGRAM, lambda: Histogram(bounds))  # type: ignore[return-value]

    def collector(self, name: str, help: str, kind: Kind, collect: Collector) -> None:
        """A family computed at scrape time (gauges, or counters kept elsewhere)."""
        with self._lock:
            self._families[name] = (help, kind, collect)

    def _get(
        self, name: str, help: str, kind: Kind, factory: Callable[[], Counter | Histogram]
    ) -> Counter | Histogram:
        with self._lock:
            if name not in self._families:
                self._families[name] = (help, kind, factory())
            metric = self._families[name][2]
        if not isinstance(metric, Counter | Histogram) or self._families[name][1] != kind:
            raise ValueError(f"metric {name} is already registered as another kind")
        return metric

    def collect(self) -> list[Family]:
        """A consistent-enough snapshot of every family (collectors run now)."""
        with self._lock:
            entries = list(self._families.items())
        families = []
        for name, (help, kind, source) in entries:
            samples = source.samples() if isinstance(source, Counter | Histogram) else source()
            families.append(Family(name, help, kind, list(samples)))
        return families
