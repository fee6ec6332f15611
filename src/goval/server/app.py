"""The aiohttp application and the :class:`Server` that runs it.

Wires the parts together: configuration → secrets and authenticator → router → routes. Owns the
HTTP surface (``/wsv2/<token>`` now; the IDE, signed file URLs, ``/proxy`` and ``/metrics`` mount
here too) and the server's lifetime (start, graceful shutdown).
"""

from __future__ import annotations

import logging
import urllib.parse

from aiohttp import web

from goval.errors import AuthError
from goval.identity import Identity, Role
from goval.protocol.connection import CloseCode
from goval.server.auth import Authenticator
from goval.server.channel_zero import ChannelZero
from goval.server.config import ServerConfig
from goval.server.files_http import mount_files
from goval.server.ide import add_ide_routes
from goval.server.idle_sleep import IdleSleep
from goval.server.onboot import OnBoot
from goval.server.operator_http import mount_operator_routes
from goval.server.ports import PortAnnouncer
from goval.server.proxy import mount_proxy
from goval.server.router import Router
from goval.server.session import Session
from goval.services.base import Resources
from goval.services.registry import ServiceRegistry
from goval.services.tunnel import SOCKET_POLICY, SocketPolicy
from goval.storage import load_or_create_keys

__all__ = ["LOCAL_IDENTITY", "Server", "token_from_path"]

log = logging.getLogger("goval.server")
LOCAL_IDENTITY = Identity(user_id=1, name="local", role=Role.OWNER)
WSV2_PREFIX = "/wsv2/"


def token_from_path(raw_path: str) -> str:
    """The token in ``/wsv2/<token>[/<percent-encoded ws:// URL>][/]`` (§1.1), decoded once."""
    rest = raw_path.split("?", 1)[0][len(WSV2_PREFIX) :].rstrip("/")
    head, _, last = rest.rpartition("/")
    if head and urllib.parse.unquote(last).startswith(("ws://", "wss://")):
        rest = head
    rest = rest.rstrip("/")
    return urllib.parse.unquote(rest)


class Server:
    """One goval server: a workspace directory served over HTTP and WebSocket."""

    def __init__(self, config: ServerConfig, registry: ServiceRegistry | None = None) -> None:
        self.config = config
        state_dir = config.resolved_state_dir
        self.keys = load_or_create_keys(state_dir)
        public_key = (
            config.public_key_file.read_text() if config.public_key_file is not None else None
        )
        self.authenticator = Authenticator(
            self.keys.secret, self.keys.workspace_id, public_key, config.jwks_url
        )
        self.resources = Resources.open(
            config.workspace, state_dir, config.max_message, config.chat_history
        )
        resources = self.resources
        self.router = Router(
            config,
            registry or ServiceRegistry(),
            resources,
            ChannelZero(self.authenticator, config.no_auth),
        )
        self.app = web.Application()
        self.app.router.add_get("/wsv2/{token:.*}", self._websocket)
        add_ide_routes(self.app, self.router.registry.names())
        mount_operator_routes(self.app, self.authenticator, config, self.router)
        self.idle_sleep = IdleSleep(self.router, config.idle_sleep, self.aclose)
        mount_files(self.app, self.resources.workspace, self.resources.url_signer)
        mount_proxy(self.app, self.authenticator, config.no_auth)
        resources.process_defaults.limits = config.process_limits()
        policy = SocketPolicy(any_address=config.socket_any_address)
        self.router.shared(SOCKET_POLICY, lambda: policy)
        self.ports = PortAnnouncer(self.router.announce, config.port_poll_interval)
        self.router.ready_notices = self.ports.notices
        self._runner: web.AppRunner | None = None
        self._site_port: int | None = None
        self._shutting_down = False
        self.on_boot = OnBoot(self.resources)

    @property
    def port(self) -> int:
        if self._site_port is None:
            raise RuntimeError("server not started")
        return self._site_port

    @property
    def base_url(self) -> str:
        host = self.config.host if ":" not in self.config.host else f"[{self.config.host}]"
        return f"http://{host}:{self.port}"

    def websocket_url(self, token: str) -> str:
        return f"{self.base_url.replace('http', 'ws', 1)}/wsv2/{urllib.parse.quote(token, safe='')}"

    def mint_token(
        self, name: str, role: Role = Role.OWNER, user_id: int = 1, ttl: float = 8 * 3600.0
    ) -> str:
        return self.authenticator.mint(name, role, user_id, ttl)

    async def start(self) -> None:
        """Bind and start serving (port 0 picks a free port)."""
        self._runner = web.AppRunner(self.app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self._site_port = sockets[0].getsockname()[1] if sockets else self.config.port
        self.idle_sleep.start()
        self.ports.start({self.port})
        await self.on_boot.start()
        self.resources.url_signer.origin = self.base_url  # signed file URLs point here
        log.info("goval serving %s on %s", self.config.workspace, self.base_url)

    async def aclose(self) -> None:
        """Graceful shutdown: flush and stop every channel, SLEEP, close sockets with 1001."""
        if self.idle_sleep.asleep.is_set() or self._shutting_down:
            return  # already shut down (idle sleep, or an earlier call)
        # Clients reconnect at once after 1001 (crosis does); refuse them from now on, or the
        # shutdown would wait for sessions that keep arriving.
        self._shutting_down = True
        await self.idle_sleep.aclose()
        await self.ports.aclose()
        await self.router.aclose()
        await self.on_boot.aclose()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.resources.close()

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(
            max_msg_size=self.config.max_message,
            compress=self.config.compress,
            heartbeat=self.config.heartbeat,
            autoping=True,
        )
        await ws.prepare(request)
        if self._shutting_down:
            await ws.close(code=CloseCode.GOING_AWAY, message=b"server shutting down")
            return ws
        try:
            identity = self._identify(token_from_path(request.raw_path))
        except AuthError as exc:
            log.info("refused connection: %s", exc.reason)
            await ws.close(code=CloseCode.POLICY_VIOLATION, message=exc.reason.encode())
            return ws
        transport = request.transport  # asyncio's or uvloop's: both write and report buffering
        session = Session(self.router.next_session_id(), identity, ws, self.config, transport)
        await session.run(self.router)
        return ws

    def _identify(self, token: str) -> Identity:
        if self.config.no_auth:
            return LOCAL_IDENTITY
        return self.authenticator.verify(token)
