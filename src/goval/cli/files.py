"""File subcommands of ``goval``: ls, cat, put, get, rm, mv, mkdir (over the wire) and snapshot.

Owns the command-line face of the file services: each command connects with the client
library, opens ``gcsfiles`` and maps one request to stdout/stderr. ``put``/``get`` stream through
signed URLs (``fileAuthReq``), so big files never become one WebSocket message, with a progress
line on stderr. ``snapshot list|restore`` works on a local workspace's snapshot store directly
(restoring rewrites files, which no wire message does).

Exit codes scripts can trust: 0 success; 1 the server refused or failed (its exact error text on
stderr), or the connection failed; 2 usage errors (argparse).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any, BinaryIO

import aiohttp

from goval._proto.api_pb2 import Command, File, FileAuthMethod, FileAuthReq, Move
from goval.cli.common import (
    CONNECTION_FAILURES,
    CommandFailed,
    client_command_adder,
    connect_to,
    run_session,
)
from goval.client import Channel, ServerError, websocket_url

__all__ = ["add_file_commands"]

CHUNK = 256 * 1024
Action = Callable[[Channel, argparse.Namespace], Coroutine[Any, Any, None]]


def add_file_commands(commands: Any) -> None:
    """Add the file subcommands to ``goval``'s subparsers."""
    add = client_command_adder(commands, _run, token_from_env=True)

    ls = add("ls", _ls, "list a directory of the workspace")
    ls.add_argument("path", nargs="?", default=".")
    ls.add_argument("-l", "--long", action="store_true", help="type, mode, size, time")
    add("cat", _cat, "print files").add_argument("paths", nargs="+", metavar="path")
    put = add("put", _put, "upload a local file (- = stdin)")
    put.add_argument("local")
    put.add_argument("remote")
    get = add("get", _get, "download a file (- = stdout)")
    get.add_argument("remote")
    get.add_argument("local", nargs="?", default=None)
    for sub in (put, get):
        sub.add_argument("--progress", action="store_true", help="progress even without a tty")
        sub.add_argument("--quiet", action="store_true", help="no progress line")
    rm = add("rm", _rm, "remove files or directories (recursive)")
    rm.add_argument("paths", nargs="+", metavar="path")
    rm.add_argument("-f", "--force", action="store_true", help="a missing path is fine")
    mv = add("mv", _mv, "move a file or directory (never overwrites)")
    mv.add_argument("old")
    mv.add_argument("new")
    add("mkdir", _mkdir, "create directories (with parents)").add_argument(
        "paths", nargs="+", metavar="path"
    )
    _add_snapshot(commands)


def _run(args: argparse.Namespace, action: Action) -> int:
    async def main() -> None:
        async with connect_to(args) as client:
            channel = await client.open("gcsfiles")
            await action(channel, args)

    return run_session("goval", main(), failures=CONNECTION_FAILURES)


# -- requests -----------------------------------------------------------------------------------
async def _ls(channel: Channel, args: argparse.Namespace) -> None:
    reply = await channel.request(Command(readdir=File(path=args.path)))
    lines = []
    for entry in reply.files.files:
        is_dir = entry.type == File.DIRECTORY
        if not args.long:
            lines.append(entry.path + ("/" if is_dir else ""))
            continue
        full = entry.path if args.path in ("", ".") else f"{args.path.rstrip('/')}/{entry.path}"
        stat = (await channel.request(Command(stat=File(path=full)))).statRes
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(stat.modTime))
        lines.append(f"{stat.fileMode} {stat.size:>12} {when} {entry.path}{'/' if is_dir else ''}")
    if lines:
        print("\n".join(lines))


async def _cat(channel: Channel, args: argparse.Namespace) -> None:
    out = sys.stdout.buffer
    for path in args.paths:
        reply = await channel.request(Command(read=File(path=path)), check=False)
        if reply.error.endswith(": file too large"):
            await _download(channel, args, path, out, progress=False)  # too big for one message
        elif reply.error:
            raise ServerError(reply.error, reply)
        else:
            out.write(reply.file.content)
    out.flush()


async def _rm(channel: Channel, args: argparse.Namespace) -> None:
    for path in args.paths:
        command = (
            Command(tryRemove=File(path=path)) if args.force else Command(remove=File(path=path))
        )
        await channel.request(command)


async def _mv(channel: Channel, args: argparse.Namespace) -> None:
    await channel.request(Command(move=Move(oldPath=args.old, newPath=args.new)))


async def _mkdir(channel: Channel, args: argparse.Namespace) -> None:
    for path in args.paths:
        await channel.request(Command(mkdir=File(path=path)))


# -- transfers through signed URLs ---------------------------------------------------------------
async def _signed_url(
    channel: Channel, args: argparse.Namespace, path: str, method: FileAuthMethod.ValueType
) -> str:
    request = FileAuthReq(file=File(path=path), method=method)
    reply = await channel.request(Command(fileAuthReq=request))
    result = reply.mutliFileAuthRes.put if method == FileAuthMethod.PUT else reply.fileAuthRes
    if result.error:
        raise CommandFailed(result.error)
    return _reachable(websocket_url(args.url, args.token), result.url)


