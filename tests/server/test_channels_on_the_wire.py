import asyncio

from goval._proto.api_pb2 import CloseChannel, CloseChannelRes, Command, OpenChannel, OpenChannelRes
from goval.identity import Role
from goval.testing import running_server
from tests.server.kit import TEST_REGISTRY, EchoService, RawSocket, raw_socket


def close_command(channel_id: int, action: int = CloseChannel.TRY_CLOSE, ref: str = "c") -> Command:
    command = Command(ref=ref)
    command.closeChan.id = channel_id
    command.closeChan.action = action  # type: ignore[assignment]
    return command


async def test_open_chan_res_comes_first_then_the_greeting() -> None:
    async with (
        running_server(registry=TEST_REGISTRY) as rs,
        raw_socket(rs.ws_url(rs.token("alice"))) as raw,
    ):
        reply = await raw.open("echo", "room", ref="a1")
        assert reply.WhichOneof("body") == "openChanRes" and reply.ref == "a1"
        assert reply.openChanRes.state == OpenChannelRes.CREATED and reply.openChanRes.id == 1
        assert reply.session == raw.session_id and reply.channel == 0
        greeting = await raw.receive()
        assert (greeting.channel, greeting.output, greeting.ref) == (1, "hello alice", "")
        assert greeting.session == raw.session_id


async def test_two_sessions_share_a_named_channel_and_broadcasts_are_stamped() -> None:
    async with running_server(registry=TEST_REGISTRY) as rs:
        token = rs.token()
        async with raw_socket(rs.ws_url(token)) as alice, raw_socket(rs.ws_url(token)) as bob:
            first = await alice.open("echo", "room")
            await alice.receive()  # greeting
            second = await bob.open("echo", "room")
            assert second.openChanRes.state == OpenChannelRes.ATTACHED
            assert second.openChanRes.id == first.openChanRes.id
            await bob.receive()  # greeting
            channel = first.openChanRes.id
            # broadcast to all but the sender: session = -sender, no ref
            reply = await alice.request(Command(channel=channel, ref="i1", input="hey"))
            assert (reply.WhichOneof("body"), reply.ref, reply.session) == (
                "ok",
                "i1",
                alice.session_id,
            )
            echoed = await bob.receive()
            assert (echoed.output, echoed.session, echoed.ref) == ("hey", -alice.session_id, "")
            await alice.expect_silence()
            # broadcast to all precedes the final reply; session 0
            await bob.send(Command(channel=channel, ref="e1", eval="all"))
            to_bob = await bob.receive()
            assert (to_bob.output, to_bob.session, to_bob.ref) == ("all", 0, "")
            result = await bob.receive()
            assert (result.result, result.ref) == ("done", "e1")
            assert (await alice.receive()).output == "all"


async def test_unknown_service_and_permission_are_open_errors() -> None:
    async with running_server(registry=TEST_REGISTRY) as rs:
        async with raw_socket(rs.ws_url(rs.token(role=Role.READ))) as reader:
            unknown = await reader.open("nope", ref="x")
            assert unknown.openChanRes.state == OpenChannelRes.ERROR
            assert (unknown.openChanRes.error, unknown.ref) == ("unknown service: nope", "x")
            denied = await reader.open("writeronly")
            assert denied.openChanRes.error == "permission denied: writeronly"


async def test_attach_errors_are_reported_in_open_chan_res() -> None:
    async with (
        running_server(registry=TEST_REGISTRY) as rs,
        raw_socket(rs.ws_url(rs.token())) as raw,
    ):
        missing = await raw.open("null", "ghost", action=OpenChannel.ATTACH)
        assert missing.openChanRes.error == "no channel named ghost"
        await raw.open("null", "here")
        again = await raw.open("null", "here", action=OpenChannel.ATTACH)
        assert again.openChanRes.error == "already attached: here"


