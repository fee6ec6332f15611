"""The server-wide workspace watcher: one recursive inotify watch, debounced file changes.

Owns the ``watchfiles`` (Rust ``notify``) watch over the workspace root and the translation of
its raw, unordered "added / modified / deleted" sets into :class:`FileChange` values (Create,
Modify, Remove, Move with ``dest``) delivered to subscribers on the event loop. It must not
decide who cares about which path: subscribers (fsevents channels, OT documents) filter.

How raw sets become changes (watchfiles reports a rename as "deleted src" + "added dest", and an
atomic replace as "added tmp, deleted tmp, added target"): the watcher remembers the inode of
every path it has seen (``remember()`` seeds it for subscribed paths). In one batch, a deleted
path whose remembered inode now lives at an added path is a **Move**; an added path that was
already known is a **Modify** (it was replaced); a path added and deleted in the same batch that
nobody knew is a transient (an editor's temp file) and produces nothing.

A new directory is scanned ("discovery"), because inotify only watches it once it has seen it
created: what was put in it before that has no events of its own, or only some (a file created
before the watch and written after it shows up as "modified" alone). So an unknown path under a
directory created in the same batch is a **Create** whatever inotify called it, and a discovered
path that a later batch reports again unchanged (same inode, size and mtime: inotify's late
report of the creation the scan already announced) produces nothing rather than a Modify.

Paths are workspace-relative via the ``relative`` function the owner supplies (which also hides
the state directory: it returns None there, so the state directory never produces changes).
The watch runs in one dedicated thread; it starts lazily on the first ``start()`` and stops when
the task given to ``spawn`` is cancelled (server shutdown) or on ``aclose()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import stat
import threading
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from watchfiles._rust_notify import RustNotify

__all__ = ["FileChange", "Subscriber", "WorkspaceWatcher"]

log = logging.getLogger("goval.watcher")

Op = Literal["create", "modify", "remove", "move"]
_ADDED, _MODIFIED, _DELETED = 1, 2, 3
_KNOWN_LIMIT = 200_000
_DISCOVER_LIMIT = 10_000  # entries reported from inside one new directory tree


@dataclass(frozen=True, slots=True)
class FileChange:
    """One change of one workspace path; ``dest`` is set for moves only."""

    op: Op
    path: str
    is_dir: bool = False
    dest: str = ""


Subscriber = Callable[[list[FileChange]], None]
Spawn = Callable[[Coroutine[Any, Any, None], str], "asyncio.Task[None]"]


@dataclass(frozen=True, slots=True)
class _Seen:
    inode: int
    is_dir: bool
    stamp: tuple[int, int] = (-1, -1)  # (size, mtime_ns) when stat()ed, else unknown
    discovered: bool = False  # reported by a discovery scan, not yet by inotify

    def echoed_by(self, now: _Seen) -> bool:
        """Whether ``now`` is inotify catching up on this discovered, unchanged path."""
        return self.discovered and self.inode == now.inode and self.stamp == now.stamp


class WorkspaceWatcher:
    """Watches one directory tree and tells subscribers what changed.

    Args:
        root: the workspace root (absolute).
        relative: absolute path → cleaned workspace path, or None to ignore it.
        spawn: runs the watcher's lifetime task (the server's ``spawn``); None = a plain task.
        debounce_ms: the longest a burst of changes is held back.
        step_ms: quiet time that ends a burst (changes of one path within it are coalesced).
    """

    def __init__(
        self,
        root: Path,
        relative: Callable[[str], str | None],
        spawn: Spawn | None = None,
        debounce_ms: int = 500,
        step_ms: int = 50,
    ) -> None:
        self.root = Path(root)
        self._relative = relative
        self._spawn = spawn
        self._debounce_ms = debounce_ms
        self._step_ms = step_ms
        self._subscribers: list[Subscriber] = []
        self._known: dict[str, _Seen] = {}
        self._lock = threading.Lock()  # _known is shared by the loop and the watch thread
        self._stop = threading.Event()
        self._started: asyncio.Future[None] | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    # -- subscribers ------------------------------------------------------------------------
    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(changes)`` on the event loop for every batch; returns unsubscribe."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    def remember(self, rel: str) -> None:
        """Record the current inode of ``rel`` and, for a directory, of its direct children.

        Subscribers call it for the paths they care about, so a later replace of a file that
        existed before the watcher saw it reads as Modify, and its rename as Move.
        """
        path = self.root if rel == "." else self.root / rel
        seen = _lstat(str(path))
        if seen is None:
            return
        entries: list[tuple[str, _Seen]] = [(rel, seen)]
        if seen.is_dir:
            with contextlib.suppress(OSError), os.scandir(path) as it:
                for item in it:
                    child = item.name if rel == "." else f"{rel}/{item.name}"
                    is_dir = item.is_dir(follow_symlinks=False)
                    entries.append((child, _Seen(item.inode(), is_dir)))
        with self._lock:
            for name, value in entries:
                self._known[name] = value
            self._trim()

    # -- lifetime ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Start watching (once); returns when the inotify watches are in place."""
        if self._started is None:
            loop = asyncio.get_running_loop()
            self._loop = loop
            self._started = loop.create_future()
            self._thread = threading.Thread(target=self._run, name="goval-watcher", daemon=True)
            self._thread.start()
            lifetime = self._lifetime()
            if self._spawn is not None:
                self._task = self._spawn(lifetime, "workspace-watcher")
            else:
                self._task = loop.create_task(lifetime, name="workspace-watcher")
        await asyncio.shield(self._started)

    async def _lifetime(self) -> None:
        try:
            await asyncio.Event().wait()  # until cancelled at shutdown
        finally:
            self._stop.set()

    async def aclose(self) -> None:
        """Stop watching and wait for the watch thread to end."""
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 5.0)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- the watch thread -------------------------------------------------------------------
    def _run(self) -> None:
        try:
            notify = RustNotify([str(self.root)], False, False, 300, True, True)
        except Exception as exc:
            self._call_soon(self._set_started, exc)
            return
        self._call_soon(self._set_started, None)
        while not self._stop.is_set():
            try:
                raw = notify.watch(self._debounce_ms, self._step_ms, 1000, self._stop)
            except Exception:
                log.exception("workspace watcher failed")
                return
            if isinstance(raw, set) and raw:
                changes = self._classify(raw)
                if changes:
                    self._call_soon(self._deliver, changes)

    def _call_soon(self, callback: Callable[..., None], *args: Any) -> None:
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is listening
            self._loop.call_soon_threadsafe(callback, *args)

    def _set_started(self, error: BaseException | None) -> None:
        assert self._started is not None
        if self._started.done():
            return
        if error is None:
            self._started.set_result(None)
        else:
            self._started.set_exception(error)

    def _deliver(self, changes: list[FileChange]) -> None:
        for callback in list(self._subscribers):
            try:
                callback(changes)
            except Exception:
                log.exception("file change subscriber failed")

    # -- raw sets → changes -----------------------------------------------------------------
    def _classify(self, raw: set[tuple[int, str]]) -> list[FileChange]:
        kinds: dict[int, set[str]] = {_ADDED: set(), _MODIFIED: set(), _DELETED: set()}
        for kind, absolute in raw:
            rel = self._relative(absolute)
            if rel is not None and rel != "." and kind in kinds:
                kinds[kind].add(rel)
        added, modified, deleted = kinds[_ADDED], kinds[_MODIFIED], kinds[_DELETED]
        now = {rel: _lstat(str(self.root / rel)) for rel in added | modified | deleted}
        with self._lock:
            return _Batch(self.root, self._known, added, modified, deleted, now).changes()

    def _trim(self) -> None:
        # Bounded memory: forget the oldest entries (insertion order) beyond the limit.
        excess = len(self._known) - _KNOWN_LIMIT
        if excess > 0:
            for key in list(self._known)[:excess]:
                del self._known[key]


