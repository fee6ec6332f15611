import time

import aiohttp
import jwt
import pytest

from goval._proto.api_pb2 import BootStatus, Command, ContainerState
from goval.identity import Role
from goval.server.app import token_from_path
from goval.testing import running_server
from tests.server.kit import raw_socket


async def test_handshake_is_boot_stages_then_ready_and_session_ids_start_at_two() -> None:
    async with running_server() as rs:
        token = rs.token()
        async with raw_socket(rs.ws_url(token)) as first, raw_socket(rs.ws_url(token)) as second:
            stages = [c.bootStatus.stage for c in first.handshake[:3]]
            assert stages == [BootStatus.HANDSHAKE, BootStatus.ACQUIRING, BootStatus.COMPLETE]
            assert first.handshake[3].containerState.state == ContainerState.READY
            assert len(first.handshake) == 4
            assert {c.session for c in first.handshake} == {2}
            assert second.session_id == 3


async def test_session_ids_are_never_reused() -> None:
    async with running_server() as rs:
        url = rs.ws_url(rs.token())
        seen = []
        for _ in range(3):
            async with raw_socket(url) as raw:
                seen.append(raw.session_id)
        assert seen == [2, 3, 4]


async def test_ping_gets_pong_with_the_same_ref() -> None:
    async with running_server() as rs, raw_socket(rs.ws_url(rs.token())) as raw:
        ping = Command(ref="1kq7")
        ping.ping.SetInParent()
        pong = await raw.request(ping)
        assert pong.WhichOneof("body") == "pong"
        assert (pong.ref, pong.session, pong.channel) == ("1kq7", raw.session_id, 0)


async def test_websocket_pings_are_answered() -> None:
    async with running_server() as rs, raw_socket(rs.ws_url(rs.token())) as raw:
        await raw.ws.ping(b"are you there")
        ping = Command(ref="after")
        ping.ping.SetInParent()
        assert (await raw.request(ping)).ref == "after"


async def test_a_text_frame_closes_1003() -> None:
    async with running_server() as rs, raw_socket(rs.ws_url(rs.token())) as raw:
        await raw.ws.send_str("hello")
        assert await raw.close_code() == 1003


async def test_an_oversized_frame_closes_1009() -> None:
    async with running_server(max_message=1024) as rs, raw_socket(rs.ws_url(rs.token())) as raw:
        await raw.ws.send_bytes(Command(output="x" * 4096).SerializeToString())
        assert await raw.close_code() == 1009


async def test_garbage_is_answered_twice_then_the_third_closes_1002() -> None:
    async with running_server() as rs, raw_socket(rs.ws_url(rs.token())) as raw:
        for _ in range(2):
            await raw.ws.send_bytes(b"\xff\xff\xff")
            reply = await raw.receive()
            assert reply.error.startswith("invalid command: ") and reply.ref == ""
        await raw.ws.send_bytes(b"\xff\xff\xff")
        assert await raw.close_code() == 1002


async def test_garbage_does_not_harm_another_session() -> None:
    async with running_server() as rs:
        token = rs.token()
        async with raw_socket(rs.ws_url(token)) as bad, rs.client() as good:
            for _ in range(3):
                await bad.ws.send_bytes(b"\xff\xff\xff")
            assert await bad.close_code() == 1002
            assert await good.ping() < 5


async def test_a_command_without_body_gets_empty_command() -> None:
    async with running_server() as rs, raw_socket(rs.ws_url(rs.token())) as raw:
        reply = await raw.request(Command(ref="e"))
        assert (reply.error, reply.ref) == ("empty command", "e")


async def test_a_command_on_a_foreign_channel_is_refused_on_channel_zero() -> None:
    async with running_server() as rs:
        token = rs.token()
        async with raw_socket(rs.ws_url(token)) as owner, raw_socket(rs.ws_url(token)) as other:
            opened = await owner.open("null")
            channel_id = opened.openChanRes.id
            reply = await other.request(Command(channel=channel_id, ref="f", input="x"))
            assert reply.channel == 0
            assert (reply.error, reply.ref) == (f"not attached to channel {channel_id}", "f")
            reply = await other.request(Command(channel=999, ref="g", input="x"))
            assert reply.error == "not attached to channel 999"
            # the owner's channel is unaffected
            ok = await owner.request(Command(channel=channel_id, ref="h", input="x"))
            assert ok.WhichOneof("body") == "ok" and ok.channel == channel_id


