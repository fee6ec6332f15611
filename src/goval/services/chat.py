"""The ``chat`` service (protocol.md §4.10): messages and typing between attached sessions.

``chatMessage`` and ``chatTyping`` go to the other members (never echoed) with the username
overwritten by the sender's own. Messages of a named chat persist in the state database (the last
``keep``); an anonymous chat keeps them in memory only. A newcomer gets one ``chatScrollback``
when there is history.
"""

from __future__ import annotations

import asyncio
import collections

from goval._proto.api_pb2 import ChatMessage, ChatScrollback, ChatTyping, Command
from goval.errors import LimitExceeded
from goval.identity import Role
from goval.services.base import Peer, Reply, Service, ServiceContext
from goval.storage import ChatStore

__all__ = ["MAX_MESSAGE_BYTES", "ChatService"]

MAX_MESSAGE_BYTES = 64 * 1024


class ChatService(Service):
    name = "chat"
    min_role = Role.READ

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        self._keep = ctx.resources.chat_history  # protocol.md §3.7: 100 unless configured
        self._store = ChatStore(ctx.resources.database, self._keep) if ctx.channel.name else None
        self._memory: collections.deque[ChatMessage] = collections.deque(maxlen=self._keep)

    async def attach(self, peer: Peer) -> None:
        history = self._history()
        if history:
            scrollback = ChatScrollback(scrollback=history)
            self.ctx.channel.send(peer, Command(chatScrollback=scrollback))

    def _history(self) -> list[ChatMessage]:
        if self._store is None:
            return list(self._memory)
        return [
            ChatMessage(username=line.username, text=line.text)
            for line in self._store.last(self.ctx.channel.name)
        ]

    async def handle(self, peer: Peer, command: Command, body: str) -> Reply:
        username = peer.identity.name
        match body:
            case "chatMessage":
                text = command.chatMessage.text
                if len(text.encode("utf-8", "surrogatepass")) > MAX_MESSAGE_BYTES:
                    raise LimitExceeded("message too long")
                message = ChatMessage(username=username, text=text)
                # Delivery first: the others need not wait for the disk. The commit still
                # precedes the ok{} (if a ref asked for one) and the next command on the channel.
                self.ctx.channel.broadcast(Command(chatMessage=message), exclude=peer)
                if self._store is None:
                    self._memory.append(message)
                else:
                    name = self.ctx.channel.name
                    await asyncio.to_thread(self._store.append, name, username, text)
                return None
            case "chatTyping":
                typing = ChatTyping(username=username, typing=command.chatTyping.typing)
                self.ctx.channel.broadcast(Command(chatTyping=typing), exclude=peer)
                return None
        return await super().handle(peer, command, body)