class _Batch:
    """One raw batch being turned into changes; updates the known-inode table as it goes."""

    def __init__(
        self,
        root: Path,
        known: dict[str, _Seen],
        added: set[str],
        modified: set[str],
        deleted: set[str],
        now: dict[str, _Seen | None],
    ) -> None:
        self.root = root
        self.known = known
        self.added = added
        self.modified = modified
        self.deleted = deleted
        self.now = now
        self.out: list[FileChange] = []
        self._moved_from: set[str] = set()
        self._moved_to: set[str] = set()

    def changes(self) -> list[FileChange]:
        gone = sorted(p for p in self.deleted if self.now[p] is None)
        present = sorted(p for p in self.added | self.modified | self.deleted if self.now[p])
        self._moves(gone, present)
        self._removes(p for p in gone if p not in self._moved_from)
        self._appearances(p for p in present if p not in self._moved_to)
        return self.out

    def _moves(self, gone: list[str], present: list[str]) -> None:
        by_inode: dict[int, str] = {}
        for path in present:
            seen = self.now[path]
            if path in self.added and seen is not None:
                by_inode[seen.inode] = path
        for path in gone:
            before = self.known.get(path)
            dest = by_inode.get(before.inode) if before is not None else None
            if before is None or dest is None or dest in self._moved_to:
                continue
            self._moved_from.add(path)
            self._moved_to.add(dest)
            self._forget(path)
            self.known[dest] = replace(before, discovered=False)
            self.out.append(FileChange("move", path, before.is_dir, dest))

    def _removes(self, paths: Iterable[str]) -> None:
        for path in sorted(paths, reverse=True):  # children before their directory
            before = self.known.get(path)
            if before is None and path in self.added:
                continue  # created and deleted within the batch, unseen: a transient
            self._forget(path)
            self.out.append(FileChange("remove", path, before.is_dir if before else False))

    def _appearances(self, paths: Iterable[str]) -> None:
        first = len(self.out)
        new_dirs: list[str] = []
        created: set[str] = set()  # new_dirs again, for the ancestor look-ups
        for path in sorted(paths):  # a directory before its contents
            seen = self.now[path]
            assert seen is not None
            before = self.known.get(path)
            self.known[path] = seen
            if before is not None and before.echoed_by(seen):
                continue  # already reported as created by the discovery of its directory
            if before is None and (
                path in self.added or path in self.deleted or _inside(path, created)
            ):
                op: Op = "create"
                if seen.is_dir:
                    new_dirs.append(path)
                    created.add(path)
            else:
                op = "modify"
            self.out.append(FileChange(op, path, seen.is_dir))
        for path in new_dirs:
            self._discover(path)
        # A directory before what it contains, whichever of them inotify reported.
        self.out[first:] = sorted(self.out[first:], key=lambda change: change.path)

    def _discover(self, top: str) -> None:
        """Report what a new directory already holds.

        inotify watches a new directory only once it has seen it created, so whatever was put in
        it before that (``mkdir -p a/b && echo > a/b/c``, our own writes with parents) never
        produces an event of its own.
        """
        budget = _DISCOVER_LIMIT
        pending = [top]
        while pending and budget > 0:
            rel = pending.pop()
            try:
                with os.scandir(self.root / rel) as it:
                    items = sorted(it, key=lambda item: item.name)
            except OSError:
                continue  # gone again already
            for item in items:
                child = f"{rel}/{item.name}"
                if child in self.known or child in self.now:
                    continue  # reported by this batch, or known from before
                try:
                    st = item.stat(follow_symlinks=False)
                except OSError:
                    continue  # gone again already
                is_dir = stat.S_ISDIR(st.st_mode)
                self.known[child] = _Seen(st.st_ino, is_dir, _stamp(st), discovered=True)
                self.out.append(FileChange("create", child, is_dir))
                budget -= 1
                if is_dir:
                    pending.append(child)

    def _forget(self, path: str) -> None:
        before = self.known.pop(path, None)
        if before is not None and before.is_dir:
            prefix = path + "/"
            for key in [k for k in self.known if k.startswith(prefix)]:
                del self.known[key]


def _inside(path: str, dirs: set[str]) -> bool:
    """Whether one of ``dirs`` is an ancestor of ``path``."""
    while "/" in path:
        path = path.rpartition("/")[0]
        if path in dirs:
            return True
    return False


def _stamp(st: os.stat_result) -> tuple[int, int]:
    return st.st_size, st.st_mtime_ns


def _lstat(path: str) -> _Seen | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return _Seen(st.st_ino, stat.S_ISDIR(st.st_mode), _stamp(st))
