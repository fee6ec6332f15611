"""The ``metrics`` service (protocol.md §4.16, owner only).

``metrics{}`` → ``metrics{prometheusMetricFamilies}``: every family of the server's registry,
each a serialized ``io.prometheus.client.MetricFamily``. The same registry is served as text at
``GET /metrics``.
"""

from __future__ import annotations

from goval._proto.api_pb2 import Command, Metrics
from goval.identity import Role
from goval.services.base import Peer, Reply, Service
from goval.services.metrics_format import encode_family
from goval.services.metrics_registry import REGISTRY_KEY, MetricsRegistry

__all__ = ["MetricsService"]


class MetricsService(Service):
    name = "metrics"
    min_role = Role.OWNER

    async def handle(self, peer: Peer, command: Command, body: str) -> Reply:
        match body:
            case "metrics":
                registry = self.ctx.server.shared(REGISTRY_KEY, MetricsRegistry)
                families = [encode_family(family) for family in registry.collect()]
                return Command(metrics=Metrics(prometheusMetricFamilies=families))
        return await super().handle(peer, command, body)
