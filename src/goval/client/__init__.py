"""The goval client library: ``async with connect(url, token) as client``."""

from goval.client.channel import Channel, ChannelClosed, ServerError
from goval.client.connection import (
    ChannelOpenError,
    Client,
    ConnectionLost,
    connect,
    websocket_url,
)

__all__ = [
    "Channel",
    "ChannelClosed",
    "ChannelOpenError",
    "Client",
    "ConnectionLost",
    "ServerError",
    "connect",
    "websocket_url",
]
