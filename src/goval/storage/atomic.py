"""Atomic replacement of one file inside an already-resolved directory fd.

Owns the write-temp + (fsync) + rename protocol that makes every workspace write all-or-nothing:
a reader or a crash sees either the old content or the new one, never a torn or empty file.
The temp file lives in the same directory (rename is only atomic within one file system) and is
created with ``O_EXCL | O_NOFOLLOW``, so it can never be a pre-planted symlink.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import BinaryIO

from goval.errors import FileError
from goval.storage.resolver import reason_for

__all__ = ["TEMP_SUFFIX", "atomic_file"]

TEMP_SUFFIX = ".goval-tmp"
_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@contextmanager
def atomic_file(dir_fd: int, name: str, rel: str, durable: bool) -> Iterator[BinaryIO]:
    """Yield a file that replaces ``name`` in ``dir_fd`` when the block exits normally.

    An existing file's permission bits are kept; a new file gets ``0o666`` minus the umask.
    ``durable`` fsyncs the file before the rename and the directory after it. If the block
    raises, the temp file is removed and ``name`` is untouched.

    Raises:
        FileError: ``open <rel>: is a directory`` / ``permission denied`` (``name`` became a
            symlink after resolution).
    """
    mode = _existing_mode(dir_fd, name, rel)
    tmp = f".{name[:64]}.{secrets.token_hex(4)}{TEMP_SUFFIX}"
    try:
        fd = os.open(tmp, _TEMP_FLAGS, 0o666, dir_fd=dir_fd)
    except OSError as exc:
        raise FileError("open", rel, reason_for(exc)) from exc
    f = open(fd, "wb")  # noqa: SIM115 - closed on both paths below
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        yield f
        f.flush()
        if durable:
            os.fsync(fd)
        f.close()
        try:
            os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except OSError as exc:
            raise FileError("open", rel, reason_for(exc)) from exc
    except BaseException:
        f.close()
        with suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise
    if durable:
        os.fsync(dir_fd)


def _existing_mode(dir_fd: int, name: str, rel: str) -> int | None:
    """Permission bits of the file being replaced, None if there is none yet."""
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise FileError("open", rel, reason_for(exc)) from exc
    if stat.S_ISDIR(st.st_mode):
        raise FileError("open", rel, FileError.IS_A_DIRECTORY)
    if stat.S_ISLNK(st.st_mode):  # swapped in after the resolver followed the old entry
        raise FileError("open", rel, FileError.PERMISSION_DENIED)
    return stat.S_IMODE(st.st_mode)
