"""``/proxy/<port>/…``: the IDE's webview, forwarding HTTP and WebSockets to a workspace port.

Owns authenticating proxy requests and relaying them to ``127.0.0.1:<port>`` (``[::1]`` when
nothing answers on IPv4), streaming bodies both ways without buffering them whole.

Authentication (the **choice** of protocol §2.7): with auth on, a request needs a valid goval
token (any role), taken from, in order, the ``token`` query parameter, the ``goval_proxy``
cookie, or an ``Authorization: Bearer`` header. A token given in the query is answered with a
``goval_proxy`` cookie (HttpOnly, SameSite=Lax, scoped to ``/proxy/<port>/``) so the page's own
sub-requests and WebSockets are authenticated too. Without one → 401; with ``--no-auth`` no
token is needed. The token, the cookie and the bearer header it came in are never forwarded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from http.cookies import SimpleCookie

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from goval.errors import AuthError
from goval.server.auth import Authenticator

__all__ = ["PROXY_COOKIE", "PortProxy", "mount_proxy"]

log = logging.getLogger("goval.proxy")

PROXY_COOKIE = "goval_proxy"
CHUNK = 64 * 1024
# Hop-by-hop headers (RFC 9110 §7.6.1) and the ones the relay sets itself.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
    }
)
_WS_HANDSHAKE = frozenset(
    {"sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions"}
)


@dataclass(frozen=True)
class _Forward:
    """One authenticated request on its way to ``127.0.0.1:<port><path>``.

    ``query`` and ``headers`` are what goes upstream (no token); ``token`` and ``source``
    (``query``, ``cookie``, ``bearer``) say how it authenticated, for the cookie we answer with.
    """

    request: web.Request
    port: int
    path: str
    query: list[tuple[str, str]]
    headers: CIMultiDict[str]
    token: str
    source: str

    def remember(self, response: web.StreamResponse) -> None:
        """A token given in the query becomes the port's cookie (see the module docstring)."""
        if self.source == "query" and self.token:
            response.set_cookie(
                PROXY_COOKIE,
                self.token,
                path=f"/proxy/{self.port}/",
                httponly=True,
                samesite="Lax",
            )


def mount_proxy(app: web.Application, authenticator: Authenticator, no_auth: bool) -> PortProxy:
    """Add the ``/proxy/<port>`` routes to ``app``; the relay's client closes with the app."""
    proxy = PortProxy(authenticator, no_auth)
    app.router.add_route("*", r"/proxy/{port:\d+}", proxy.redirect_to_slash)
    app.router.add_route("*", r"/proxy/{port:\d+}/{tail:.*}", proxy.handle)
    app.on_cleanup.append(proxy.aclose)
    return proxy


