"""TEMPORARY until goval.storage.secrets lands: the workspace id and token secret."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class WorkspaceSecrets:
    workspace_id: str
    token_secret: bytes

    @classmethod
    def load_or_create(cls, state_dir: Path) -> WorkspaceSecrets:
        path = state_dir / "secret"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as file:
                file.write(f"{secrets.token_hex(8)}\n{secrets.token_hex(32)}\n")
        workspace_id, secret = path.read_text().split()
        return cls(workspace_id, bytes.fromhex(secret))
