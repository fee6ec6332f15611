"""``goval edit URL PATH`` and ``goval watch URL PATH``: collaborative editing from a terminal.

``edit`` opens ``$EDITOR`` on a temporary copy of the file and, each time the copy is saved (and
when the editor exits), sends the change as OT ops: the diff between the copy as last seen and
as saved, rebased over the edits others made meanwhile, so nobody's work is overwritten.
``watch`` prints every change to the document as it is committed. Both use
``goval.client.ot.SyncedDocument``; this module owns only the terminal side.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from goval.cli.common import add_client_command, connect_to, run_session
from goval.client.ot import SyncedDocument
from goval.ot import Component, Delete, Op, compose, diff, transform

__all__ = ["Rebaser", "add_commands", "describe"]

POLL_SECONDS = 0.3


def add_commands(commands: Any) -> None:
    """Register ``edit`` and ``watch`` on the ``goval`` subcommand parser."""
    edit = add_client_command(commands, "edit", "edit a workspace file in $EDITOR, live", _edit)
    edit.add_argument("path")
    watch = add_client_command(commands, "watch", "print live changes of a workspace file", _watch)
    watch.add_argument("path")
    watch.add_argument("--count", type=int, default=0, help="stop after N changes (0: never)")


class Rebaser:
    """Turns saves of a stale copy into ops on the live document (standard OT, one side).

    ``base`` is the copy as last seen; ``remote`` composes what others did to the document
    since. A save's diff from ``base`` is rebased over ``remote`` (the copy's edit loses insert
    ties, like any later op) and ``remote`` is rebased over the save for the next one.
    """

    def __init__(self, base: str) -> None:
        self.base = base
        self.remote: Op = []

    def on_change(self, op: Sequence[Component], from_others: bool) -> None:
        if from_others:
            self.remote = compose(self.remote, op)

    def saved(self, text: str) -> Op:
        """The op to send for a save of the copy as ``text``."""
        mine = diff(self.base, text)
        rebased = transform(mine, self.remote, "right")
        self.remote = transform(self.remote, mine, "left")
        self.base = text
        return rebased


def describe(version: int, op: Op) -> str:
    """One line for ``watch``: where the change happened and what it inserted or deleted."""
    pos = 0
    parts: list[str] = []
    for c in op:
        if isinstance(c, Delete):
            parts.append(f"@{pos} -{c.n}")
            pos += c.n
        elif isinstance(c, str):
            parts.append(f"@{pos} +{c!r}")
        else:
            pos += c
    return f"v{version}: " + (", ".join(parts) if parts else "(no change)")


def _edit(args: argparse.Namespace) -> int:
    return run_session("goval edit", _edit_session(args))


async def _edit_session(args: argparse.Namespace) -> int:
    path = args.path
    async with connect_to(args, reconnect=True) as client:
        doc = await SyncedDocument.open(client, path)
        rebaser = Rebaser(doc.text)
        doc.listeners.append(rebaser.on_change)
        with tempfile.TemporaryDirectory(prefix="goval-edit-") as tmp:
            copy = Path(tmp) / Path(path).name
            copy.write_text(doc.text, encoding="utf-8")
            editor = shlex.split(os.environ.get("EDITOR") or os.environ.get("VISUAL") or "vi")
            process = await asyncio.create_subprocess_exec(*editor, str(copy))
            seen = copy.stat().st_mtime_ns
            while True:
                try:
                    await asyncio.wait_for(process.wait(), POLL_SECONDS)
                    finished = True
                except TimeoutError:
                    finished = False
                stamp = copy.stat().st_mtime_ns if copy.exists() else seen
                if stamp != seen:
                    seen = stamp
                    _send_save(doc, rebaser, copy)
                if finished:
                    break
        await doc.wait_idle(30)
        await doc.aclose()
        print(f"{path}: version {doc.version}, {len(doc.text)} code points")
        return 0 if process.returncode == 0 else int(process.returncode or 1)


def _send_save(doc: SyncedDocument, rebaser: Rebaser, copy: Path) -> None:
    try:
        text = copy.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"goval edit: not sent: {exc}", file=sys.stderr)
        return
    op = rebaser.saved(text)
    if op:
        doc.edit(op)


def _watch(args: argparse.Namespace) -> int:
    return run_session("goval watch", _watch_session(args), interrupted=0)


async def _watch_session(args: argparse.Namespace) -> None:
    path, count = args.path, args.count
    async with connect_to(args, reconnect=True) as client:
        doc = await SyncedDocument.open(client, path)
        print(f"{path} at version {doc.version} ({len(doc.text)} code points)", flush=True)
        seen = 0
        done = asyncio.Event()

        def show(op: Op, from_others: bool) -> None:
            nonlocal seen
            print(describe(doc.version, op), flush=True)
            seen += 1
            if count and seen >= count:
                done.set()

        doc.listeners.append(show)
        await done.wait()
        await doc.aclose()
