"""Listening ports: ``portOpen`` notices (§1.3, §2.7) and the ``/proxy/<port>/`` webview relay."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from goval._proto.api_pb2 import Command
from goval.client import Channel, Client
from goval.server.ports import port_open, reachable_by_proxy
from goval.server.proxy import PROXY_COOKIE
from goval.testing import RunningServer, running_server
from tests.server.kit import raw_socket

POLL = 0.05


async def start_http_server(channel: Channel) -> int:
    """Run ``python -m http.server`` in the workspace through exec; returns its port."""
    request = Command()
    request.exec.args.extend(["python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1"])
    channel.send(request)
    text = ""
    while (found := re.search(r"port (\d+)", text)) is None:
        text += (await channel.receive()).output
    return int(found.group(1))


async def next_port_open(client: Client, timeout: float = 5.0) -> Command:
    async with asyncio.timeout(timeout):
        while True:
            notice = await client.notices.get()
            if notice.WhichOneof("body") == "portOpen":
                return notice


@pytest.fixture
async def rs(tmp_path: Path) -> AsyncIterator[RunningServer]:
    (tmp_path / "hello.txt").write_text("hello from the workspace\n")
    async with running_server(tmp_path, port_poll_interval=POLL) as server:
        yield server


def test_port_open_is_forwarded_only_for_addresses_the_proxy_reaches() -> None:
    assert port_open(8080, "0.0.0.0").portOpen.forwarded
    assert port_open(8080, "127.0.0.1").portOpen.forwarded
    assert port_open(8080, "::").portOpen.forwarded
    assert not port_open(8080, "10.1.2.3").portOpen.forwarded
    assert not reachable_by_proxy("not an address")


async def test_a_workspace_process_that_starts_listening_is_announced_to_every_session(
    rs: RunningServer,
) -> None:
    async with rs.client("alice") as alice, rs.client("bob") as bob:
        exec_channel = await alice.open("exec")
        port = await start_http_server(exec_channel)
        for client in (alice, bob):
            notice = await next_port_open(client)
            assert notice.channel == 0 and notice.session == 0
            assert (notice.portOpen.port, notice.portOpen.address) == (port, "127.0.0.1")
            assert notice.portOpen.forwarded

        # A session arriving later gets it right after READY, before anything else.
        async with raw_socket(rs.ws_url(rs.token("carol"))) as carol:
            after_ready = await carol.receive()
            assert after_ready.WhichOneof("body") == "portOpen"
            assert after_ready.portOpen.port == port


async def test_a_socket_the_server_process_itself_opens_is_not_announced(
    rs: RunningServer,
) -> None:
    async with rs.client() as client:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        try:
            await asyncio.sleep(POLL * 6)
            assert client.notices.empty()
        finally:
            listener.close()


# -- the proxy ------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def workspace_http(rs: RunningServer) -> AsyncIterator[int]:
    async with rs.client() as client:
        channel = await client.open("exec")
        yield await start_http_server(channel)


async def test_the_proxy_refuses_requests_without_a_valid_token(rs: RunningServer) -> None:
    async with workspace_http(rs) as port, browser() as http:
        base = f"{rs.url}/proxy/{port}/hello.txt"
        async with http.get(base) as response:
            assert response.status == 401
            assert "missing token" in await response.text()
        async with http.get(base, params={"token": "forged"}) as response:
            assert response.status == 401
        async with http.get(base, headers={"Authorization": "Bearer nonsense"}) as response:
            assert response.status == 401


async def test_the_proxy_forwards_http_and_a_query_token_becomes_a_cookie(
    rs: RunningServer,
) -> None:
    async with workspace_http(rs) as port, browser() as http:
        url = f"{rs.url}/proxy/{port}/hello.txt"
        async with http.get(url, params={"token": rs.token()}) as response:
            assert response.status == 200
            assert await response.text() == "hello from the workspace\n"
            cookie = response.cookies[PROXY_COOKIE]
            assert cookie["path"] == f"/proxy/{port}/" and cookie["httponly"]
        # The session's cookie jar now authenticates the page's own sub-requests.
        async with http.get(f"{rs.url}/proxy/{port}/") as response:
            assert response.status == 200
            assert "hello.txt" in await response.text()
        async with http.get(f"{rs.url}/proxy/{port}/missing") as response:
            assert response.status == 404  # the app's own answer, relayed


async def test_a_bearer_token_works_and_a_bare_port_redirects_to_its_slash(
    rs: RunningServer,
) -> None:
    async with workspace_http(rs) as port, browser() as http:
        headers = {"Authorization": f"Bearer {rs.token()}"}
        async with http.get(
            f"{rs.url}/proxy/{port}", headers=headers, allow_redirects=False
        ) as response:
            assert response.status == 308
            assert response.headers["Location"] == f"/proxy/{port}/"
        async with http.get(f"{rs.url}/proxy/{port}/hello.txt", headers=headers) as response:
            assert await response.text() == "hello from the workspace\n"


async def test_nothing_listening_is_a_bad_gateway(rs: RunningServer) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    async with browser() as http:
        url = f"{rs.url}/proxy/{free}/"
        async with http.get(url, params={"token": rs.token()}) as response:
            assert response.status == 502


def browser() -> aiohttp.ClientSession:
    # Browsers keep cookies for IP hosts; aiohttp's jar only does when told it is safe.
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def echo_app_server() -> tuple[web.AppRunner, int]:
    """A WebSocket + POST echo app on a free port (stands in for the user's program)."""

    async def ws_echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(protocols=("chat",))
        await ws.prepare(request)
        await ws.send_str(f"cookie={request.headers.get('Cookie', '')}")
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                await ws.send_str(message.data.upper())
            elif message.type == aiohttp.WSMsgType.BINARY:
                await ws.send_bytes(message.data[::-1])
        return ws

    async def post_echo(request: web.Request) -> web.Response:
        body = await request.read()
        return web.Response(
            body=body, headers={"X-Seen-Prefix": request.headers["X-Forwarded-Prefix"]}
        )

    app = web.Application()
    app.router.add_get("/ws", ws_echo)
    app.router.add_post("/echo", post_echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, runner.addresses[0][1]


async def test_the_proxy_relays_a_websocket_both_ways_and_request_bodies(
    rs: RunningServer,
) -> None:
    runner, port = await echo_app_server()
    try:
        async with browser() as http:
            url = f"{rs.url}/proxy/{port}/ws"
            async with http.ws_connect(
                url, params={"token": rs.token()}, protocols=("chat",), headers={"Cookie": "app=1"}
            ) as ws:
                assert ws.protocol == "chat"
                assert (await ws.receive_str(timeout=5)) == "cookie=app=1"  # ours stripped
                await ws.send_str("hello")
                assert await ws.receive_str(timeout=5) == "HELLO"
                await ws.send_bytes(b"\x00\x01\x02")
                assert await ws.receive_bytes(timeout=5) == b"\x02\x01\x00"
            payload = b"x" * 300_000
            async with http.post(
                f"{rs.url}/proxy/{port}/echo", params={"token": rs.token()}, data=payload
            ) as response:
                assert await response.read() == payload
                assert response.headers["X-Seen-Prefix"] == f"/proxy/{port}"
            async with http.ws_connect(f"{rs.url.replace('http', 'ws')}/proxy/{port}/ws") as ws:
                pass  # the cookie from the query token authenticates this one
    finally:
        await runner.cleanup()


async def test_a_websocket_without_a_token_is_refused(rs: RunningServer) -> None:
    runner, port = await echo_app_server()
    try:
        async with browser() as http:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(f"{rs.url}/proxy/{port}/ws")
            assert refused.value.status == 401
    finally:
        await runner.cleanup()
