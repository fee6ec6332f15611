import asyncio

import pytest

from goval._proto.api_pb2 import Command
from goval.client import (
    ChannelClosed,
    ChannelOpenError,
    ConnectionLost,
    ServerError,
    connect,
    websocket_url,
)
from goval.testing import running_server
from tests.server.kit import TEST_REGISTRY


@pytest.mark.parametrize(
    ("url", "token", "expected"),
    [
        ("http://h:1", "t", "ws://h:1/wsv2/t"),
        ("https://h", "a/b", "wss://h/wsv2/a%2Fb"),
        ("ws://h:1/wsv2/abc", None, "ws://h:1/wsv2/abc"),
        ("ws://h:1/wsv2/abc", "new", "ws://h:1/wsv2/new"),
    ],
)
def test_websocket_url_accepts_base_urls_and_full_urls(
    url: str, token: str | None, expected: str
) -> None:
    assert websocket_url(url, token) == expected


async def test_requests_are_matched_by_ref_and_pushes_are_iterated() -> None:
    async with running_server(registry=TEST_REGISTRY) as rs:
        async with rs.client("alice") as alice, rs.client("bob") as bob:
            a = await alice.open("echo", "room")
            b = await bob.open("echo", "room")
            assert (await a.receive()).output == "hello alice"
            assert (await b.receive()).output == "hello bob"
            replies = await asyncio.gather(*(a.request(Command(input=f"m{i}")) for i in range(20)))
            assert all(r.WhichOneof("body") == "ok" for r in replies)
            seen = []
            async for push in b:
                seen.append(push.output)
                if len(seen) == 20:
                    break
            assert sorted(seen) == sorted(f"m{i}" for i in range(20))


async def test_an_error_reply_raises_server_error_unless_unchecked() -> None:
    async with running_server(registry=TEST_REGISTRY) as rs, rs.client() as client:
        channel = await client.open("echo", "room")
        command = Command()
        command.write.path = "x"
        with pytest.raises(ServerError, match="unsupported command write on service echo"):
            await channel.request(command)
        reply = await channel.request(command, check=False)
        assert reply.error == "unsupported command write on service echo"


async def test_an_open_error_raises_channel_open_error() -> None:
    async with running_server() as rs, rs.client() as client:
        with pytest.raises(ChannelOpenError, match="unknown service: nope"):
            await client.open("nope")


async def test_closing_a_channel_ends_its_iteration() -> None:
    async with running_server() as rs, rs.client() as client:
        channel = await client.open("null")
        reply = await channel.aclose()
        assert reply is not None and reply.closeChanRes.id == channel.id
        assert [push async for push in channel] == []
        with pytest.raises(ChannelClosed):
            await channel.request(Command(input="x"))


async def test_the_client_reconnects_and_reattaches_named_channels() -> None:
    async with running_server(registry=TEST_REGISTRY) as rs:
        async with connect(rs.url, rs.token(), reconnect=True) as client:
            named = await client.open("echo", "room")
            await named.receive()
            anonymous = await client.open("null")
            old_session = client.session_id
            rs.server.router.sessions[old_session].close(1011, "test drop")
            await asyncio.wait_for(client.lost.wait(), 5)
            for _ in range(200):
                if (
                    client.reconnects
                    and client.session_id != old_session
                    and named.id in client._channels
                ):
                    break
                await asyncio.sleep(0.02)
            assert client.session_id != old_session
            greeting = await named.receive()  # the greeting again, on the same named channel
            assert greeting.output == "hello alice"
            assert (await named.request(Command(input="x"))).WhichOneof("body") == "ok"
            assert anonymous.closed


async def test_a_pending_request_fails_when_the_connection_is_lost() -> None:
    async with running_server() as rs:
        async with connect(rs.url, rs.token(), reconnect=False) as client:
            session = rs.server.router.sessions[client.session_id]
            session.close(1011, "bye")
            await asyncio.wait_for(client.lost.wait(), 5)
            with pytest.raises(ConnectionLost):
                await client.ping()


async def test_connecting_with_a_bad_token_fails_before_ready() -> None:
    async with running_server() as rs:
        with pytest.raises(ConnectionLost, match="closed before READY: 1008"):
            async with connect(rs.url, "bad"):
                pass