class PortProxy:
    """Relays authenticated requests to workspace ports."""

    def __init__(self, authenticator: Authenticator, no_auth: bool) -> None:
        self._authenticator = authenticator
        self._no_auth = no_auth
        self._client: aiohttp.ClientSession | None = None

    async def aclose(self, app: web.Application | None = None) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def redirect_to_slash(self, request: web.Request) -> web.StreamResponse:
        # The page's relative URLs only resolve under /proxy/<port>/.
        raise web.HTTPPermanentRedirect(request.rel_url.with_path(request.path + "/"))

    async def handle(self, request: web.Request) -> web.StreamResponse:
        port = int(request.match_info["port"])
        if not 0 < port < 65536:
            raise web.HTTPNotFound(text="no such port\n")
        token, source = self._credentials(request)
        self._authenticate(token)
        forward = _Forward(
            request,
            port,
            path="/" + request.match_info["tail"],
            query=[(k, v) for k, v in request.rel_url.query.items() if k != "token"],
            headers=_forward_headers(request, port, strip_authorization=source == "bearer"),
            token=token,
            source=source,
        )
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._websocket(forward)
        return await self._http(forward)

    # -- authentication ------------------------------------------------------------------------
    def _credentials(self, request: web.Request) -> tuple[str, str]:
        if "token" in request.rel_url.query:
            return request.rel_url.query["token"], "query"
        if PROXY_COOKIE in request.cookies:
            return request.cookies[PROXY_COOKIE], "cookie"
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and value:
            return value.strip(), "bearer"
        return "", ""

    def _authenticate(self, token: str) -> None:
        if self._no_auth:
            return
        if not token:
            raise web.HTTPUnauthorized(text="unauthorized: missing token\n")
        try:
            self._authenticator.verify(token)
        except AuthError as exc:
            raise web.HTTPUnauthorized(text=f"unauthorized: {exc.reason}\n") from None

    # -- HTTP ------------------------------------------------------------------------------------
    def _session(self) -> aiohttp.ClientSession:
        if self._client is None:
            self._client = aiohttp.ClientSession(
                auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar()
            )
        return self._client

    async def _http(self, forward: _Forward) -> web.StreamResponse:
        request, port = forward.request, forward.port
        body = request.content.iter_chunked(CHUNK) if request.body_exists else None
        upstream = None
        for host in ("127.0.0.1", "[::1]"):
            url = f"http://{host}:{port}{forward.path}"
            try:
                upstream = await self._session().request(
                    request.method,
                    url,
                    params=forward.query,
                    headers=forward.headers,
                    data=body,
                    allow_redirects=False,
                )
                break
            except aiohttp.ClientConnectorError:
                continue
        if upstream is None:
            raise web.HTTPBadGateway(text=f"nothing is listening on port {port}\n")
        async with upstream:
            response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
            for name, value in upstream.headers.items():
                if name.lower() not in _HOP_BY_HOP:
                    response.headers.add(name, _rewrite_location(name, value, port))
            forward.remember(response)
            await response.prepare(request)
            async for chunk in upstream.content.iter_chunked(CHUNK):
                await response.write(chunk)
            await response.write_eof()
        return response

    # -- WebSocket -------------------------------------------------------------------------------
    async def _websocket(self, forward: _Forward) -> web.StreamResponse:
        request, port, path, headers = forward.request, forward.port, forward.path, forward.headers
        for name in list(headers):
            if name.lower() in _WS_HANDSHAKE or name.lower() == "sec-websocket-protocol":
                del headers[name]
        protocols = [
            p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")
        ]
        try:
            upstream = await self._session().ws_connect(
                f"http://127.0.0.1:{port}{path}",
                params=forward.query,
                headers=headers,
                protocols=[p for p in protocols if p],
                autoping=False,
                max_msg_size=0,
            )
        except (aiohttp.ClientError, OSError):
            raise web.HTTPBadGateway(text=f"no WebSocket on port {port}{path}\n") from None
        chosen = (upstream.protocol,) if upstream.protocol else ()
        downstream = web.WebSocketResponse(protocols=chosen, autoping=False, max_msg_size=0)
        forward.remember(downstream)
        await downstream.prepare(request)
        async with upstream:
            await _relay_websockets(downstream, upstream)
        return downstream


async def _relay_websockets(
    downstream: web.WebSocketResponse, upstream: aiohttp.ClientWebSocketResponse
) -> None:
    """Copy messages both ways until either side closes, then close the other with its code."""

    async def pump(
        source: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
        sink: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
    ) -> None:
        async for message in source:
            if message.type == aiohttp.WSMsgType.TEXT:
                await sink.send_str(message.data)
            elif message.type == aiohttp.WSMsgType.BINARY:
                await sink.send_bytes(message.data)
            elif message.type == aiohttp.WSMsgType.PING:
                await sink.ping(message.data)
            elif message.type == aiohttp.WSMsgType.PONG:
                await sink.pong(message.data)
        code = source.close_code or aiohttp.WSCloseCode.OK
        with contextlib.suppress(ConnectionError, RuntimeError):
            await sink.close(code=code)

    tasks = [
        asyncio.ensure_future(pump(downstream, upstream)),
        asyncio.ensure_future(pump(upstream, downstream)),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def _forward_headers(
    request: web.Request, port: int, *, strip_authorization: bool
) -> CIMultiDict[str]:
    headers: CIMultiDict[str] = CIMultiDict()
    for name, value in request.headers.items():
        lower = name.lower()
        if lower in _HOP_BY_HOP or (lower == "content-length" and not request.body_exists):
            continue
        if lower == "authorization" and strip_authorization:
            continue
        if lower == "cookie":
            value = _without_proxy_cookie(value)
            if not value:
                continue
        headers.add(name, value)
    headers["Host"] = f"127.0.0.1:{port}"
    headers["X-Forwarded-Host"] = request.host
    headers["X-Forwarded-Proto"] = request.scheme
    headers["X-Forwarded-Prefix"] = f"/proxy/{port}"
    if request.remote:
        headers["X-Forwarded-For"] = request.remote
    return headers


def _without_proxy_cookie(header: str) -> str:
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(header)
    except Exception:
        return header  # not parseable: pass it on untouched rather than lose the app's cookies
    return "; ".join(
        f"{key}={morsel.coded_value}" for key, morsel in cookies.items() if key != PROXY_COOKIE
    )


def _rewrite_location(name: str, value: str, port: int) -> str:
    # A redirect to the app's own root must stay under the proxy prefix.
    if name.lower() != "location":
        return value
    for origin in (f"http://127.0.0.1:{port}", f"http://localhost:{port}"):
        if value.startswith(origin + "/") or value == origin:
            value = value[len(origin) :] or "/"
    if value.startswith("/") and not value.startswith("//"):
        return f"/proxy/{port}{value}"
    return value
