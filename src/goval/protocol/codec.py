"""Bytes <-> ``Command``: the only place frames are parsed or serialised.

Owns the message-size limit and the mapping of decode failures to one exception. It knows nothing
of channels or sessions and never touches sockets.
"""

from __future__ import annotations

from google.protobuf.message import DecodeError as _ProtobufDecodeError

from goval._proto.api_pb2 import Command

__all__ = ["DEFAULT_MAX_MESSAGE", "DecodeError", "body_of", "decode", "encode"]

DEFAULT_MAX_MESSAGE = 32 * 1024 * 1024


class DecodeError(Exception):
    """A frame that is not a valid ``Command``; ``detail`` is safe to show the client."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def decode(data: bytes, max_size: int = DEFAULT_MAX_MESSAGE) -> Command:
    """Parse one frame. Raises DecodeError for oversized or malformed frames."""
    if len(data) > max_size:
        raise DecodeError(f"message of {len(data)} bytes exceeds the limit of {max_size}")
    command = Command()
    try:
        command.ParseFromString(data)
    except _ProtobufDecodeError as exc:
        # upb reports invalid UTF-8 in string fields as a parse failure too.
        raise DecodeError(str(exc) or "malformed protobuf") from None
    return command


def encode(command: Command) -> bytes:
    """Serialise one command into a frame."""
    return command.SerializeToString()


def body_of(command: Command) -> str | None:
    """The name of the command's oneof body field, or None when it has no body."""
    return command.WhichOneof("body")
