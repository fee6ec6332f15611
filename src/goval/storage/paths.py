"""Lexical workspace paths: cleaning client paths and small helpers on cleaned paths.

Owns the textual rules of protocol §3.4 only — nothing here touches the file system. A *cleaned*
path is workspace-relative, ``/``-separated, has no ``.``/``..``/empty components, and is ``"."``
for the root. Symlinks are the resolver's business (``storage/resolver.py``).
"""

from __future__ import annotations

from goval.errors import FileError

__all__ = ["ROOT", "clean", "is_within", "join", "parent_and_name", "split", "strip_leading"]

ROOT = "."


def strip_leading(path: str) -> str:
    """Drop every leading ``/`` and ``./`` (``"/./a"`` → ``"a"``, ``"./"`` → ``""``)."""
    while True:
        if path.startswith("/"):
            path = path.lstrip("/")
        elif path.startswith("./"):
            path = path[2:]
        else:
            return path


def clean(path: str, op: str = "open") -> str:
    """Return the cleaned workspace-relative form of a client path.

    ``..`` is resolved lexically; a path that would climb above the root, or that contains a NUL
    byte (which no OS call could honour faithfully), is refused.

    Raises:
        FileError: ``<op> <path>: permission denied`` for an escaping or NUL-carrying path.
    """
    if "\x00" in path:
        raise FileError(op, path, FileError.PERMISSION_DENIED)
    parts: list[str] = []
    for part in strip_leading(path).split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise FileError(op, path, FileError.PERMISSION_DENIED)
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts) if parts else ROOT


def split(rel: str) -> list[str]:
    """Components of a cleaned path (``"."`` → ``[]``)."""
    return [] if rel == ROOT else rel.split("/")


def join(rel: str, name: str) -> str:
    """Append one component to a cleaned path."""
    return name if rel == ROOT else f"{rel}/{name}"


def parent_and_name(rel: str) -> tuple[str, str]:
    """Split a cleaned, non-root path into its parent and last component."""
    head, _, name = rel.rpartition("/")
    return (head or ROOT), name


def is_within(rel: str, ancestor: str) -> bool:
    """True when cleaned ``rel`` is ``ancestor`` itself or lies below it."""
    if ancestor == ROOT:
        return True
    return rel == ancestor or rel.startswith(ancestor + "/")
