"""Signed file URLs served over HTTP (protocol §4.1): ``/fs/<escaped path>?m=&e=&s=``.

Owns the ``/fs/`` routes: GET/HEAD stream a file, PUT streams the body into an atomic writer
(temp file, fsync, rename: a half-uploaded or failed PUT changes nothing), DELETE removes.
The signature is checked before anything touches the file system: bad, tampered or expired
→ 403. Missing → 404. Signing lives in ``services/file_urls.py``, the guarded tree in
``storage.Workspace``; nothing here resolves a path by itself. Bodies are streamed in chunks
(file I/O in threads), so a 1 GB file never sits in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import urllib.parse
from typing import BinaryIO

from aiohttp import web

from goval.errors import FileError
from goval.services.file_urls import FS_PREFIX, UrlSigner
from goval.storage import Workspace

__all__ = ["mount_files"]

log = logging.getLogger("goval.files_http")
CHUNK = 1024 * 1024
_STATUS = {
    FileError.NOT_FOUND: 404,
    FileError.PERMISSION_DENIED: 403,
    FileError.IS_A_DIRECTORY: 409,
    FileError.NOT_A_DIRECTORY: 409,
    FileError.EXISTS: 409,
    FileError.TOO_LARGE: 413,
}


def mount_files(app: web.Application, workspace: Workspace, signer: UrlSigner) -> None:
    """Add the ``/fs/`` routes for ``workspace`` to ``app``."""
    handler = _FileRoutes(workspace, signer)
    app.router.add_route("GET", FS_PREFIX + "{path:.*}", handler.get)
    app.router.add_route("HEAD", FS_PREFIX + "{path:.*}", handler.head)
    app.router.add_route("PUT", FS_PREFIX + "{path:.*}", handler.put)
    app.router.add_route("DELETE", FS_PREFIX + "{path:.*}", handler.delete)


def _error_response(exc: FileError) -> web.Response:
    return web.Response(status=_STATUS.get(exc.reason, 400), text=str(exc) + "\n")


class _FileRoutes:
    def __init__(self, workspace: Workspace, signer: UrlSigner) -> None:
        self.workspace = workspace
        self.signer = signer

    def _authorised_path(self, request: web.Request) -> str:
        """The signed path of the request, or raise 403 (before any file access)."""
        raw = request.raw_path.split("?", 1)[0][len(FS_PREFIX) :]
        path = urllib.parse.unquote(raw, errors="surrogateescape")
        query = request.query
        valid = self.signer.verify(
            request.method, path, query.get("m", ""), query.get("e", ""), query.get("s", "")
        )
        if not valid:
            raise web.HTTPForbidden(text="invalid or expired signature\n")
        return path

    async def head(self, request: web.Request) -> web.StreamResponse:
        return await self._send(request, body=False)

    async def get(self, request: web.Request) -> web.StreamResponse:
        return await self._send(request, body=True)

    async def _send(self, request: web.Request, body: bool) -> web.StreamResponse:
        path = self._authorised_path(request)
        try:
            f = await asyncio.to_thread(self.workspace.open_for_streaming_read, path)
        except FileError as exc:
            return _error_response(exc)
        with f:
            size = os.fstat(f.fileno()).st_size
            response = web.StreamResponse(
                headers={"Content-Type": "application/octet-stream", "Cache-Control": "no-store"}
            )
            response.content_length = size
            await response.prepare(request)
            if body:
                await _copy_out(f, response, size)
            await response.write_eof()
        return response

    async def put(self, request: web.Request) -> web.StreamResponse:
        path = self._authorised_path(request)
        writer = self.workspace.atomic_writer(path, durable=True)
        try:
            f = await asyncio.to_thread(writer.__enter__)
        except FileError as exc:
            return _error_response(exc)
        try:
            async for chunk in request.content.iter_chunked(CHUNK):
                await asyncio.to_thread(f.write, chunk)
        except BaseException as exc:
            # The temp file is dropped: the old content stays (a failed upload changes nothing).
            with contextlib.suppress(Exception):
                await asyncio.to_thread(writer.__exit__, type(exc), exc, exc.__traceback__)
            raise
        try:
            await asyncio.to_thread(writer.__exit__, None, None, None)
        except FileError as exc:
            return _error_response(exc)
        return web.Response(status=200, text="")

    async def delete(self, request: web.Request) -> web.StreamResponse:
        path = self._authorised_path(request)
        try:
            await asyncio.to_thread(self.workspace.remove, path)
        except FileError as exc:
            return _error_response(exc)
        return web.Response(status=204)


async def _copy_out(f: BinaryIO, response: web.StreamResponse, size: int) -> None:
    """Stream at most ``size`` bytes (the length announced) from ``f``."""
    remaining = size
    while remaining > 0:
        chunk = await asyncio.to_thread(f.read, min(CHUNK, remaining))
        if not chunk:
            break  # truncated while we sent it; the client sees a short body
        remaining -= len(chunk)
        await response.write(chunk)
