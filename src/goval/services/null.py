"""The ``null`` service: accepts everything and replies to nothing.

The first plug-in and the smallest example of the service shape; useful to test channels.
"""

from __future__ import annotations

from goval._proto.api_pb2 import Command
from goval.identity import Role
from goval.services.base import Peer, Reply, Service


class NullService(Service):
    name = "null"
    min_role = Role.READ

    async def handle(self, peer: Peer, command: Command, body: str) -> Reply:
        # Everything is fire-and-forget here: the router answers ok{} when a ref asks for one.
        return None
