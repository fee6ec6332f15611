import pytest

from goval._proto.api_pb2 import Command
from goval.client import ServerError
from goval.identity import Role
from goval.testing import running_server
from tests.server.kit import raw_socket


def body(name: str, **fields: object) -> Command:
    command = Command()
    getattr(command, name).SetInParent()
    for key, value in fields.items():
        setattr(getattr(command, name), key, value)
    return command


async def test_has_cap_is_true_for_writers_and_false_for_readers() -> None:
    async with running_server() as rs:
        async with rs.client(role=Role.WRITE) as writer, rs.client(role=Role.READ) as reader:
            assert (await writer.request(Command(hasCap=False))).hasCap is True
            assert (await reader.request(Command(hasCap=True))).hasCap is False


@pytest.mark.parametrize("name", ["incRef", "debug"])
async def test_inc_ref_and_debug_answer_ok(name: str) -> None:
    async with running_server() as rs, rs.client() as client:
        reply = await client.request(body(name))
        assert reply.WhichOneof("body") == "ok"


async def test_auth_with_a_fresh_token_changes_the_role() -> None:
    async with running_server() as rs, rs.client("alice", Role.READ, user_id=7) as client:
        fresh = rs.token("alice", Role.WRITE, user_id=7)
        assert (await client.request(body("auth", token=fresh))).WhichOneof("body") == "ok"
        assert (await client.request(Command(hasCap=True))).hasCap is True


async def test_auth_with_a_bad_token_changes_nothing() -> None:
    async with running_server() as rs, rs.client("alice", Role.READ, user_id=7) as client:
        with pytest.raises(ServerError, match="^invalid token: invalid token$"):
            await client.request(body("auth", token="nonsense"))
        other_user = rs.token("mallory", Role.OWNER, user_id=8)
        with pytest.raises(ServerError, match="^invalid token: different user$"):
            await client.request(body("auth", token=other_user))
        assert (await client.request(Command(hasCap=True))).hasCap is False


async def test_hello_renames_the_local_user_in_no_auth_mode() -> None:
    async with running_server(no_auth=True) as rs, rs.client() as client:
        await client.request(body("hello", userid=42, username="zoe"))
        session = rs.server.router.sessions[client.session_id]
        assert (session.identity.user_id, session.identity.name) == (42, "zoe")
        assert session.identity.role == Role.OWNER


async def test_hello_without_token_changes_nothing_when_auth_is_on() -> None:
    async with running_server() as rs, rs.client("alice", user_id=3) as client:
        await client.request(body("hello", userid=42, username="zoe"))
        session = rs.server.router.sessions[client.session_id]
        assert (session.identity.user_id, session.identity.name) == (3, "alice")


async def test_pid1_config_is_for_owners_only() -> None:
    async with running_server() as rs:
        async with rs.client(role=Role.WRITE) as writer:
            with pytest.raises(ServerError, match="^permission denied: pid1Config$"):
                await writer.request(body("pid1Config", cwd="sub", language="python"))
        async with rs.client(role=Role.OWNER) as owner:
            command = body("pid1Config", cwd="sub", language="python")
            command.pid1Config.env["A"] = "1"
            await owner.request(command)
        defaults = rs.server.router.resources.process_defaults
        assert (defaults.cwd, defaults.language, defaults.env) == ("sub", "python", {"A": "1"})


async def test_goodbye_closes_the_socket_with_1000() -> None:
    async with running_server() as rs, raw_socket(rs.ws_url(rs.token())) as raw:
        await raw.send(body("goodbye"))
        assert await raw.close_code() == 1000
