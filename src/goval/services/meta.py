"""The ``meta`` service (protocol.md §4.15): a persistent key-value store of bytes.

readMeta / writeMeta / appendMeta over ``goval.storage.MetaStore`` (SQLite, keys 1–256 bytes,
values ≤ 1 MiB; the store raises ``invalid key`` / ``value too large`` and changes nothing).
"""

from __future__ import annotations

from goval._proto.api_pb2 import Command, ReadMeta
from goval.identity import Role
from goval.services.base import Peer, Reply, Service, ServiceContext, ok
from goval.storage import MetaStore

__all__ = ["MetaService"]


class MetaService(Service):
    name = "meta"
    min_role = Role.WRITE

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        self._store = MetaStore(ctx.resources.database)

    async def handle(self, peer: Peer, command: Command, body: str) -> Reply:
        match body:
            case "readMeta":
                key = command.readMeta.key
                data = self._store.read(key)
                return Command(
                    readMeta=ReadMeta(key=key, exists=data is not None, data=data or b"")
                )
            case "writeMeta":
                self._store.write(command.writeMeta.key, command.writeMeta.data)
                return ok()
            case "appendMeta":
                self._store.append(command.appendMeta.key, command.appendMeta.data)
                return ok()
        return await super().handle(peer, command, body)
