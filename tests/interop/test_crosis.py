"""The official client, @replit/crosis 13.5.1, against a real goval server (protocol.md §7).

Each test starts a server, drives crosis clients in Node through ``driver.mjs`` and asserts on
what crosis reports: its callbacks, request results and unrecoverable errors. No crosis client
may ever hit an unrecoverable error unless the test expects one.
"""

from __future__ import annotations

import urllib.parse

from goval.testing import RunningServer, running_server
from tests.interop.crosis_driver import CrosisDriver, crosis_driver


def gurl(rs: RunningServer) -> str:
    """The goval URL handed to crosis; it replaces the path with ``/wsv2/<token>`` itself."""
    return rs.url.replace("http://", "ws://", 1)


async def connect(driver: CrosisDriver, rs: RunningServer, client: str = "a") -> str:
    """Open crosis client ``client`` with a good token; returns the token once connected."""
    token = rs.token(client)
    await driver.call("open", client=client, gurl=gurl(rs), tokens=[token])
    await driver.event("connected", client=client, count=1)
    return token


def assert_no_unrecoverable(driver: CrosisDriver) -> None:
    assert driver.find("unrecoverable") == [], driver.find("unrecoverable")


def channel_ids(rs: RunningServer, name: str) -> list[int]:
    return [channel.id for channel in rs.server.router.table.channels() if channel.name == name]


async def test_crosis_connects_and_a_channel_zero_ping_gets_a_pong_with_its_ref(
    rs: RunningServer, driver: CrosisDriver
) -> None:
    token = await connect(driver, rs)

    opening = await driver.event("socketOpening", client="a")
    assert urllib.parse.urlsplit(opening["url"]).path == f"/wsv2/{token}"
    assert (await driver.event("state", client="a", state="CONNECTED"))["state"] == "CONNECTED"
    assert (await driver.call("state", client="a"))["state"] == "CONNECTED"

    reply = await driver.call("ping", client="a")

    assert "pong" in reply["cmd"], reply
    assert reply["cmd"]["ref"] == reply["sentRef"]
    assert reply["cmd"].get("channel", 0) == 0
    assert_no_unrecoverable(driver)


async def test_named_and_anonymous_channels_answer_requests_close_and_the_name_reopens(
    rs: RunningServer, driver: CrosisDriver
) -> None:
    await connect(driver, rs)
    await driver.call("openChannel", client="a", chan="named", service="null", name="box")
    await driver.call("openChannel", client="a", chan="anon", service="null")
    named = await driver.event("channel", chan="named", count=1)
    anon = await driver.event("channel", chan="anon", count=1)
    assert named["id"] != anon["id"]
    assert channel_ids(rs, "box") == [named["id"]]

    for chan in ("named", "anon"):
        reply = await driver.call("request", chan=chan, cmd={"debug": {"text": "hi"}})
        assert "ok" in reply["cmd"], reply
        assert reply["cmd"]["ref"] == reply["sentRef"]

    for chan, opened in (("named", named), ("anon", anon)):
        closed = await driver.call("closeChannel", chan=chan)
        assert closed["initiator"] == "channel"
        assert closed["willReconnect"] is False
        closing = await driver.event("closeChanRes", id=opened["id"])
        assert closing["closeStatus"] == 1  # CLOSE: the last session left, so it was destroyed
    assert channel_ids(rs, "box") == []

    await driver.call("openChannel", client="a", chan="again", service="null", name="box")
    again = await driver.event("channel", chan="again", count=1)
    assert again["id"] not in (named["id"], anon["id"])
    reply = await driver.call("request", chan="again", cmd={"debug": {"text": "again"}})
    assert "ok" in reply["cmd"], reply
    assert_no_unrecoverable(driver)


async def test_reopening_a_name_while_its_close_is_in_flight_waits_for_close_chan_res(
    rs: RunningServer, driver: CrosisDriver
) -> None:
    await connect(driver, rs)
    await driver.call("openChannel", client="a", chan="first", service="null", name="box")
    first = await driver.event("channel", chan="first", count=1)

    # crosis holds the second open back until the first channel's closeChanRes arrives.
    closing = driver.submit("closeChannel", chan="first")
    await driver.call("openChannel", client="a", chan="second", service="null", name="box")
    await closing
    second = await driver.event("channel", chan="second", count=1)

    assert second["id"] != first["id"]
    assert channel_ids(rs, "box") == [second["id"]]
    reply = await driver.call("request", chan="second", cmd={"debug": {"text": "x"}})
    assert "ok" in reply["cmd"], reply
    assert_no_unrecoverable(driver)


