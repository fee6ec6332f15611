"""Channel-0 requests other than open/close (protocol.md §2.7).

hello, auth, goodbye, incRef, debug, hasCap, pid1Config, and startVCR / readVCR (``vcr``).
Each returns the final reply (the router copies the ref) or None when it has nothing to send
(the VCR handlers queue their own replies).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from goval._proto.api_pb2 import Command
from goval.errors import AuthError, GovalError, PermissionDenied
from goval.identity import Identity, Role
from goval.protocol.connection import CloseCode
from goval.server.auth import Authenticator
from goval.server.vcr import read_vcr, start_vcr
from goval.services.base import ok

if TYPE_CHECKING:
    from goval.server.router import Router
    from goval.server.session import Session

__all__ = ["ChannelZero"]

log = logging.getLogger("goval.channel0")


@dataclass
class ChannelZero:
    """Answers the operator messages of channel 0 for one server."""

    authenticator: Authenticator
    no_auth: bool

    async def handle(
        self, router: Router, session: Session, command: Command, body: str
    ) -> Command | None:
        match body:
            case "ping":
                reply = Command()
                reply.pong.SetInParent()
                return reply
            case "hello":
                return self._hello(session, command)
            case "auth":
                return self._auth(session, command.auth.token)
            case "goodbye":
                session.close(CloseCode.NORMAL, "goodbye")
                return None
            case "incRef":
                router.restart_idle_timers()
                return ok()
            case "debug":
                log.info("session %d debug: %s", session.session_id, command.debug.text)
                return ok()
            case "hasCap":
                return Command(hasCap=session.identity.role >= Role.WRITE)
            case "pid1Config":
                return self._pid1_config(router, session, command)
            case "startVCR":
                start_vcr(router, session, command)
                return None
            case "readVCR":
                await read_vcr(router, session, command)
                return None
        raise GovalError(f"unsupported command {body} on channel 0")

    def _hello(self, session: Session, command: Command) -> Command:
        hello = command.hello
        if hello.token:
            return self._auth(session, hello.token)
        if self.no_auth:
            current = session.identity
            session.identity = Identity(
                user_id=hello.userid or current.user_id,
                name=hello.username or current.name,
                role=current.role,
            )
        return ok()

    def _auth(self, session: Session, token: str) -> Command:
        """A fresh token: same user and workspace; the role becomes the new token's."""
        try:
            identity = self.authenticator.verify(token)
        except AuthError as exc:
            return Command(error=f"invalid token: {exc.reason}")
        if not self.no_auth and identity.user_id != session.identity.user_id:
            return Command(error="invalid token: different user")
        session.identity = identity
        return ok()

    def _pid1_config(self, router: Router, session: Session, command: Command) -> Command:
        if session.identity.role < Role.OWNER:
            raise PermissionDenied("pid1Config")
        config = command.pid1Config
        defaults = router.resources.process_defaults
        defaults.cwd = config.cwd
        defaults.language = config.language
        defaults.env = dict(config.env)
        return ok()
