"""Value types describing workspace entries, and Go's ``FileMode.String()`` rendering.

Pure data: no file-system access here (``workspace.py`` fills these in).
"""

from __future__ import annotations

import stat
from dataclasses import dataclass

__all__ = ["Entry", "StatInfo", "go_file_mode"]


@dataclass(frozen=True, slots=True)
class Entry:
    """A direct child of a directory; symlinks are typed by their target (broken → file)."""

    name: str
    is_dir: bool


@dataclass(frozen=True, slots=True)
class StatInfo:
    """The answer to ``stat``; a missing path is ``StatInfo(exists=False)``."""

    exists: bool
    is_dir: bool = False
    size: int = 0
    file_mode: str = ""
    mod_time: int = 0


# Go's type letters in bit order (os.FileMode): dir, append, exclusive, temporary, symlink,
# device, named pipe, socket, setuid, setgid, char device, sticky, irregular.
_TYPE_LETTERS = "dalTLDpSugct?"


def go_file_mode(st_mode: int) -> str:
    """Render a ``st_mode`` the way Go's ``os.FileMode.String()`` does.

    ``-rw-r--r--`` for a regular file, ``drwxr-xr-x`` for a directory, ``dtrwxrwxrwx`` for a
    sticky directory, ``Dcrw-rw-rw-`` for a character device.
    """
    flags = {
        "d": stat.S_ISDIR(st_mode),
        "L": stat.S_ISLNK(st_mode),
        "D": stat.S_ISBLK(st_mode) or stat.S_ISCHR(st_mode),
        "p": stat.S_ISFIFO(st_mode),
        "S": stat.S_ISSOCK(st_mode),
        "u": bool(st_mode & stat.S_ISUID),
        "g": bool(st_mode & stat.S_ISGID),
        "c": stat.S_ISCHR(st_mode),
        "t": bool(st_mode & stat.S_ISVTX),
    }
    prefix = "".join(letter for letter in _TYPE_LETTERS if flags.get(letter))
    perms = "".join(
        letter if st_mode & (1 << (8 - i)) else "-" for i, letter in enumerate("rwxrwxrwx")
    )
    return (prefix or "-") + perms