async def test_two_crosis_clients_share_one_named_channel(
    rs: RunningServer, driver: CrosisDriver
) -> None:
    await connect(driver, rs, "a")
    await connect(driver, rs, "b")
    await driver.call("openChannel", client="a", chan="a-shared", service="null", name="shared")
    first = await driver.event("channel", chan="a-shared", count=1)
    await driver.call("openChannel", client="b", chan="b-shared", service="null", name="shared")
    second = await driver.event("channel", chan="b-shared", count=1)

    assert first["id"] == second["id"]
    assert channel_ids(rs, "shared") == [first["id"]]
    [channel] = [c for c in rs.server.router.table.channels() if c.name == "shared"]
    assert len(channel.sessions) == 2

    for chan in ("a-shared", "b-shared"):
        reply = await driver.call("request", chan=chan, cmd={"debug": {"text": chan}})
        assert "ok" in reply["cmd"], reply
        assert reply["cmd"]["ref"] == reply["sentRef"]
    assert_no_unrecoverable(driver)


async def test_an_unknown_service_is_reported_by_crosis_as_an_open_error(
    rs: RunningServer, driver: CrosisDriver
) -> None:
    await connect(driver, rs)

    await driver.call("openChannel", client="a", chan="bad", service="nope")

    error = await driver.event("unrecoverable", client="a")
    assert "unknown service: nope" in error["message"]
    assert error["message"].startswith("Channel open resulted with an error")
    assert driver.find("channel", chan="bad") == []


async def test_a_rejected_token_makes_crosis_fetch_a_new_one_and_connect(
    rs: RunningServer, driver: CrosisDriver
) -> None:
    # With reuseConnectionMetadata crosis only refetches after a 1008 close: the bad token would
    # otherwise be retried forever.
    await driver.call(
        "open",
        client="a",
        gurl=gurl(rs),
        tokens=["not-a-jwt", rs.token("a")],
        reuseConnectionMetadata=True,
    )

    await driver.event("connected", client="a", count=1)

    closed = await driver.event("socketClosed", client="a")
    assert closed["code"] == 1008
    assert closed["reason"] == "invalid token"
    assert len(driver.find("fetch", client="a")) == 2
    reply = await driver.call("ping", client="a")
    assert "pong" in reply["cmd"], reply
    assert_no_unrecoverable(driver)


async def test_crosis_reconnects_after_a_socket_drop_and_reattaches_its_named_channel(
    rs: RunningServer, driver: CrosisDriver
) -> None:
    await connect(driver, rs)
    await driver.call("openChannel", client="a", chan="keep", service="null", name="keep")
    before = await driver.event("channel", chan="keep", count=1)

    for session in list(rs.server.router.sessions.values()):
        session.close(1011, "test")

    closed = await driver.event("socketClosed", client="a")
    assert closed["code"] == 1011
    await driver.event("connected", client="a", count=2)
    after = await driver.event("channel", chan="keep", count=2)
    assert after["id"] == before["id"]  # the named channel survived the socket loss
    [channel] = [c for c in rs.server.router.table.channels() if c.name == "keep"]
    assert len(channel.sessions) == 1
    reply = await driver.call("request", chan="keep", cmd={"debug": {"text": "back"}})
    assert "ok" in reply["cmd"], reply
    # The service saw the dropped session leave: only the new session is its peer.
    live_peers = [peer.session_id for peer in rs.server.router.live[after["id"]].peers()]
    assert live_peers == list(rs.server.router.sessions)
    assert_no_unrecoverable(driver)


async def test_crosis_reconnects_to_a_restarted_server_on_the_same_port(node: str) -> None:
    async with running_server() as first, crosis_driver(node) as driver:
        port = first.server.port
        workspace = first.workspace
        token = first.token("a")
        await driver.call("open", client="a", gurl=gurl(first), tokens=[token])
        await driver.event("connected", client="a", count=1)
        await driver.call("openChannel", client="a", chan="keep", service="null", name="keep")
        await driver.event("channel", chan="keep", count=1)

        await first.server.aclose()
        closed = await driver.event("socketClosed", client="a")
        assert closed["code"] == 1001

        async with running_server(workspace, port=port) as second:
            await driver.event("connected", client="a", count=2, within=15.0)
            after = await driver.event("channel", chan="keep", count=2)
            assert channel_ids(second, "keep") == [after["id"]]
            reply = await driver.call("request", chan="keep", cmd={"debug": {"text": "new"}})
            assert "ok" in reply["cmd"], reply
        assert_no_unrecoverable(driver)
