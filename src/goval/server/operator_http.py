"""Operator HTTP routes: ``GET /metrics`` (Prometheus text) and ``POST /toast`` (broadcast).

Both need an owner token as ``Authorization: Bearer <token>`` (nothing in no-auth mode, which is
loopback only); ``/metrics`` also accepts the configured scrape token, so a Prometheus server
needs no owner credentials. Toasts are sent over HTTP rather than as a new channel-0 request
because protocol.md lists ``toast`` as server→client only: an operator path that is not part of
the WebSocket protocol keeps that contract intact for every client, and works from curl or cron.
"""

from __future__ import annotations

import hmac
import json

from aiohttp import web

from goval._proto.api_pb2 import Command, Toast
from goval.errors import AuthError
from goval.identity import Role
from goval.server.auth import Authenticator
from goval.server.config import ServerConfig
from goval.server.router import Router
from goval.services.metrics_format import TEXT_CONTENT_TYPE, text_format

__all__ = ["MAX_TOAST_BYTES", "mount_operator_routes"]

MAX_TOAST_BYTES = 64 * 1024


def mount_operator_routes(
    app: web.Application, authenticator: Authenticator, config: ServerConfig, router: Router
) -> None:
    """Add ``GET /metrics`` and ``POST /toast`` to ``app``."""

    def authorize(request: web.Request, scrape_token_ok: bool) -> None:
        if config.no_auth:
            return
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise web.HTTPUnauthorized(
                text="missing bearer token\n", headers={"WWW-Authenticate": "Bearer"}
            )
        scrape = config.metrics_token
        if scrape_token_ok and scrape and hmac.compare_digest(token.encode(), scrape.encode()):
            return
        try:
            identity = authenticator.verify(token)
        except AuthError as exc:
            raise web.HTTPUnauthorized(text=f"{exc.reason}\n") from None
        if identity.role < Role.OWNER:
            raise web.HTTPForbidden(text="owner token required\n")

    async def metrics(request: web.Request) -> web.Response:
        authorize(request, scrape_token_ok=True)
        body = text_format(router.metrics.collect())
        return web.Response(body=body.encode(), headers={"Content-Type": TEXT_CONTENT_TYPE})

    async def toast(request: web.Request) -> web.Response:
        authorize(request, scrape_token_ok=False)
        text = await _toast_text(request)
        router.announce(Command(toast=Toast(text=text)))
        return web.Response(status=204)

    app.router.add_get("/metrics", metrics)
    app.router.add_post("/toast", toast)


async def _toast_text(request: web.Request) -> str:
    """The text of a toast: a JSON ``{"text": ...}`` body, or the plain-text body itself."""
    raw = await request.content.read(MAX_TOAST_BYTES + 1)
    if len(raw) > MAX_TOAST_BYTES:
        raise web.HTTPRequestEntityTooLarge(MAX_TOAST_BYTES, len(raw), text="toast too long\n")
    try:
        text = raw.decode("utf-8")
        if request.content_type == "application/json":
            value = json.loads(text)["text"]
            if not isinstance(value, str):
                raise TypeError("text must be a string")
            text = value
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise web.HTTPBadRequest(text=f"bad toast: {exc}\n") from None
    if not text.strip():
        raise web.HTTPBadRequest(text="empty toast\n")
    return text