async def test_an_unsupported_channel_zero_body_is_named_in_the_error() -> None:
    async with running_server() as rs, raw_socket(rs.ws_url(rs.token())) as raw:
        reply = await raw.request(Command(ref="u", output="x"))
        assert (reply.error, reply.ref) == ("unsupported command output on channel 0", "u")


def _forged(rs_workspace_id: str, secret: bytes, **claims: object) -> str:
    base = {
        "sub": "1",
        "name": "eve",
        "roles": ["owner"],
        "ws": rs_workspace_id,
        "exp": time.time() + 60,
    }
    base.update(claims)
    return jwt.encode({k: v for k, v in base.items() if v is not None}, secret, algorithm="HS256")


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": time.time() - 3600}, "token expired"),
        ({"ws": "another"}, "wrong workspace"),
        ({"roles": ["admin"]}, "no role"),
        ({"exp": None}, "invalid token"),
        ({"sub": "not-a-number"}, "invalid token"),
        ({"sub": 2**33}, "invalid token"),
    ],
)
async def test_a_refused_token_closes_1008_with_its_reason(
    claims: dict[str, object], reason: str
) -> None:
    async with running_server() as rs:
        secrets = rs.server.keys
        token = _forged(secrets.workspace_id, secrets.secret, **claims)
        async with aiohttp.ClientSession() as http, http.ws_connect(rs.ws_url(token)) as ws:
            message = await ws.receive(timeout=5)
            assert message.type == aiohttp.WSMsgType.CLOSE
            assert (message.data, message.extra) == (1008, reason)


@pytest.mark.parametrize(
    ("path_token", "reason"), [("", "missing token"), ("garbage", "invalid token")]
)
async def test_a_missing_or_garbage_token_closes_1008(path_token: str, reason: str) -> None:
    async with running_server() as rs, aiohttp.ClientSession() as http:
        async with http.ws_connect(f"{rs.url}/wsv2/{path_token}") as ws:
            message = await ws.receive(timeout=5)
            assert message.type == aiohttp.WSMsgType.CLOSE
            assert (message.data, message.extra) == (1008, reason)


async def test_a_token_signed_with_another_secret_is_invalid() -> None:
    async with running_server() as rs, aiohttp.ClientSession() as http:
        token = _forged(rs.server.keys.workspace_id, b"x" * 32)
        async with http.ws_connect(rs.ws_url(token)) as ws:
            message = await ws.receive(timeout=5)
            assert (message.data, message.extra) == (1008, "invalid token")


async def test_a_token_just_past_expiry_is_accepted_within_the_leeway() -> None:
    async with running_server() as rs:
        secrets = rs.server.keys
        token = _forged(secrets.workspace_id, secrets.secret, exp=time.time() - 10)
        async with raw_socket(rs.ws_url(token)) as raw:
            assert raw.session_id == 2


async def test_the_strongest_role_in_the_token_wins() -> None:
    async with running_server() as rs:
        secrets = rs.server.keys
        token = _forged(secrets.workspace_id, secrets.secret, roles=["read", "owner", "x"])
        async with raw_socket(rs.ws_url(token)):
            session = next(iter(rs.server.router.sessions.values()))
            assert session.identity.role == Role.OWNER


@pytest.mark.parametrize(
    ("path", "token"),
    [
        ("/wsv2/abc", "abc"),
        ("/wsv2/abc/", "abc"),
        ("/wsv2/a%2Eb", "a.b"),
        ("/wsv2/abc/ws%3A%2F%2Fhost%2Fx", "abc"),
        ("/wsv2/abc/wss%3A%2F%2Fhost/", "abc"),
        ("/wsv2/abc?x=1", "abc"),
        ("/wsv2/", ""),
    ],
)
def test_the_token_is_the_path_minus_a_trailing_url_segment(path: str, token: str) -> None:
    assert token_from_path(path) == token
