"""Helpers for the ot service tests: commands and a harness with linked peers."""

from __future__ import annotations

from collections.abc import Sequence

from goval._proto.api_pb2 import Command
from goval.ot import Component, Delete
from goval.testing import FakePeer


def link(path: str, high_consistency: bool = False) -> Command:
    command = Command()
    command.otLinkFile.file.path = path
    command.otLinkFile.highConsistency = high_consistency
    return command


def edit(base: int, ops: Sequence[Component], nonce: int = 0, spooky_only: bool = False) -> Command:
    command = Command()
    command.ot.spookyVersion = base
    if not spooky_only:
        command.ot.version = base + 1
    command.ot.nonce = nonce
    for c in ops:
        if isinstance(c, Delete):
            command.ot.ops.add(delete=c.n)
        elif isinstance(c, str):
            command.ot.ops.add(insert=c)
        else:
            command.ot.ops.add(skip=c)
    return command


def fetch(version_from: int, version_to: int) -> Command:
    command = Command()
    command.otFetchRequest.versionFrom = version_from
    command.otFetchRequest.versionTo = version_to
    return command


def cursor(cursor_id: str, position: int, start: int = 0, end: int = 0) -> Command:
    command = Command()
    c = command.otNewCursor
    c.id, c.position, c.selectionStart, c.selectionEnd = cursor_id, position, start, end
    return command


def flush() -> Command:
    command = Command()
    command.flush.SetInParent()
    return command


def bodies(peer: FakePeer) -> list[str]:
    return [str(c.WhichOneof("body")) for c in peer.received]


def packets(peer: FakePeer) -> list[Command]:
    return [c for c in peer.received if c.WhichOneof("body") == "ot"]


def wire_ops(command: Command) -> list[object]:
    out: list[object] = []
    for c in command.ot.ops:
        kind = c.WhichOneof("op")
        out.append(
            c.insert if kind == "insert" else {"d": c.delete} if kind == "delete" else c.skip
        )
    return out
