"""chat (protocol.md §4.10, Example 5): forwarding, usernames, limits, scrollback, persistence."""

from __future__ import annotations

from pathlib import Path

import pytest

from goval._proto.api_pb2 import ChatMessage, ChatTyping, Command, ReadMeta
from goval.client import ServerError
from goval.identity import Role
from goval.services.chat import ChatService
from goval.testing import ServiceHarness, running_server


def message(text: str, username: str = "") -> Command:
    return Command(chatMessage=ChatMessage(username=username, text=text))


async def test_example_5_typing_and_message_go_to_the_others_and_carol_gets_scrollback(
    tmp_path: Path,
) -> None:
    h = ServiceHarness(ChatService, tmp_path, channel_name="chat")
    alice = await h.attach("alice", Role.WRITE, user_id=1)
    bob = await h.attach("bob", Role.READ, user_id=2)
    assert alice.received == [] and bob.received == []  # no history yet: no scrollback

    assert await h.request(alice, Command(chatTyping=ChatTyping(username="x", typing=True))) is None
    assert await h.request(alice, message("hi bob", username="mallory")) is None

    typing, forwarded = bob.received
    assert (typing.chatTyping.username, typing.chatTyping.typing, typing.session) == (
        "alice",
        True,
        -2,
    )
    assert (forwarded.chatMessage.username, forwarded.chatMessage.text) == ("alice", "hi bob")
    assert alice.received == []  # never echoed
    carol = await h.attach("carol", Role.READ, user_id=3)
    [greeting] = carol.received
    assert [(m.username, m.text) for m in greeting.chatScrollback.scrollback] == [
        ("alice", "hi bob")
    ]
    await h.aclose()


async def test_a_message_over_64_kib_is_refused_and_not_forwarded(tmp_path: Path) -> None:
    h = ServiceHarness(ChatService, tmp_path, channel_name="chat")
    alice = await h.attach("alice")
    bob = await h.attach("bob", user_id=2)
    reply = await h.request(alice, message("é" * (32 * 1024 + 1)))
    assert reply is not None and reply.error == "message too long"
    assert bob.received == []
    assert await h.request(alice, message("x" * 64 * 1024)) is None
    assert len(bob.received) == 1
    await h.aclose()


async def test_only_the_last_100_messages_are_kept_oldest_first(tmp_path: Path) -> None:
    h = ServiceHarness(ChatService, tmp_path, channel_name="chat")
    alice = await h.attach("alice")
    for n in range(105):
        await h.request(alice, message(f"m{n}"))
    late = await h.attach("late", user_id=2)
    texts = [m.text for m in late.received[0].chatScrollback.scrollback]
    assert texts == [f"m{n}" for n in range(5, 105)]
    await h.aclose()


async def test_an_anonymous_chat_keeps_history_in_memory_only(tmp_path: Path) -> None:
    h = ServiceHarness(ChatService, tmp_path, channel_name="")
    alice = await h.attach("alice")
    await h.request(alice, message("ephemeral"))
    late = await h.attach("late", user_id=2)
    assert [m.text for m in late.received[0].chatScrollback.scrollback] == ["ephemeral"]
    await h.aclose()
    again = ServiceHarness(ChatService, tmp_path, channel_name="chat")
    newcomer = await again.attach("new")
    assert newcomer.received == []
    await again.aclose()


async def test_chat_scrollback_survives_a_server_restart(tmp_path: Path) -> None:
    async with running_server(tmp_path) as rs, rs.client("alice") as alice:
        chat = await alice.open("chat", "chat")
        await chat.request(message("before the restart"))
    async with running_server(tmp_path) as rs, rs.client("bob", Role.READ, user_id=2) as bob:
        chat = await bob.open("chat", "chat")
        greeting = await chat.receive(timeout=5)
        assert [(m.username, m.text) for m in greeting.chatScrollback.scrollback] == [
            ("alice", "before the restart")
        ]


async def test_a_chat_message_with_a_ref_gets_ok_and_reaches_the_other_client() -> None:
    async with running_server() as rs:
        async with rs.client("alice") as alice, rs.client("bob", Role.READ, user_id=2) as bob:
            a = await alice.open("chat", "chat")
            b = await bob.open("chat", "chat")
            reply = await b.request(message("read-only guests may chat"))
            assert reply.WhichOneof("body") == "ok"
            got = await a.receive(timeout=5)
            assert (got.chatMessage.username, got.chatMessage.text, got.session) == (
                "bob",
                "read-only guests may chat",
                -bob.session_id,
            )
            with pytest.raises(ServerError, match="^unsupported command readMeta on service chat$"):
                await a.request(Command(readMeta=ReadMeta(key="k")))


async def test_the_number_of_kept_messages_is_a_server_setting(tmp_path: Path) -> None:
    async with running_server(tmp_path, chat_history=3) as rs:
        async with rs.client("alice") as alice:
            chat = await alice.open("chat", "chat")
            for n in range(5):
                await chat.request(message(f"m{n}"))
        async with rs.client("bob", user_id=2) as bob:
            chat = await bob.open("chat", "chat")
            greeting = await chat.receive()
            assert [m.text for m in greeting.chatScrollback.scrollback] == ["m2", "m3", "m4"]
