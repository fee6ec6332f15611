"""Collected metric families → the two formats clients read.

``encode_family`` writes one ``io.prometheus.client.MetricFamily`` (metrics.proto, proto2) as the
``metrics`` service sends it; ``text_format`` writes the Prometheus text exposition format
(version 0.0.4) for ``GET /metrics``. Field numbers are from prometheus/client_model's
metrics.proto: MetricFamily{name 1, help 2, type 3, metric 4}, Metric{label 1, gauge 2, counter 3,
histogram 7}, LabelPair{name 1, value 2}, Gauge/Counter{value 1},
Histogram{sample_count 1, sample_sum 2, bucket 3}, Bucket{cumulative_count 1, upper_bound 2}.
"""

from __future__ import annotations

import math

from goval.services.metrics_registry import Family, HistogramValue, Kind, Labels, Sample
from goval.services.protowire import Message

__all__ = ["TEXT_CONTENT_TYPE", "encode_family", "text_format"]

TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def encode_family(family: Family) -> bytes:
    """One serialized MetricFamily."""
    message = Message().string(1, family.name).string(2, family.help).varint(3, family.kind)
    for sample in family.samples:
        message.message(4, _metric(family.kind, sample))
    return message.encode()


def _metric(kind: Kind, sample: Sample) -> Message:
    metric = Message()
    for name, value in sample.labels:
        metric.message(1, Message().string(1, name).string(2, value))
    if isinstance(sample.value, HistogramValue):
        metric.message(7, _histogram(sample.value))
    elif kind == Kind.COUNTER:
        metric.message(3, Message().double(1, sample.value))
    else:
        metric.message(2, Message().double(1, sample.value))
    return metric


def _histogram(value: HistogramValue) -> Message:
    histogram = Message().varint(1, value.count).double(2, value.total)
    for bound, count in zip(value.bounds, value.cumulative, strict=True):
        histogram.message(3, Message().varint(1, count).double(2, bound))
    # The +Inf bucket is implied by sample_count in the protobuf format, but writing it keeps
    # naive readers (and Prometheus' own text converter) in agreement.
    histogram.message(3, Message().varint(1, value.count).double(2, math.inf))
    return histogram


def text_format(families: list[Family]) -> str:
    """The Prometheus text exposition of ``families``."""
    lines: list[str] = []
    for family in families:
        kind = {Kind.COUNTER: "counter", Kind.GAUGE: "gauge", Kind.HISTOGRAM: "histogram"}
        lines.append(f"# HELP {family.name} {_escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {kind[family.kind]}")
        for sample in family.samples:
            if isinstance(sample.value, HistogramValue):
                lines.extend(_histogram_lines(family.name, sample.labels, sample.value))
            else:
                lines.append(f"{family.name}{_labels(sample.labels)} {_number(sample.value)}")
    return "\n".join(lines) + "\n"


def _histogram_lines(name: str, labels: Labels, value: HistogramValue) -> list[str]:
    lines = []
    for bound, count in zip(value.bounds, value.cumulative, strict=True):
        lines.append(f"{name}_bucket{_labels((*labels, ('le', _number(bound))))} {count}")
    lines.append(f"{name}_bucket{_labels((*labels, ('le', '+Inf')))} {value.count}")
    lines.append(f"{name}_sum{_labels(labels)} {_number(value.total)}")
    lines.append(f"{name}_count{_labels(labels)} {value.count}")
    return lines


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{name}="{_escape_value(value)}"' for name, value in labels)
    return "{" + inner + "}"


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
