"""Race-safe resolution of cleaned workspace paths to (directory fd, final name).

Owns the symlink policy of the workspace. The kernel is never allowed to follow a symlink on our
behalf: every directory component is opened with ``O_DIRECTORY | O_NOFOLLOW`` relative to the
previous component's fd, starting from an fd of the root opened once. When a component turns out
to be a symlink, its target is read with ``readlink`` and substituted *textually*:

* an absolute target is accepted only if it names the root (by its real path) or something below;
* a relative target is joined to the already-resolved directory path and its ``..`` resolved
  lexically — correct, because that prefix was reached without any symlink;
* a target that climbs above the root is refused (``permission denied``), as is a chain longer
  than ``MAX_SYMLINK_HOPS``;

then the walk restarts from the root fd with the substituted components. A directory swapped for
a symlink between two steps is therefore caught by ``O_NOFOLLOW`` at the moment it is opened, not
by an earlier check that could go stale. The final component is left to the caller, who opens or
acts on it relative to ``Located.parent_fd`` (again with ``O_NOFOLLOW`` where it opens).

The state directory (``hidden``) is unreachable: a walk that arrives at or under it raises
``no such file or directory`` for reads and ``permission denied`` for mutations.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from goval.errors import FileError
from goval.storage.paths import ROOT, is_within, join, split

__all__ = ["MAX_SYMLINK_HOPS", "Located", "Resolver", "reason_for"]

MAX_SYMLINK_HOPS = 40
# Bounds retries when a directory we just created vanishes again (a racing remover).
MAX_CREATE_RETRIES = 100
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass
class Located:
    """A resolved path: the open fd of its parent directory and its last component.

    ``name`` is ``""`` when the path is the root itself (then ``parent_fd`` is the root).
    ``rel`` is the cleaned, symlink-free workspace path of the entry. Close with ``with``.
    """

    parent_fd: int
    name: str
    rel: str

    def __enter__(self) -> Located:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        os.close(self.parent_fd)

    @property
    def is_root(self) -> bool:
        return self.name == ""


class Resolver:
    """Walks cleaned paths under one root fd. Thread-safe: it holds no mutable state."""

    def __init__(self, root_fd: int, root_real: Path, hidden_rel: str | None) -> None:
        self.root_fd = root_fd
        self._root_real = str(root_real)
        self.hidden_rel = hidden_rel

    def locate(
        self,
        rel: str,
        *,
        op: str,
        display: str,
        follow_final: bool,
        create_dirs: bool = False,
        mutating: bool = False,
        durable: bool = False,
    ) -> Located:
        """Resolve ``rel`` to its parent fd and final name, following symlinks safely.

        Args:
            rel: a cleaned path.
            op, display: the ``FileError`` op and path text for failures.
            follow_final: substitute the last component too if it is a symlink.
            create_dirs: create missing directories on the way (not the final component).
            mutating: the caller changes things; the state dir then answers permission denied.
            durable: fsync each directory in which a missing component was created.

        Raises:
            FileError: ``no such file or directory``, ``not a directory``, ``permission denied``.
        """
        pending = split(rel)
        done: list[str] = []
        cur = os.dup(self.root_fd)
        hops = creates = 0
        try:
            while pending:
                name = pending[0]
                here = join("/".join(done) or ROOT, name)
                self._check_hidden(here, op, display, mutating)
                try:
                    target = self._step(cur, name, len(pending) == 1, follow_final)
                except OSError as exc:
                    raise FileError(op, display, reason_for(exc)) from exc
                if isinstance(target, str):
                    hops += 1
                    if hops > MAX_SYMLINK_HOPS:
                        raise FileError(op, display, FileError.PERMISSION_DENIED)
                    pending = self._substitute(done, target, op, display) + pending[1:]
                    done = []
                    os.close(cur)
                    cur = os.dup(self.root_fd)
                    continue
                if target is None:  # the final component: leave it to the caller
                    return Located(cur, name, here)
                if target == -1:  # missing directory on the way
                    creates += 1
                    if not create_dirs or creates > MAX_CREATE_RETRIES:
                        raise FileError(op, display, FileError.NOT_FOUND)
                    try:
                        self._make_dir(cur, name, durable)
                    except OSError as exc:  # e.g. ``cur`` itself was removed meanwhile
                        raise FileError(op, display, reason_for(exc)) from exc
                    continue
                os.close(cur)
                cur = target
                done.append(name)
                pending = pending[1:]
            return Located(cur, "", ROOT)
        except BaseException:
            os.close(cur)
            raise

    @staticmethod
    def _step(cur: int, name: str, last: bool, follow_final: bool) -> int | str | None:
        """One component: an opened dir fd, a symlink target, None (final) or -1 (missing)."""
        if last:
            return _readlink(cur, name) if follow_final else None
        try:
            return os.open(name, DIR_FLAGS, dir_fd=cur)
        except OSError as exc:
            # ENOTDIR is what O_DIRECTORY|O_NOFOLLOW gives for a symlink on Linux, ELOOP on
            # others; a racing remover can make it ENOENT. In all cases a link is followed.
            if exc.errno not in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
                raise
            link = _readlink(cur, name)
            if link is not None:
                return link
            if exc.errno == errno.ENOENT:
                return -1
            raise

    def _substitute(self, done: list[str], target: str, op: str, display: str) -> list[str]:
        """Components of a symlink target, as a root-relative path with ``..`` resolved."""
        if target.startswith("/"):
            if target == self._root_real:
                base: list[str] = []
                target = ""
            elif target.startswith(self._root_real + "/"):
                base = []
                target = target[len(self._root_real) + 1 :]
            else:
                raise FileError(op, display, FileError.PERMISSION_DENIED)
        else:
            base = list(done)
        for part in target.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if not base:
                    raise FileError(op, display, FileError.PERMISSION_DENIED)
                base.pop()
            else:
                base.append(part)
        return base

    def _check_hidden(self, rel: str, op: str, display: str, mutating: bool) -> None:
        if self.hidden_rel is not None and is_within(rel, self.hidden_rel):
            reason = FileError.PERMISSION_DENIED if mutating else FileError.NOT_FOUND
            raise FileError(op, display, reason)

    def is_hidden(self, rel: str) -> bool:
        """True when cleaned ``rel`` is the state directory or lies under it."""
        return self.hidden_rel is not None and is_within(rel, self.hidden_rel)

    @staticmethod
    def _make_dir(cur: int, name: str, durable: bool) -> None:
        try:
            os.mkdir(name, 0o777, dir_fd=cur)
        except FileExistsError:
            return  # created concurrently; the retry opens it
        if durable:
            os.fsync(cur)


def reason_for(exc: OSError) -> str:
    """The Go-style reason for an OS error (anything unexpected counts as permission denied)."""
    return _REASONS.get(exc.errno or 0, FileError.PERMISSION_DENIED)


_REASONS = {
    errno.ENOENT: FileError.NOT_FOUND,
    errno.EEXIST: FileError.EXISTS,
    errno.ENOTEMPTY: FileError.EXISTS,
    errno.ENOTDIR: FileError.NOT_A_DIRECTORY,
    errno.EISDIR: FileError.IS_A_DIRECTORY,
    errno.EFBIG: FileError.TOO_LARGE,
}


def _readlink(dir_fd: int, name: str) -> str | None:
    """The symlink's target, or None if ``name`` is not a symlink (or does not exist)."""
    try:
        return os.readlink(name, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in (errno.EINVAL, errno.ENOENT, errno.ENOTDIR):
            return None
        raise