async def test_too_many_channels_is_refused() -> None:
    async with (
        running_server(max_channels_per_session=2) as rs,
        raw_socket(rs.ws_url(rs.token())) as raw,
    ):
        await raw.open("null")
        await raw.open("null")
        third = await raw.open("null")
        assert third.openChanRes.error == "too many channels"


async def test_every_close_is_answered_with_the_same_id_and_the_right_status() -> None:
    async with running_server(registry=TEST_REGISTRY) as rs:
        token = rs.token()
        async with raw_socket(rs.ws_url(token)) as alice, raw_socket(rs.ws_url(token)) as bob:
            channel = (await alice.open("null", "n")).openChanRes.id
            await bob.open("null", "n")
            for unknown in (0, 77):
                reply = await alice.request(close_command(unknown, ref=f"u{unknown}"))
                assert reply.closeChanRes.id == unknown
                assert reply.closeChanRes.status == CloseChannelRes.NOTHING
            reply = await alice.request(close_command(channel, ref="t"))
            assert (reply.closeChanRes.id, reply.closeChanRes.status, reply.ref) == (
                channel,
                CloseChannelRes.DISCONNECT,
                "t",
            )
            again = await alice.request(close_command(channel))
            assert again.closeChanRes.status == CloseChannelRes.NOTHING
            last = await bob.request(close_command(channel))
            assert last.closeChanRes.status == CloseChannelRes.CLOSE


async def test_close_by_a_writer_detaches_the_others_silently() -> None:
    async with running_server(registry=TEST_REGISTRY) as rs:
        token = rs.token()
        async with raw_socket(rs.ws_url(token)) as alice, raw_socket(rs.ws_url(token)) as bob:
            channel = (await alice.open("null", "n")).openChanRes.id
            await bob.open("null", "n")
            reply = await alice.request(close_command(channel, CloseChannel.CLOSE))
            assert reply.closeChanRes.status == CloseChannelRes.CLOSE
            await bob.expect_silence()
            refused = await bob.request(Command(channel=channel, ref="z", input="x"))
            assert refused.error == f"not attached to channel {channel}"


async def test_nothing_arrives_on_a_channel_after_its_close_reply() -> None:
    async with running_server(registry=TEST_REGISTRY) as rs:
        token = rs.token()
        async with raw_socket(rs.ws_url(token)) as alice, raw_socket(rs.ws_url(token)) as bob:
            channel = (await alice.open("echo", "room")).openChanRes.id
            await alice.receive()
            await bob.open("echo", "room")
            await bob.receive()
            reply = await alice.request(close_command(channel))
            assert reply.WhichOneof("body") == "closeChanRes"
            await bob.send(Command(channel=channel, input="late"))
            await alice.expect_silence(0.3)


async def test_socket_loss_keeps_named_channels_and_destroys_anonymous_ones() -> None:
    EchoService.detached.clear()
    async with running_server(registry=TEST_REGISTRY) as rs:
        token = rs.token()
        async with raw_socket(rs.ws_url(token)) as watcher:
            async with raw_socket(rs.ws_url(token)) as leaver:
                named = (await leaver.open("echo", "room")).openChanRes.id
                await leaver.receive()
                anonymous = (await leaver.open("null")).openChanRes.id
                await watcher.open("echo", "room")
                await watcher.receive()
            # the leaver's detach effects reach the watcher
            bye = await watcher.receive()
            assert bye.output.startswith("bye ")
            assert rs.server.router.table.get(named) is not None
            assert rs.server.router.table.get(anonymous) is None


async def test_a_named_channel_nobody_holds_is_reaped_after_the_idle_timeout() -> None:
    EchoService.closed.clear()
    async with running_server(registry=TEST_REGISTRY, idle_timeout=0.2) as rs:
        async with raw_socket(rs.ws_url(rs.token())) as raw:
            channel = (await raw.open("echo", "room")).openChanRes.id
            await raw.receive()
        for _ in range(100):
            if rs.server.router.table.get(channel) is None and channel in EchoService.closed:
                break
            await asyncio.sleep(0.02)
        assert rs.server.router.table.get(channel) is None
        assert channel in EchoService.closed


