"""Independent decoders for the foreign schemas goval writes by hand (MetricFamily, pprof).

The message classes are built by the real protobuf library from descriptors written here from
the upstream .proto files (prometheus/client_model metrics.proto, google/pprof profile.proto),
so a test that parses goval's bytes with them checks the hand-rolled encoders against protobuf
itself, not against themselves.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

F = descriptor_pb2.FieldDescriptorProto
OPTIONAL, REPEATED = F.LABEL_OPTIONAL, F.LABEL_REPEATED


def _message(file: Any, name: str, *fields: tuple[str, int, int, int, str]) -> None:
    message = file.message_type.add(name=name)
    for field_name, number, label, kind, type_name in fields:
        field = message.field.add(name=field_name, number=number, label=label, type=kind)
        if type_name:
            field.type_name = type_name


def _metrics_file() -> descriptor_pb2.FileDescriptorProto:
    file = descriptor_pb2.FileDescriptorProto(
        name="test_metrics.proto", package="io.prometheus.client", syntax="proto2"
    )
    kind = file.enum_type.add(name="MetricType")
    for index, name in enumerate(["COUNTER", "GAUGE", "SUMMARY", "UNTYPED", "HISTOGRAM"]):
        kind.value.add(name=name, number=index)
    p = ".io.prometheus.client."
    _message(
        file,
        "LabelPair",
        ("name", 1, OPTIONAL, F.TYPE_STRING, ""),
        ("value", 2, OPTIONAL, F.TYPE_STRING, ""),
    )
    _message(file, "Gauge", ("value", 1, OPTIONAL, F.TYPE_DOUBLE, ""))
    _message(file, "Counter", ("value", 1, OPTIONAL, F.TYPE_DOUBLE, ""))
    _message(
        file,
        "Bucket",
        ("cumulative_count", 1, OPTIONAL, F.TYPE_UINT64, ""),
        ("upper_bound", 2, OPTIONAL, F.TYPE_DOUBLE, ""),
    )
    _message(
        file,
        "Histogram",
        ("sample_count", 1, OPTIONAL, F.TYPE_UINT64, ""),
        ("sample_sum", 2, OPTIONAL, F.TYPE_DOUBLE, ""),
        ("bucket", 3, REPEATED, F.TYPE_MESSAGE, p + "Bucket"),
    )
    _message(
        file,
        "Metric",
        ("label", 1, REPEATED, F.TYPE_MESSAGE, p + "LabelPair"),
        ("gauge", 2, OPTIONAL, F.TYPE_MESSAGE, p + "Gauge"),
        ("counter", 3, OPTIONAL, F.TYPE_MESSAGE, p + "Counter"),
        ("histogram", 7, OPTIONAL, F.TYPE_MESSAGE, p + "Histogram"),
        ("timestamp_ms", 6, OPTIONAL, F.TYPE_INT64, ""),
    )
    _message(
        file,
        "MetricFamily",
        ("name", 1, OPTIONAL, F.TYPE_STRING, ""),
        ("help", 2, OPTIONAL, F.TYPE_STRING, ""),
        ("type", 3, OPTIONAL, F.TYPE_ENUM, p + "MetricType"),
        ("metric", 4, REPEATED, F.TYPE_MESSAGE, p + "Metric"),
    )
    return file


def _profile_file() -> descriptor_pb2.FileDescriptorProto:
    file = descriptor_pb2.FileDescriptorProto(
        name="test_profile.proto", package="perftools.profiles", syntax="proto3"
    )
    p = ".perftools.profiles."
    i64, u64 = F.TYPE_INT64, F.TYPE_UINT64
    _message(file, "ValueType", ("type", 1, OPTIONAL, i64, ""), ("unit", 2, OPTIONAL, i64, ""))
    _message(file, "Sample", ("location_id", 1, REPEATED, u64, ""), ("value", 2, REPEATED, i64, ""))
    _message(file, "Line", ("function_id", 1, OPTIONAL, u64, ""), ("line", 2, OPTIONAL, i64, ""))
    _message(
        file,
        "Location",
        ("id", 1, OPTIONAL, u64, ""),
        ("mapping_id", 2, OPTIONAL, u64, ""),
        ("address", 3, OPTIONAL, u64, ""),
        ("line", 4, REPEATED, F.TYPE_MESSAGE, p + "Line"),
    )
    _message(
        file,
        "Function",
        ("id", 1, OPTIONAL, u64, ""),
        ("name", 2, OPTIONAL, i64, ""),
        ("system_name", 3, OPTIONAL, i64, ""),
        ("filename", 4, OPTIONAL, i64, ""),
        ("start_line", 5, OPTIONAL, i64, ""),
    )
    _message(
        file,
        "Profile",
        ("sample_type", 1, REPEATED, F.TYPE_MESSAGE, p + "ValueType"),
        ("sample", 2, REPEATED, F.TYPE_MESSAGE, p + "Sample"),
        ("location", 4, REPEATED, F.TYPE_MESSAGE, p + "Location"),
        ("function", 5, REPEATED, F.TYPE_MESSAGE, p + "Function"),
        ("string_table", 6, REPEATED, F.TYPE_STRING, ""),
        ("time_nanos", 9, OPTIONAL, i64, ""),
        ("duration_nanos", 10, OPTIONAL, i64, ""),
        ("period_type", 11, OPTIONAL, F.TYPE_MESSAGE, p + "ValueType"),
        ("period", 12, OPTIONAL, i64, ""),
    )
    return file


_pool = descriptor_pool.DescriptorPool()
_pool.Add(_metrics_file())
_pool.Add(_profile_file())
MetricFamily: Any = message_factory.GetMessageClass(
    _pool.FindMessageTypeByName("io.prometheus.client.MetricFamily")
)
Profile: Any = message_factory.GetMessageClass(
    _pool.FindMessageTypeByName("perftools.profiles.Profile")
)
