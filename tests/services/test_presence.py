"""presence (protocol.md §4.9): roster on attach, join to the others, part on detach and loss."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from goval._proto.api_pb2 import ChatMessage, ChatTyping, Command
from goval.client import Channel, ServerError
from goval.identity import Role
from goval.services.presence import PresenceService
from goval.testing import ServiceHarness, running_server


def users(command: Command) -> list[tuple[int, str, list[str], int]]:
    return [(u.id, u.name, list(u.roles), u.session) for u in command.roster.user]


async def test_the_newcomer_gets_a_roster_of_everyone_including_itself(tmp_path: Path) -> None:
    h = ServiceHarness(PresenceService, tmp_path, channel_name="presence")
    alice = await h.attach("alice", Role.OWNER, user_id=1)
    bob = await h.attach("bob", Role.READ, user_id=2)

    [roster] = bob.received
    assert users(roster) == [
        (1, "alice", ["owner"], alice.session_id),
        (2, "bob", ["read"], bob.session_id),
    ]
    assert roster.session == bob.session_id
    [join] = alice.received[1:]
    assert (join.join.name, join.join.session, join.session) == (
        "bob",
        bob.session_id,
        -bob.session_id,
    )
    await h.aclose()


async def test_a_detach_sends_part_to_the_rest_only(tmp_path: Path) -> None:
    h = ServiceHarness(PresenceService, tmp_path, channel_name="presence")
    alice = await h.attach("alice")
    bob = await h.attach("bob", Role.WRITE, user_id=2)
    await h.detach(bob)

    part = alice.received[-1]
    assert part.WhichOneof("body") == "part"
    assert (part.part.name, part.part.session, part.session) == (
        "bob",
        bob.session_id,
        -bob.session_id,
    )
    assert [c.WhichOneof("body") for c in bob.received] == ["roster"]
    await h.aclose()


async def test_presence_accepts_nothing_from_clients(tmp_path: Path) -> None:
    h = ServiceHarness(PresenceService, tmp_path)
    alice = await h.attach("alice")
    reply = await h.request(alice, Command(chatMessage=ChatMessage(text="hi")))
    assert reply is not None
    assert reply.error == "unsupported command chatMessage on service presence"
    await h.aclose()


async def next_body(channel: Channel, body: str) -> Command:
    return (await channel.receive_until(body, timeout=5))[-1]


async def test_the_same_user_in_two_tabs_is_two_entries_and_a_dropped_socket_parts() -> None:
    async with running_server() as rs, rs.client("alice", user_id=1) as tab1:
        p1 = await tab1.open("presence", "presence")
        await next_body(p1, "roster")
        async with rs.client("alice", user_id=1) as tab2:
            p2 = await tab2.open("presence", "presence")
            roster = await next_body(p2, "roster")
            assert [u.session for u in roster.roster.user] == [tab1.session_id, tab2.session_id]
            join = await next_body(p1, "join")
            assert join.join.session == tab2.session_id
            # Drop the socket without closing the channel: socket loss must part too.
            session = rs.server.router.sessions[tab2.session_id]
            session.close(1011, "test drop")
            part = await next_body(p1, "part")
        assert (part.part.session, part.part.name, part.session) == (
            tab2.session_id,
            "alice",
            -tab2.session_id,
        )


async def test_a_read_only_guest_may_watch_presence() -> None:
    async with running_server() as rs, rs.client("guest", Role.READ, user_id=9) as guest:
        channel = await guest.open("presence", "presence")
        roster = await next_body(channel, "roster")
        assert [(u.name, list(u.roles)) for u in roster.roster.user] == [("guest", ["read"])]
        with pytest.raises(ServerError, match="^unsupported command"):
            await channel.request(Command(chatTyping=ChatTyping(typing=True)))
        assert channel.drain() == []
        await asyncio.sleep(0)
