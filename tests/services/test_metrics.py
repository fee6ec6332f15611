"""metrics (protocol.md §4.16): MetricFamily bytes over the wire, text at GET /metrics, toasts."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from goval._proto.api_pb2 import ChatMessage, Command, Exec, Metrics, State
from goval.client import ChannelOpenError
from goval.identity import Role
from goval.services.metrics_format import encode_family, text_format
from goval.services.metrics_registry import Kind, MetricsRegistry, Sample
from goval.testing import RunningServer, running_server
from tests.services.foreign_protos import MetricFamily


def parse(data: bytes) -> Any:
    family = MetricFamily()
    family.ParseFromString(data)
    return family


def test_counters_histograms_and_gauges_decode_as_prometheus_metric_families() -> None:
    registry = MetricsRegistry()
    registry.counter("c_total", "a counter").inc(3, (("direction", "in"),))
    latency = registry.histogram("lat_seconds", "latency", bounds=(0.1, 1.0))
    for value in (0.05, 0.5, 5.0):
        latency.observe(value, (("service", "chat"),))
    registry.collector("g", "a gauge", Kind.GAUGE, lambda: [Sample((), 7.5)])

    counter, histogram, gauge = (parse(encode_family(f)) for f in registry.collect())

    assert (counter.name, counter.help, counter.type) == ("c_total", "a counter", 0)
    [metric] = counter.metric
    assert [(lp.name, lp.value) for lp in metric.label] == [("direction", "in")]
    assert metric.counter.value == 3
    assert histogram.type == 4
    h = histogram.metric[0].histogram
    assert (h.sample_count, h.sample_sum) == (3, 5.55)
    assert [(b.upper_bound, b.cumulative_count) for b in h.bucket] == [
        (0.1, 1),
        (1.0, 2),
        (float("inf"), 3),
    ]
    assert (gauge.type, gauge.metric[0].gauge.value) == (1, 7.5)


def test_the_text_format_follows_the_exposition_format() -> None:
    registry = MetricsRegistry()
    registry.counter("c_total", "help with \\ and\nnewline").inc(2, (("v", 'a"b'),))
    registry.histogram("h", "hist", bounds=(0.5,)).observe(0.25)
    assert text_format(registry.collect()) == (
        "# HELP c_total help with \\\\ and\\nnewline\n"
        "# TYPE c_total counter\n"
        'c_total{v="a\\"b"} 2\n'
        "# HELP h hist\n"
        "# TYPE h histogram\n"
        'h_bucket{le="0.5"} 1\n'
        'h_bucket{le="+Inf"} 1\n'
        "h_sum 0.25\n"
        "h_count 1\n"
    )


def by_name(reply: Command) -> dict[str, Any]:
    families = [parse(raw) for raw in reply.metrics.prometheusMetricFamilies]
    return {family.name: family for family in families}


def value(family: Any, **labels: str) -> float:
    for metric in family.metric:
        if {lp.name: lp.value for lp in metric.label} == labels:
            return float(metric.gauge.value if family.type == 1 else metric.counter.value)
    raise AssertionError(f"no {family.name} sample with {labels}")


async def test_an_owner_reads_live_server_metrics_over_the_metrics_channel() -> None:
    async with (
        running_server() as rs,
        rs.client("alice") as alice,
        rs.client("bob", Role.WRITE, user_id=2),
    ):
        chat = await alice.open("chat", "chat")
        await chat.request(Command(chatMessage=ChatMessage(text="x")))
        metrics = await alice.open("metrics")
        families = by_name(await metrics.request(Command(metrics=Metrics())))

        assert value(families["goval_sessions"]) == 2
        assert value(families["goval_connections_total"]) == 2
        assert value(families["goval_channels"], service="chat") == 1
        assert value(families["goval_channels"], service="metrics") == 1
        assert value(families["goval_commands_total"], direction="in") >= 3
        assert value(families["goval_commands_total"], direction="out") >= 8  # handshakes + replies
        assert value(families["goval_bytes_total"], direction="in") > 0
        assert value(families["goval_ot_commits_total"]) == 0
        latency = families["goval_request_duration_seconds"]
        [chat_latency] = [m for m in latency.metric if m.label[0].value == "chat"]
        assert chat_latency.histogram.sample_count == 1


async def test_counters_keep_the_traffic_of_sessions_that_left() -> None:
    async with running_server() as rs:
        async with rs.client("gone") as gone:
            for _ in range(5):
                await gone.ping()
        async with rs.client("alice") as alice:
            metrics = await alice.open("metrics")
            families = by_name(await metrics.request(Command(metrics=Metrics())))
        assert value(families["goval_commands_total"], direction="in") >= 7
        assert value(families["goval_connections_total"]) == 2


@pytest.mark.parametrize("role", [Role.READ, Role.WRITE])
async def test_only_the_owner_may_open_metrics(role: Role) -> None:
    async with running_server() as rs, rs.client("guest", role) as client:
        with pytest.raises(ChannelOpenError, match="^permission denied: metrics$"):
            await client.open("metrics")


async def http(
    rs: RunningServer, method: str, path: str, token: str | None = None, **kw: Any
) -> tuple[int, str]:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as session:
        async with session.request(method, rs.url + path, headers=headers, **kw) as response:
            return response.status, await response.text()


async def test_get_metrics_needs_an_owner_token_or_the_scrape_token() -> None:
    async with running_server(metrics_token="scrape-me") as rs:
        status, text = await http(rs, "GET", "/metrics", rs.token("alice", Role.OWNER))
        assert status == 200
        assert "# TYPE goval_sessions gauge\ngoval_sessions 0\n" in text
        assert 'goval_commands_total{direction="in"}' in text
        assert (await http(rs, "GET", "/metrics", "scrape-me"))[0] == 200
        assert (await http(rs, "GET", "/metrics"))[0] == 401
        assert (await http(rs, "GET", "/metrics", "nonsense"))[0] == 401
        assert (await http(rs, "GET", "/metrics", rs.token("bob", Role.WRITE)))[0] == 403
        assert (await http(rs, "GET", "/metrics", rs.token("eve", Role.READ)))[0] == 403


async def test_get_metrics_needs_no_token_in_no_auth_mode() -> None:
    async with running_server(no_auth=True) as rs:
        assert (await http(rs, "GET", "/metrics"))[0] == 200


async def test_an_owner_toast_reaches_every_session_and_others_cannot_send_one() -> None:
    async with (
        running_server(metrics_token="scrape-me") as rs,
        rs.client("alice") as alice,
        rs.client("guest", Role.READ, user_id=2) as guest,
    ):
        assert (await http(rs, "POST", "/toast", rs.token("bob", Role.WRITE), data="no"))[0] == 403
        assert (await http(rs, "POST", "/toast", "scrape-me", data="no"))[0] == 401
        assert (await http(rs, "POST", "/toast", rs.token(), data="  "))[0] == 400
        status, _ = await http(rs, "POST", "/toast", rs.token(), json={"text": "maintenance at 5"})
        assert status == 204
        for client in (alice, guest):
            notice = await asyncio.wait_for(client.notices.get(), 5)
            assert (notice.channel, notice.session, notice.toast.text) == (0, 0, "maintenance at 5")
        assert alice.notices.empty() and guest.notices.empty()  # the refused toasts never went out


async def test_the_process_gauge_counts_a_running_workspace_process() -> None:
    async with running_server() as rs, rs.client("alice") as alice:
        metrics = await alice.open("metrics")

        async def processes() -> float:
            reply = await metrics.request(Command(metrics=Metrics()))
            return value(by_name(reply)["goval_processes"])

        before = await processes()
        execer = await alice.open("exec")
        execer.send(Command(exec=Exec(args=["sleep", "30"])))
        running = await execer.receive()
        assert running.state == State.Running
        assert await processes() == before + 1
        clear = Command()
        clear.clear.SetInParent()
        await execer.request(clear)
