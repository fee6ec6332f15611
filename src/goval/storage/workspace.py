"""The workspace file tree: every file operation a client may ask for, confined to one root.

Owns the rooted tree (protocol §3.4, §4.1): cleaning paths, refusing escapes, hiding the state
directory, atomic and durable writes, Go-style error texts. All path resolution goes through
``storage/resolver.py`` (fd-relative, ``O_NOFOLLOW`` walks), so nothing here passes a joined
absolute path to the OS except ``absolute()``, which exists for the file watcher.

Every method is synchronous and thread-safe (the only shared state is the read-only root fd);
services call the slow ones through ``asyncio.to_thread``.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from goval.errors import FileError
from goval.storage import renaming
from goval.storage.atomic import atomic_file
from goval.storage.fileinfo import Entry, StatInfo, go_file_mode
from goval.storage.paths import ROOT, clean, is_within, join, strip_leading
from goval.storage.resolver import Located, Resolver, reason_for

__all__ = ["Workspace"]

_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


class Workspace:
    """A directory tree served to clients, with the state directory carved out.

    Args:
        root: the workspace directory (must exist).
        hidden: the state directory; if it lies strictly inside ``root`` it becomes unreachable.
    """

    def __init__(self, root: Path, hidden: Path | None = None) -> None:
        self.root = Path(root)
        real = Path(os.path.realpath(self.root))
        self._root_fd = os.open(real, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        self._resolver = Resolver(self._root_fd, real, _hidden_rel(real, hidden))
        self._real = real

    def close(self) -> None:
        """Release the root directory fd."""
        if self._root_fd >= 0:
            os.close(self._root_fd)
            self._root_fd = -1

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- paths --------------------------------------------------------------------------------

    def clean(self, path: str, op: str = "open") -> str:
        """The cleaned form of ``path`` (see ``paths.clean``); raises on lexical escapes."""
        return clean(path, op)

    def is_hidden(self, rel: str) -> bool:
        """True when cleaned ``rel`` names the state directory or something under it."""
        return self._resolver.is_hidden(rel)

    def absolute(self, path: str) -> Path:
        """The absolute path of a workspace path, for the file watcher (lexical only)."""
        rel = clean(path, "open")
        return self._real if rel == ROOT else self._real / rel

    def relative(self, absolute: Path | str) -> str | None:
        """The cleaned workspace path of an absolute path, or None if outside or hidden."""
        try:
            rel = os.path.relpath(os.path.abspath(absolute), self._real)
        except ValueError:
            return None
        if rel == ".." or rel.startswith("../"):
            return None
        rel = clean(rel)
        return None if self.is_hidden(rel) else rel

    # -- reading ------------------------------------------------------------------------------

    def read(self, path: str, max_size: int) -> bytes:
        """The whole content of a regular file.

        Raises:
            FileError: ``open <p>: no such file or directory``, ``read <p>: is a directory``,
                ``read <p>: file too large`` (over ``max_size`` bytes), ``permission denied``.
        """
        rel = clean(path, "open")
        with self._open_regular(rel, "read") as f:
            size = os.fstat(f.fileno()).st_size
            if size > max_size:
                raise FileError("read", rel, FileError.TOO_LARGE)
            # Ask for the known size (+1 to notice growth): read(n) allocates n bytes up front.
            data = f.read(size + 1)
            if len(data) > size:
                data += f.read(max_size + 1 - len(data))
        if len(data) > max_size:  # grew while we read it
            raise FileError("read", rel, FileError.TOO_LARGE)
        return data

    def open_for_streaming_read(self, path: str) -> BinaryIO:
        """An open binary file for streaming a (possibly huge) file; the caller closes it.

        Its size is ``os.fstat(f.fileno()).st_size``. Errors as ``read``.
        """
        return self._open_regular(clean(path, "open"), "read")

    def _open_regular(self, rel: str, read_op: str) -> BinaryIO:
        with self._locate(rel, "open", follow_final=True) as loc:
            try:
                fd = _open_at(loc, _READ_FLAGS)
            except OSError as exc:
                raise FileError("open", rel, reason_for(exc)) from exc
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            reason = FileError.IS_A_DIRECTORY if stat.S_ISDIR(mode) else FileError.PERMISSION_DENIED
            raise FileError(read_op, rel, reason)
        os.set_blocking(fd, True)
        return open(fd, "rb")

    def readdir(self, path: str) -> list[Entry]:
        """Direct children of a directory, sorted by code point; the state dir is omitted.

        Raises:
            FileError: ``open <p>: no such file or directory`` / ``not a directory``.
        """
        rel = clean(path, "open")
        with self._locate(rel, "open", follow_final=True) as loc:
            try:
                fd = _open_at(loc, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
            except OSError as exc:
                raise FileError("open", rel, reason_for(exc)) from exc
        try:
            entries = []
            with os.scandir(fd) as it:
                for item in it:
                    child = join(loc.rel, item.name)
                    if self.is_hidden(child):
                        continue
                    if item.is_symlink():
                        is_dir = self._points_to_dir(child)
                    else:
                        is_dir = item.is_dir(follow_symlinks=False)
                    entries.append(Entry(item.name, is_dir))
        finally:
            os.close(fd)
        entries.sort(key=lambda e: e.name)
        return entries

    def _points_to_dir(self, rel: str) -> bool:
        """Whether a symlink resolves to a directory inside the workspace (escaping → no)."""
        try:
            with self._resolver.locate(rel, op="open", display=rel, follow_final=True) as loc:
                st = os.stat(loc.name or ".", dir_fd=loc.parent_fd, follow_symlinks=False)
        except (FileError, OSError):
            return False
        return stat.S_ISDIR(st.st_mode)

    def stat(self, path: str) -> StatInfo:
        """Metadata of a path; a missing one (or one under a file) is ``exists=False``.

        Raises:
            FileError: ``stat <p>: permission denied`` for paths resolving outside the root.
        """
        rel = clean(path, "stat")
        try:
            with self._locate(rel, "stat", follow_final=True) as loc:
                st = os.stat(loc.name or ".", dir_fd=loc.parent_fd, follow_symlinks=False)
        except FileError as exc:
            if exc.reason in (FileError.NOT_FOUND, FileError.NOT_A_DIRECTORY):
                return StatInfo(exists=False)
            raise
        except (FileNotFoundError, NotADirectoryError):
            return StatInfo(exists=False)
        is_dir = stat.S_ISDIR(st.st_mode)
        return StatInfo(True, is_dir, st.st_size, go_file_mode(st.st_mode), int(st.st_mtime))

    def list_objects(self, prefix: str) -> list[str]:
        """Regular files (recursively, symlinks not followed) whose path starts with ``prefix``."""
        prefix = strip_leading(prefix)
        found: list[str] = []
        self._walk_files(os.dup(self._root_fd), ROOT, prefix, found)
        found.sort()
        return found

    def _walk_files(self, dir_fd: int, rel: str, prefix: str, found: list[str]) -> None:
        try:
            with os.scandir(dir_fd) as it:
                items = list(it)
            for item in items:
                child = join(rel, item.name)
                if self.is_hidden(child):
                    continue
                if item.is_file(follow_symlinks=False):
                    if child.startswith(prefix):
                        found.append(child)
                elif item.is_dir(follow_symlinks=False) and _may_contain(child, prefix):
                    try:
                        sub = os.open(
                            item.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd
                        )
                    except OSError:
                        continue  # vanished or swapped since the listing
                    self._walk_files(sub, child, prefix, found)
        finally:
            os.close(dir_fd)

    # -- writing ------------------------------------------------------------------------------

    def write(self, path: str, data: bytes, durable: bool = False) -> None:
        """Replace a file's content atomically (temp file + rename), creating parents.

        An existing file keeps its mode. ``durable`` fsyncs the file and its directory.

        Raises:
            FileError: ``open <p>: not a directory`` / ``is a directory`` / ``permission denied``.
        """
        with self.atomic_writer(path, durable=durable) as f:
            f.write(data)

    @contextmanager
    def atomic_writer(self, path: str, durable: bool = True) -> Iterator[BinaryIO]:
        """A binary file to write in chunks; it replaces ``path`` only if the block succeeds."""
        rel = clean(path, "open")
        if rel == ROOT:
            raise FileError("open", rel, FileError.IS_A_DIRECTORY)
        loc = self._locate(rel, "open", follow_final=True, create=True, durable=durable)
        with loc, atomic_file(loc.parent_fd, loc.name, rel, durable) as f:
            yield f

    def mkdir(self, path: str) -> None:
        """Create a directory and its parents; an existing directory is fine.

        Raises:
            FileError: ``mkdir <p>: not a directory`` when it (or a parent) is a file.
        """
        rel = clean(path, "mkdir")
        if rel == ROOT:
            return
        with self._locate(rel, "mkdir", follow_final=True, create=True) as loc:
            try:
                os.mkdir(loc.name, 0o777, dir_fd=loc.parent_fd)
            except FileExistsError:
                st = os.stat(loc.name, dir_fd=loc.parent_fd, follow_symlinks=False)
                if not stat.S_ISDIR(st.st_mode):
                    raise FileError("mkdir", rel, FileError.NOT_A_DIRECTORY) from None
            except OSError as exc:
                raise FileError("mkdir", rel, reason_for(exc)) from exc

    def remove(self, path: str) -> None:
        """Remove a file, symlink (not its target) or directory tree.

        Raises:
            FileError: ``remove <p>: no such file or directory``; ``permission denied`` for the
                root, the state directory's ancestors, or paths resolving outside.
        """
        rel = clean(path, "remove")
        self._refuse_root_or_hidden_ancestor(rel, "remove", rel)
        with self._locate(rel, "remove", follow_final=False) as loc:
            self._refuse_root_or_hidden_ancestor(loc.rel, "remove", rel)
            try:
                st = os.stat(loc.name, dir_fd=loc.parent_fd, follow_symlinks=False)
                if stat.S_ISDIR(st.st_mode):
                    shutil.rmtree(loc.name, dir_fd=loc.parent_fd)
                else:
                    os.unlink(loc.name, dir_fd=loc.parent_fd)
            except OSError as exc:
                raise FileError("remove", rel, reason_for(exc)) from exc

    def move(self, old_path: str, new_path: str) -> None:
        """Rename ``old_path`` to ``new_path``, creating parents; never overwrites.

        Raises:
            FileError: ``rename <o> <n>: file exists`` / ``no such file or directory`` /
                ``permission denied`` (root, state directory, escapes).
        """
        old, new = _clean_pair(old_path, new_path)
        shown = f"{old} {new}"
        for rel in (old, new):
            self._refuse_root_or_hidden_ancestor(rel, "rename", shown)
        with self._locate(old, "rename", follow_final=False, display=shown) as src:
            self._refuse_root_or_hidden_ancestor(src.rel, "rename", shown)
            try:
                os.stat(src.name, dir_fd=src.parent_fd, follow_symlinks=False)
            except OSError as exc:
                raise FileError("rename", shown, reason_for(exc)) from exc
            with self._locate(new, "rename", follow_final=False, create=True, display=shown) as dst:
                self._refuse_root_or_hidden_ancestor(dst.rel, "rename", shown)
                try:
                    renaming.rename_noreplace(src.parent_fd, src.name, dst.parent_fd, dst.name)
                except OSError as exc:
                    raise FileError("rename", shown, _rename_reason(exc)) from exc

    # -- helpers ------------------------------------------------------------------------------

    def _locate(
        self,
        rel: str,
        op: str,
        *,
        follow_final: bool,
        create: bool = False,
        durable: bool = False,
        display: str | None = None,
    ) -> Located:
        return self._resolver.locate(
            rel,
            op=op,
            display=rel if display is None else display,
            follow_final=follow_final,
            create_dirs=create,
            mutating=create or op in ("remove", "rename"),
            durable=durable,
        )

    def _refuse_root_or_hidden_ancestor(self, rel: str, op: str, shown: str) -> None:
        hidden = self._resolver.hidden_rel
        if rel == ROOT or (hidden is not None and is_within(hidden, rel)):
            raise FileError(op, shown, FileError.PERMISSION_DENIED)


def _open_at(loc: Located, flags: int) -> int:
    if loc.is_root:
        return os.open(".", flags & ~os.O_NOFOLLOW, dir_fd=loc.parent_fd)
    return os.open(loc.name, flags, dir_fd=loc.parent_fd)


def _clean_pair(old_path: str, new_path: str) -> tuple[str, str]:
    """Clean both rename paths; an escape names both paths in the error."""
    try:
        return clean(old_path, "rename"), clean(new_path, "rename")
    except FileError:
        raise FileError("rename", f"{old_path} {new_path}", FileError.PERMISSION_DENIED) from None


def _rename_reason(exc: OSError) -> str:
    # EINVAL: a directory moved into itself; EXDEV: across a mount point inside the workspace.
    if exc.errno in (errno.EINVAL, errno.EXDEV):
        return FileError.PERMISSION_DENIED
    return reason_for(exc)


def _may_contain(dir_rel: str, prefix: str) -> bool:
    """Whether some path below ``dir_rel`` could start with ``prefix``."""
    head = dir_rel + "/"
    n = min(len(head), len(prefix))
    return head[:n] == prefix[:n]


def _hidden_rel(root_real: Path, hidden: Path | None) -> str | None:
    """The state directory's cleaned path if strictly inside the root, else None."""
    if hidden is None:
        return None
    rel = os.path.relpath(os.path.realpath(hidden), root_real)
    if rel == "." or rel == ".." or rel.startswith("../"):
        return None
    return clean(rel)