async def test_attaching_cancels_the_idle_timer() -> None:
    async with running_server(registry=TEST_REGISTRY, idle_timeout=0.3) as rs:
        token = rs.token()
        async with raw_socket(rs.ws_url(token)) as first:
            channel = (await first.open("null", "keep")).openChanRes.id
        async with raw_socket(rs.ws_url(token)) as second:
            reply = await second.open("null", "keep")
            assert reply.openChanRes.id == channel
            await asyncio.sleep(0.5)
            assert rs.server.router.table.get(channel) is not None


async def test_a_service_fault_is_an_internal_error_and_the_connection_survives() -> None:
    async with (
        running_server(registry=TEST_REGISTRY) as rs,
        raw_socket(rs.ws_url(rs.token())) as raw,
    ):
        channel = (await raw.open("echo", "room")).openChanRes.id
        await raw.receive()
        command = Command(channel=channel, ref="boom")
        command.clear.SetInParent()
        reply = await raw.request(command)
        assert (reply.error, reply.ref, reply.channel) == (
            "internal error: ValueError",
            "boom",
            channel,
        )
        assert (await raw.request(Command(channel=channel, ref="next", input="x"))).ref == "next"


async def test_unsupported_bodies_name_the_field_and_the_service() -> None:
    async with (
        running_server(registry=TEST_REGISTRY) as rs,
        raw_socket(rs.ws_url(rs.token())) as raw,
    ):
        channel = (await raw.open("echo", "room")).openChanRes.id
        await raw.receive()
        command = Command(channel=channel, ref="w")
        command.write.path = "x"
        reply = await raw.request(command)
        assert reply.error == "unsupported command write on service echo"


async def test_a_reader_may_not_send_write_bodies() -> None:
    async with running_server(registry=TEST_REGISTRY) as rs:
        reader: RawSocket
        async with raw_socket(rs.ws_url(rs.token(role=Role.READ))) as reader:
            channel = (await reader.open("echo", "room")).openChanRes.id
            await reader.receive()
            reply = await reader.request(Command(channel=channel, ref="r", input="x"))
            assert (reply.error, reply.ref) == ("permission denied: input", "r")


async def test_fire_and_forget_with_a_ref_gets_ok_and_without_gets_nothing() -> None:
    async with running_server() as rs, raw_socket(rs.ws_url(rs.token())) as raw:
        channel = (await raw.open("null")).openChanRes.id
        await raw.send(Command(channel=channel, input="quiet"))
        await raw.expect_silence()
        reply = await raw.request(Command(channel=channel, ref="loud", input="x"))
        assert (reply.WhichOneof("body"), reply.ref) == ("ok", "loud")


async def test_shutdown_sends_sleep_then_closes_1001_after_closing_services() -> None:
    EchoService.closed.clear()
    async with running_server(registry=TEST_REGISTRY) as rs:
        async with raw_socket(rs.ws_url(rs.token())) as raw:
            channel = (await raw.open("echo", "room")).openChanRes.id
            await raw.receive()
            closing = asyncio.ensure_future(rs.server.aclose())
            sleep = await raw.receive()
            assert sleep.WhichOneof("body") == "containerState" and sleep.session == 0
            assert sleep.containerState.state == 0  # SLEEP
            assert await raw.close_code() == 1001
            await closing
            assert channel in EchoService.closed


async def test_shutdown_completes_while_clients_keep_reconnecting() -> None:
    from goval.client import connect

    async with running_server() as rs:
        async with connect(rs.url, rs.token(), reconnect=True) as client:
            await client.open("null", "kept")
            await asyncio.wait_for(rs.server.aclose(), 10)
            assert client.close_code == 1001
