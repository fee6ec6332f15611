"""The workspace's identity and signing secret, created once and kept in the state directory.

Owns ``<state>/workspace-keys.json`` (mode 0600): a random workspace id and the HS256 secret
tokens and signed file URLs are derived from. Generated with ``secrets.token_bytes`` on first
start and read back unchanged afterwards. (Named ``workspace_keys`` rather than ``secrets`` so no
module shadows the standard library.)

Creation is race-free between processes: the file is written to a temp name, fsynced, then
``link``-ed into place, which fails if another process won; the loser reads the winner's file.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

__all__ = ["KEYS_FILE", "WorkspaceKeys", "load_or_create_keys"]

KEYS_FILE = "workspace-keys.json"
SECRET_BYTES = 32


@dataclass(frozen=True, slots=True)
class WorkspaceKeys:
    """Stable identity of one workspace."""

    workspace_id: str
    secret: bytes

    def __repr__(self) -> str:  # never print the secret into logs
        return f"WorkspaceKeys(workspace_id={self.workspace_id!r}, secret=<{len(self.secret)} B>)"


def load_or_create_keys(state_dir: Path) -> WorkspaceKeys:
    """Read the keys file in ``state_dir``, creating the directory and file on first start.

    Raises:
        ValueError: the file exists but is not a keys file written by goval.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / KEYS_FILE
    if not path.exists():
        _create(path)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        os.chmod(path, 0o600)  # someone loosened it; the secret must stay private
    return _parse(path)


def _create(path: Path) -> None:
    data = {
        "workspace_id": secrets.token_hex(16),
        "secret": base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode(),
    }
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        with open(fd, "w", encoding="utf-8") as f:
            json.dump(data, f)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return  # another process created it first; theirs wins
        dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    finally:
        tmp.unlink(missing_ok=True)


def _parse(path: Path) -> WorkspaceKeys:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        workspace_id = data["workspace_id"]
        secret = base64.b64decode(data["secret"], validate=True)
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} is not a valid goval keys file: {exc}") from exc
    if not isinstance(workspace_id, str) or len(secret) < 16:
        raise ValueError(f"{path} is not a valid goval keys file")
    return WorkspaceKeys(workspace_id, secret)
