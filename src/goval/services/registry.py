"""The built-in services, and lookup by wire name (aliases canonicalised)."""

from __future__ import annotations

from collections.abc import Iterable

from goval.services.base import Service
from goval.services.chat import ChatService
from goval.services.eval import EvalService
from goval.services.execution import ExecService
from goval.services.files import FilesService, GcsFilesService
from goval.services.fsevents import FsEventsService
from goval.services.interp import InterpService
from goval.services.meta import MetaService
from goval.services.metrics import MetricsService
from goval.services.null import NullService
from goval.services.ot import OTService
from goval.services.pprof import PprofService
from goval.services.presence import PresenceService
from goval.services.runner import RunnerService
from goval.services.shell import ShellService
from goval.services.snapshot import SnapshotService
from goval.services.tunnel import SocketService

__all__ = ["BUILTIN_SERVICES", "ServiceRegistry"]

BUILTIN_SERVICES: tuple[type[Service], ...] = (
    NullService,
    OTService,
    PresenceService,
    ChatService,
    MetaService,
    MetricsService,
    PprofService,
    ExecService,
    EvalService,
    SocketService,
    GcsFilesService,
    FilesService,
    FsEventsService,
    SnapshotService,
    ShellService,
    RunnerService,
    InterpService,
)


class ServiceRegistry:
    """Maps every wire name and alias to its service class."""

    def __init__(self, services: Iterable[type[Service]] = BUILTIN_SERVICES) -> None:
        self._by_name: dict[str, type[Service]] = {}
        for service in services:
            for wire_name in (service.name, *service.aliases):
                if wire_name in self._by_name:
                    raise ValueError(f"two services claim the wire name {wire_name!r}")
                self._by_name[wire_name] = service

    def lookup(self, wire_name: str) -> type[Service] | None:
        return self._by_name.get(wire_name)

    def names(self) -> list[str]:
        return sorted({service.name for service in self._by_name.values()})