def _reachable(connected_to: str, url: str) -> str:
    """The signed URL's path and query on the host we connected to (the server may not know
    the name it is reached by, e.g. behind a proxy)."""
    ours = urllib.parse.urlsplit(connected_to)
    theirs = urllib.parse.urlsplit(url)
    scheme = {"ws": "http", "wss": "https"}.get(ours.scheme, ours.scheme)
    return urllib.parse.urlunsplit((scheme, ours.netloc, theirs.path, theirs.query, ""))


def _wants_progress(args: argparse.Namespace) -> bool:
    return not args.quiet and (args.progress or sys.stderr.isatty())


async def _put(channel: Channel, args: argparse.Namespace) -> None:
    url = await _signed_url(channel, args, args.remote, FileAuthMethod.PUT)
    if args.local == "-":
        source: BinaryIO = sys.stdin.buffer
    else:
        source = await asyncio.to_thread(open, args.local, "rb")
    with source:
        total = os.fstat(source.fileno()).st_size if args.local != "-" else 0
        progress = _Progress(f"put {args.remote}", total, _wants_progress(args))

        async def body() -> AsyncIterator[bytes]:
            while chunk := await asyncio.to_thread(source.read, CHUNK):
                progress.advance(len(chunk))
                yield chunk

        async with aiohttp.ClientSession() as http, http.put(url, data=body()) as response:
            if response.status != 200:
                raise CommandFailed((await response.text()).strip() or f"HTTP {response.status}")
        progress.done()


async def _get(channel: Channel, args: argparse.Namespace) -> None:
    if args.local == "-":
        await _download(channel, args, args.remote, sys.stdout.buffer, _wants_progress(args))
        sys.stdout.buffer.flush()
        return
    local = Path(args.local or Path(args.remote).name)
    partial = local.with_name(f".{local.name}.part")
    try:
        with await asyncio.to_thread(open, partial, "wb") as out:
            await _download(channel, args, args.remote, out, _wants_progress(args))
        os.replace(partial, local)  # a failed download leaves the old local file alone
    finally:
        partial.unlink(missing_ok=True)


async def _download(
    channel: Channel, args: argparse.Namespace, path: str, out: BinaryIO, progress: bool
) -> None:
    url = await _signed_url(channel, args, path, FileAuthMethod.GET)
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        if response.status != 200:
            raise CommandFailed((await response.text()).strip() or f"HTTP {response.status}")
        meter = _Progress(f"get {path}", response.content_length or 0, progress)
        async for chunk in response.content.iter_chunked(CHUNK):
            await asyncio.to_thread(out.write, chunk)
            meter.advance(len(chunk))
        meter.done()


class _Progress:
    """One self-rewriting stderr line: bytes done, total, percent and rate."""

    def __init__(self, label: str, total: int, enabled: bool) -> None:
        self.label = label
        self.total = total
        self.enabled = enabled
        self.done_bytes = 0
        self.started = time.monotonic()
        self._shown = 0.0

    def advance(self, n: int) -> None:
        self.done_bytes += n
        now = time.monotonic()
        if self.enabled and now - self._shown >= 0.1:
            self._shown = now
            self._draw(now)

    def done(self) -> None:
        if self.enabled:
            self._draw(time.monotonic())
            sys.stderr.write("\n")
            sys.stderr.flush()

    def _draw(self, now: float) -> None:
        mib = self.done_bytes / 2**20
        rate = mib / max(now - self.started, 1e-6)
        if self.total:
            share = f"/ {self.total / 2**20:.1f} MiB {100 * self.done_bytes // self.total:3d}%"
        else:
            share = ""
        sys.stderr.write(f"\r{self.label} {mib:.1f} MiB {share} {rate:.1f} MiB/s ")
        sys.stderr.flush()


# -- snapshots (local) -----------------------------------------------------------------------------
def _add_snapshot(commands: Any) -> None:
    snapshot = commands.add_parser("snapshot", help="list or restore a workspace's snapshots")
    actions = snapshot.add_subparsers(required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list snapshots, newest first")
    restore = actions.add_parser("restore", help="set the workspace's files to a snapshot")
    restore.add_argument("rev")
    for sub in (listing, restore):
        sub.add_argument("workspace", nargs="?", default=".", type=Path)
        sub.add_argument("--state-dir", type=Path, default=None)
    listing.set_defaults(run=_snapshot_list)
    restore.set_defaults(run=_snapshot_restore)


def _store(args: argparse.Namespace) -> Any:
    from goval.services.snapshot import open_snapshot_store

    workspace = args.workspace.resolve()
    return open_snapshot_store(workspace, args.state_dir or workspace / ".goval")


def _snapshot_list(args: argparse.Namespace) -> int:
    for snapshot in _store(args).list():
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(snapshot.time))
        print(f"{snapshot.rev} {when} {snapshot.message}")
    return 0


def _snapshot_restore(args: argparse.Namespace) -> int:
    from goval.errors import GovalError

    try:
        _store(args).restore(args.rev)
    except GovalError as exc:
        print(f"goval: {exc}", file=sys.stderr)
        return 1
    print(f"restored {args.rev}")
    return 0
