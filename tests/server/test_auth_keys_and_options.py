import time
from pathlib import Path

import aiohttp
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from goval._proto.api_pb2 import Command
from goval.identity import Role
from goval.services.null import NullService
from goval.testing import ServiceHarness, running_server
from tests.server.kit import EchoService, raw_socket


def ed25519_pair(tmp_path: Path) -> tuple[Ed25519PrivateKey, Path]:
    private = Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    path = tmp_path / "idp.pem"
    path.write_bytes(pem)
    return private, path


async def test_tokens_from_an_external_identity_provider_are_accepted(tmp_path: Path) -> None:
    private, public_pem = ed25519_pair(tmp_path)
    workspace = tmp_path / "ws"
    workspace.mkdir()
    async with running_server(workspace, public_key_file=public_pem) as rs:
        claims = {
            "sub": 77,
            "name": "idp-user",
            "roles": ["write"],
            "ws": rs.server.keys.workspace_id,
            "exp": int(time.time()) + 60,
        }
        token = jwt.encode(claims, private, algorithm="EdDSA")
        async with raw_socket(rs.ws_url(token)) as raw:
            session = rs.server.router.sessions[raw.session_id]
            assert (session.identity.user_id, session.identity.name) == (77, "idp-user")
            assert session.identity.role == Role.WRITE
        # an EdDSA token signed by someone else is refused
        stranger, _ = ed25519_pair(tmp_path / "..")
        forged = jwt.encode(claims, stranger, algorithm="EdDSA")
        async with aiohttp.ClientSession() as http, http.ws_connect(rs.ws_url(forged)) as ws:
            message = await ws.receive(timeout=5)
            assert (message.data, message.extra) == (1008, "invalid token")


async def test_eddsa_tokens_are_refused_without_a_configured_key(tmp_path: Path) -> None:
    private, _ = ed25519_pair(tmp_path)
    async with running_server() as rs:
        claims = {
            "sub": "1",
            "roles": ["owner"],
            "ws": rs.server.keys.workspace_id,
            "exp": time.time() + 60,
        }
        token = jwt.encode(claims, private, algorithm="EdDSA")
        async with aiohttp.ClientSession() as http, http.ws_connect(rs.ws_url(token)) as ws:
            message = await ws.receive(timeout=5)
            assert (message.data, message.extra) == (1008, "invalid token")


async def test_compression_is_off_by_default_and_on_with_compress() -> None:
    for compress, expected in ((False, 0), (True, 15)):
        async with running_server(compress=compress) as rs, aiohttp.ClientSession() as http:
            async with http.ws_connect(rs.ws_url(rs.token()), compress=15) as ws:
                assert ws.compress == expected


async def test_a_reused_ref_gets_one_reply_per_request() -> None:
    async with running_server() as rs, raw_socket(rs.ws_url(rs.token())) as raw:
        channel = (await raw.open("null")).openChanRes.id
        first = await raw.request(Command(channel=channel, ref="same", input="1"))
        second = await raw.request(Command(channel=channel, ref="same", input="2"))
        assert (first.ref, second.ref) == ("same", "same")
        await raw.expect_silence()


async def test_the_service_harness_runs_a_service_without_sockets(tmp_path: Path) -> None:
    harness = ServiceHarness(EchoService, tmp_path, channel_name="room")
    alice = await harness.attach("alice")
    bob = await harness.attach("bob", Role.READ)
    assert [c.output for c in alice.received] == ["hello alice"]
    reply = await harness.request(alice, Command(input="hi"))
    assert reply is not None and reply.WhichOneof("body") == "ok"
    assert (bob.received[-1].output, bob.received[-1].session) == ("hi", -alice.session_id)
    denied = await harness.request(bob, Command(input="no"))
    assert denied is not None and denied.error == "permission denied: input"
    await harness.detach(bob)
    assert alice.received[-1].output == f"bye {bob.session_id}"
    await harness.aclose()
    null = ServiceHarness(NullService, tmp_path / "n")
    peer = await null.attach()
    assert await null.request(peer, Command(input="x")) is None
    await null.aclose()
