"""Rename without ever replacing the destination (``renameat2(RENAME_NOREPLACE)``).

Owns the one syscall Python's ``os`` module lacks. The kernel call makes "fail if the target
exists" atomic. Where it is unavailable (no glibc symbol, or a file system answering EINVAL /
ENOSYS) the fallback checks for the target and renames under a process-wide lock: safe against
this server's own concurrent moves, not against other processes — the best portable option, as
``link``+``unlink`` does not work for directories.
"""

from __future__ import annotations

import ctypes
import errno
import os
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["rename_noreplace"]

_RENAME_NOREPLACE = 1
_fallback_lock = threading.Lock()


def _load_renameat2() -> Callable[..., Any] | None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        func = libc.renameat2
    except (OSError, AttributeError):
        return None
    func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    func.restype = ctypes.c_int
    loaded: Callable[..., Any] = func
    return loaded


_renameat2 = _load_renameat2()


def rename_noreplace(src_dir_fd: int, src: str, dst_dir_fd: int, dst: str) -> None:
    """Rename ``src`` (in ``src_dir_fd``) to ``dst`` (in ``dst_dir_fd``) unless ``dst`` exists.

    Raises:
        FileExistsError: the destination exists (also a dangling symlink).
        OSError: anything else the rename reports (ENOENT, EINVAL for a dir into itself, ...).
    """
    if _renameat2 is not None:
        rc = _renameat2(
            src_dir_fd, os.fsencode(src), dst_dir_fd, os.fsencode(dst), _RENAME_NOREPLACE
        )
        if rc == 0:
            return
        err = ctypes.get_errno()
        if err not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
            raise OSError(err, os.strerror(err), dst)
        # EINVAL may also mean "directory into itself"; the fallback's rename reports that again.
    with _fallback_lock:
        try:
            os.stat(dst, dir_fd=dst_dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            os.rename(src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd)
        else:
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), dst)
