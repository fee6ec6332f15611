"""The ``presence`` service (protocol.md §4.9): who is attached to the channel.

A newcomer gets the roster (every member by session id, itself included); the others get
``join``, and ``part`` when a session detaches or its socket drops. One entry per session, so a
user with two tabs appears twice. Clients send nothing: any body is unsupported.
"""

from __future__ import annotations

from goval._proto.api_pb2 import Command, Roster
from goval.identity import Role
from goval.services.base import Peer, Service, user_of

__all__ = ["PresenceService"]


class PresenceService(Service):
    name = "presence"
    min_role = Role.READ

    async def attach(self, peer: Peer) -> None:
        members = sorted(self.ctx.channel.peers(), key=lambda member: member.session_id)
        if all(member.session_id != peer.session_id for member in members):
            members.append(peer)
        roster = Roster(user=[user_of(member) for member in members])
        self.ctx.channel.send(peer, Command(roster=roster))
        self.ctx.channel.broadcast(Command(join=user_of(peer)), exclude=peer)

    async def detach(self, peer: Peer) -> None:
        # The channel has already stopped sending to the leaver: the rest get the part.
        self.ctx.channel.broadcast(Command(part=user_of(peer)), exclude=peer)
