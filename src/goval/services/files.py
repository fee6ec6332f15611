"""The ``gcsfiles`` and ``files`` services (protocol §4.1): the workspace tree over the wire.

Owns the request → reply mapping of the file table: readdir, read, write, persist(Mirror),
mkdir, remove, tryRemove, move, stat, fileAuthReq (signed URLs) and listObjects. Every path goes
through ``resources.workspace`` (the guarded tree: path cleaning, escapes, atomic writes and the
exact Go-style error texts live there, not here). ``files`` is ``gcsfiles`` with every mutation
refused; a read-role session on ``gcsfiles`` gets the same through ``write_bodies``.

``read`` of ``.config/goval/info`` answers a JSON document about the server generated here
(not a file on disk), so a client can identify what it talks to.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from importlib import metadata
from typing import TypeVar

from goval._proto.api_pb2 import (
    Command,
    File,
    FileAuthMethod,
    FileAuthRes,
)
from goval.errors import FileError, PermissionDenied
from goval.identity import Role
from goval.services.base import Peer, Reply, Service, ok
from goval.storage import StatInfo

__all__ = ["INFO_PATH", "MUTATIONS", "FilesService", "GcsFilesService"]

T = TypeVar("T")

MUTATIONS = frozenset({"write", "mkdir", "remove", "tryRemove", "move", "persist", "persistMirror"})
INFO_PATH = ".config/goval/info"
# Contents up to this size are handled on the event loop; bigger ones go to a thread so a
# large file never stalls other sessions.
_INLINE_BYTES = 256 * 1024
# Room for the rest of a ``file`` reply (ids, ref, path) inside the message limit.
_REPLY_OVERHEAD = 256


def _server_version() -> str:
    try:
        return metadata.version("goval")
    except metadata.PackageNotFoundError:
        return "0+unknown"


class GcsFilesService(Service):
    """``gcsfiles``: read-write access to the workspace tree."""

    name = "gcsfiles"
    min_role = Role.READ
    write_bodies = MUTATIONS
    read_only = False

    async def handle(self, peer: Peer, command: Command, body: str) -> Reply:
        if self.read_only and body in MUTATIONS:
            raise PermissionDenied(body)
        ws = self.ctx.resources.workspace
        match body:
            case "readdir":
                entries = await asyncio.to_thread(ws.readdir, command.readdir.path)
                reply = Command()
                reply.files.SetInParent()  # an empty directory still answers files{}
                reply.files.files.extend(
                    File(path=e.name, type=File.DIRECTORY if e.is_dir else File.REGULAR)
                    for e in entries
                )
                return reply
            case "read":
                return await self._read(command.read.path)
            case "write" | "persist" | "persistMirror":
                target: File = getattr(command, body)
                durable = body != "write"
                await _maybe_thread(
                    len(target.content), ws.write, target.path, target.content, durable
                )
                return ok()
            case "mkdir":
                ws.mkdir(command.mkdir.path)
                return ok()
            case "remove" | "tryRemove":
                return await self._remove(getattr(command, body).path, body == "tryRemove")
            case "move":
                ws.move(command.move.oldPath, command.move.newPath)
                return ok()
            case "stat":
                return _stat_reply(ws.stat(command.stat.path))
            case "fileAuthReq":
                return self._file_auth(peer, command)
            case "listObjects":
                objects = await asyncio.to_thread(ws.list_objects, command.listObjects.prefix)
                reply = Command()
                reply.listObjectsResp.SetInParent()
                reply.listObjectsResp.objects.extend(objects)
                return reply
        return await super().handle(peer, command, body)

    async def _read(self, path: str) -> Command:
        ws = self.ctx.resources.workspace
        rel = ws.clean(path, "open")
        limit = self.ctx.resources.max_message - len(rel.encode()) - _REPLY_OVERHEAD
        if rel == INFO_PATH:
            content = self._info()
        else:
            # stat is a few syscalls: it lets small files skip the thread hop.
            try:
                size = ws.stat(rel).size
            except FileError:
                size = limit  # read reports it, with its own op in the text
            content = await _maybe_thread(size, ws.read, rel, limit)
        reply = Command()
        reply.file.path = rel
        reply.file.content = content
        return reply

    def _info(self) -> bytes:
        document = {
            "server": "goval",
            "version": _server_version(),
            "workspaceId": self.ctx.resources.workspace_id,
            "protocol": "goval-2020",
        }
        return json.dumps(document, sort_keys=True).encode()

    async def _remove(self, path: str, missing_ok: bool) -> Command:
        ws = self.ctx.resources.workspace
        try:
            # A directory tree can be big: rmtree goes to a thread.
            await asyncio.to_thread(ws.remove, path)
        except FileError as exc:
            if not (missing_ok and exc.reason == FileError.NOT_FOUND):
                raise
        return ok()

    def _file_auth(self, peer: Peer, command: Command) -> Command:
        request = command.fileAuthReq
        method = FileAuthMethod.Name(request.method)
        mutating = request.method in (FileAuthMethod.PUT, FileAuthMethod.DELETE)
        if mutating and (self.read_only or peer.identity.role < Role.WRITE):
            raise PermissionDenied("fileAuthReq")
        reply = Command()
        if request.method == FileAuthMethod.PUT:
            multi = reply.mutliFileAuthRes
            multi.put.CopyFrom(self._signed(request.file.path, "PUT"))
            # ``del`` is a Python keyword, hence getattr.
            getattr(multi, "del").CopyFrom(self._signed(request.file.path, "DELETE"))
            multi.get.CopyFrom(self._signed(request.file.path, "GET"))
        else:
            reply.fileAuthRes.CopyFrom(self._signed(request.file.path, method))
        return reply

    def _signed(self, path: str, method: str) -> FileAuthRes:
        result = FileAuthRes(method=FileAuthMethod.Value(method))
        try:
            rel = self.ctx.resources.workspace.clean(path, "open")
        except FileError as exc:
            result.file.path = path
            result.error = str(exc)
            return result
        signed = self.ctx.resources.url_signer.sign(method, rel)
        result.file.path = rel
        result.url = signed.url
        result.expire = signed.expire
        return result


class FilesService(GcsFilesService):
    """``files``: ``gcsfiles`` with every mutation refused (``permission denied: <field>``)."""

    name = "files"
    read_only = True


def _stat_reply(info: StatInfo) -> Command:
    reply = Command()
    result = reply.statRes
    result.exists = info.exists
    if info.exists:
        result.type = File.DIRECTORY if info.is_dir else File.REGULAR
        result.size = info.size
        result.fileMode = info.file_mode
        result.modTime = info.mod_time
    else:
        result.SetInParent()
    return reply


async def _maybe_thread(size: int, function: Callable[..., T], *args: object) -> T:
    """Run small work inline, big work in a thread (see ``_INLINE_BYTES``)."""
    if size <= _INLINE_BYTES:
        return function(*args)
    return await asyncio.to_thread(function, *args)
