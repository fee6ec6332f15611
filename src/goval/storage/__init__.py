"""goval.storage: the only code (with ``host/``) that touches the workspace tree and the state.

Public names only; see each module's docstring for what it owns.
"""

from __future__ import annotations

from goval.storage.fileinfo import Entry, StatInfo
from goval.storage.paths import clean
from goval.storage.workspace import Workspace

__all__ = ["Entry", "StatInfo", "Workspace", "clean"]
