"""One session's protocol state machine (sans-I/O): frames in, events and replies out.

Owns what protocol.md says about a single connection: the handshake (§1.3), ping (§1.4), decode
failures and their close codes (§1.1), the ``session`` stamping rules (§2.1) and which channel-0
bodies are requests for the server. It does not know about services, sockets or asyncio: the
server feeds it frames and acts on the events it returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from goval._proto.api_pb2 import BootStatus, Command, ContainerState
from goval.protocol.codec import DEFAULT_MAX_MESSAGE, DecodeError, body_of, decode, encode

__all__ = [
    "CHANNEL_ZERO_REQUESTS",
    "CloseCode",
    "CloseConnection",
    "Connection",
    "Event",
    "Request",
    "Send",
    "broadcast_stamp",
]

# Channel-0 bodies the server (not this state machine) answers.
CHANNEL_ZERO_REQUESTS = frozenset(
    {
        "openChan",
        "closeChan",
        "hello",
        "auth",
        "goodbye",
        "incRef",
        "debug",
        "hasCap",
        "pid1Config",
        "startVCR",
        "readVCR",
    }
)

MAX_GARBAGE_IN_A_ROW = 3


class CloseCode:
    """WebSocket close codes used by goval (protocol.md §1.4)."""

    NORMAL = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    TRY_AGAIN_LATER = 1013


@dataclass(frozen=True)
class Send:
    """Send this command to the peer (already stamped)."""

    command: Command


@dataclass(frozen=True)
class Request:
    """A valid command for the server: a channel-0 request or a command on a held channel."""

    command: Command
    body: str


@dataclass(frozen=True)
class CloseConnection:
    code: int
    reason: str


Event = Send | Request | CloseConnection


def broadcast_stamp(except_session: int | None) -> int:
    """The ``session`` value of a broadcast: 0 for everyone, −originator for all but one."""
    return 0 if except_session is None else -except_session


class Connection:
    """Protocol state of one WebSocket session.

    ``held`` is the set of channel ids the session is attached to; the server keeps it current
    (via :meth:`attached` / :meth:`detached`) so commands on foreign channels are refused here.
    """

    def __init__(self, session_id: int, max_message: int = DEFAULT_MAX_MESSAGE) -> None:
        self.session_id = session_id
        self.max_message = max_message
        self.held: set[int] = set()
        self.ready = False
        self._garbage_in_a_row = 0

    def handshake(self) -> list[Command]:
        """The commands that open every connection, ending with containerState READY."""
        commands = []
        for stage in (BootStatus.HANDSHAKE, BootStatus.ACQUIRING, BootStatus.COMPLETE):
            command = Command()
            command.bootStatus.stage = stage
            commands.append(self.stamp(command))
        ready = Command()
        ready.containerState.state = ContainerState.READY
        commands.append(self.stamp(ready))
        self.ready = True
        return commands

    def stamp(self, command: Command) -> Command:
        """Address a command to this session alone (replies, greetings, handshake)."""
        command.session = self.session_id
        return command

    def attached(self, channel_id: int) -> None:
        self.held.add(channel_id)

    def detached(self, channel_id: int) -> None:
        self.held.discard(channel_id)

    def receive_text(self) -> CloseConnection:
        """A text frame: the protocol is binary only."""
        return CloseConnection(CloseCode.UNSUPPORTED_DATA, "text frames are not supported")

    def receive_oversized(self) -> CloseConnection:
        return CloseConnection(CloseCode.MESSAGE_TOO_BIG, "message too big")

    def receive(self, data: bytes) -> Event:
        """Handle one binary frame and say what to do about it."""
        if len(data) > self.max_message:
            return self.receive_oversized()
        try:
            command = decode(data, self.max_message)
        except DecodeError as exc:
            self._garbage_in_a_row += 1
            if self._garbage_in_a_row >= MAX_GARBAGE_IN_A_ROW:
                return CloseConnection(CloseCode.PROTOCOL_ERROR, "too many invalid commands")
            return Send(self._error(0, "", f"invalid command: {exc.detail}"))
        self._garbage_in_a_row = 0
        command.session = self.session_id  # inbound session is always the sender's id
        return self._route(command)

    def _route(self, command: Command) -> Event:
        body = body_of(command)
        if body is None:
            return Send(self._error(0, command.ref, "empty command"))
        if command.channel != 0:
            if command.channel not in self.held:
                text = f"not attached to channel {command.channel}"
                return Send(self._error(0, command.ref, text))
            return Request(command, body)
        if body == "ping":
            pong = Command(ref=command.ref)
            pong.pong.SetInParent()
            return Send(self.stamp(pong))
        if body in CHANNEL_ZERO_REQUESTS:
            return Request(command, body)
        return Send(self._error(0, command.ref, f"unsupported command {body} on channel 0"))

    def _error(self, channel: int, ref: str, text: str) -> Command:
        return self.stamp(Command(channel=channel, ref=ref, error=text))

    @staticmethod
    def encode(command: Command) -> bytes:
        return encode(command)
