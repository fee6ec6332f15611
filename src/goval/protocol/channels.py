"""The server-wide channel table: ids, names, attachments, and the open/close rules.

Pure bookkeeping for protocol.md §2.2–§2.4: it decides what an ``openChan`` or ``closeChan``
means and reports the outcome; the router turns outcomes into service calls and replies. It knows
which service a channel belongs to only by its canonical wire name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from goval._proto.api_pb2 import CloseChannel, CloseChannelRes, OpenChannel

__all__ = [
    "Channel",
    "ChannelTable",
    "CloseOutcome",
    "OpenOutcome",
    "OpenRefused",
]

DEFAULT_MAX_CHANNELS_PER_SESSION = 256


class OpenRefused(Exception):
    """``openChan`` fails; ``str()`` is the ``openChanRes.error`` text."""


@dataclass(eq=False)
class Channel:
    """One channel: a service instance that sessions attach to."""

    id: int
    service: str
    name: str
    owner: int | None
    # dict for insertion order: services see peers in attach order.
    sessions: dict[int, None] = field(default_factory=dict)

    @property
    def anonymous(self) -> bool:
        return self.name == ""


@dataclass(frozen=True)
class OpenOutcome:
    channel: Channel
    created: bool


@dataclass(frozen=True)
class CloseOutcome:
    """``status`` for closeChanRes; ``channel`` set unless nothing happened.

    ``destroyed`` means the channel is gone and every session in ``detached`` (including the
    closer) lost it; otherwise only the closer was detached.
    """

    status: CloseChannelRes.Status.ValueType
    channel: Channel | None
    destroyed: bool
    detached: tuple[int, ...]


class ChannelTable:
    """All channels of one server. Ids start at 1 and are never reused."""

    def __init__(self, max_per_session: int = DEFAULT_MAX_CHANNELS_PER_SESSION) -> None:
        self._max_per_session = max_per_session
        self._next_id = 1
        self._channels: dict[int, Channel] = {}
        self._named: dict[tuple[str, str], int] = {}
        self._held: dict[int, set[int]] = {}

    def get(self, channel_id: int) -> Channel | None:
        return self._channels.get(channel_id)

    def held_by(self, session: int) -> frozenset[int]:
        """The channel ids a session is attached to."""
        return frozenset(self._held.get(session, ()))

    def channels(self) -> list[Channel]:
        return list(self._channels.values())

    def open(
        self, session: int, service: str, name: str, action: OpenChannel.Action.ValueType
    ) -> OpenOutcome:
        """Apply an openChan for a known, permitted service. Raises OpenRefused."""
        held = self._held.setdefault(session, set())
        if len(held) >= self._max_per_session:
            raise OpenRefused("too many channels")
        existing = self._lookup(service, name)
        if action == OpenChannel.ATTACH or (action == OpenChannel.ATTACH_OR_CREATE and name):
            if existing is not None:
                if session in existing.sessions:
                    raise OpenRefused(f"already attached: {name}")
                self._attach(existing, session)
                return OpenOutcome(existing, created=False)
            if action == OpenChannel.ATTACH:
                raise OpenRefused(f"no channel named {name}")
        return OpenOutcome(self._create(session, service, name), created=True)

    def close(
        self,
        session: int,
        channel_id: int,
        action: CloseChannel.Action.ValueType,
        may_destroy: bool,
    ) -> CloseOutcome:
        """Apply a closeChan; ``may_destroy`` is whether the role may force-CLOSE (write+)."""
        channel = self._channels.get(channel_id)
        if channel is None or session not in channel.sessions:
            return CloseOutcome(CloseChannelRes.NOTHING, None, destroyed=False, detached=())
        if action == CloseChannel.CLOSE and may_destroy:
            return self._destroy(channel)
        self._detach(channel, session)
        anonymous_dies = action == CloseChannel.DISCONNECT and channel.anonymous
        nobody_left = action != CloseChannel.DISCONNECT and not channel.sessions
        if anonymous_dies or nobody_left:
            return self._destroy(channel, also=(session,))
        return CloseOutcome(
            CloseChannelRes.DISCONNECT, channel, destroyed=False, detached=(session,)
        )

    def disconnect_all(self, session: int) -> list[CloseOutcome]:
        """Socket loss: DISCONNECT on every channel the session holds, in id order."""
        outcomes = [
            self.close(session, channel_id, CloseChannel.DISCONNECT, may_destroy=False)
            for channel_id in sorted(self._held.get(session, ()))
        ]
        self._held.pop(session, None)
        return outcomes

    def destroy(self, channel_id: int) -> CloseOutcome:
        """Destroy a channel (idle timeout, shutdown); NOTHING if it is already gone."""
        channel = self._channels.get(channel_id)
        if channel is None:
            return CloseOutcome(CloseChannelRes.NOTHING, None, destroyed=False, detached=())
        return self._destroy(channel)

    def _lookup(self, service: str, name: str) -> Channel | None:
        if not name:
            return None
        channel_id = self._named.get((service, name))
        return None if channel_id is None else self._channels.get(channel_id)

    def _create(self, session: int, service: str, name: str) -> Channel:
        channel = Channel(self._next_id, service, name, owner=None if name else session)
        self._next_id += 1
        self._channels[channel.id] = channel
        if name:
            # CREATE on an existing name re-points the name; the older channel lives on.
            self._named[(service, name)] = channel.id
        self._attach(channel, session)
        return channel

    def _attach(self, channel: Channel, session: int) -> None:
        channel.sessions[session] = None
        self._held.setdefault(session, set()).add(channel.id)

    def _detach(self, channel: Channel, session: int) -> None:
        channel.sessions.pop(session, None)
        held = self._held.get(session)
        if held is not None:
            held.discard(channel.id)

    def _destroy(self, channel: Channel, also: tuple[int, ...] = ()) -> CloseOutcome:
        detached = (*also, *channel.sessions)
        for session in list(channel.sessions):
            self._detach(channel, session)
        del self._channels[channel.id]
        if channel.name and self._named.get((channel.service, channel.name)) == channel.id:
            del self._named[(channel.service, channel.name)]
        return CloseOutcome(CloseChannelRes.CLOSE, channel, destroyed=True, detached=detached)
