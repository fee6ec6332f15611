"""The built-in services, and lookup by wire name (aliases canonicalised)."""

from __future__ import annotations

from collections.abc import Iterable

from goval.services.base import Service
from goval.services.null import NullService

__all__ = ["BUILTIN_SERVICES", "ServiceRegistry"]

BUILTIN_SERVICES: tuple[type[Service], ...] = (NullService,)


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
