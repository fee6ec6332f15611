"""goval.storage: the only code (with ``host/``) that touches the workspace tree and the state.

Public names only; see each module's docstring for what it owns.
"""

from __future__ import annotations

from goval.storage.chat_store import ChatStore, StoredChatMessage
from goval.storage.database import Database, DatabaseTooNewError
from goval.storage.dotreplit import (
    DotReplit,
    Hint,
    PackagerConfig,
    load_dotreplit,
    parse_dotreplit,
    run_command,
)
from goval.storage.fileinfo import Entry, StatInfo
from goval.storage.locks import Locks
from goval.storage.meta_store import MetaStore
from goval.storage.ot_store import OpComponent, OTStore, StoredPacket
from goval.storage.paths import clean
from goval.storage.snapshots import Snapshot, SnapshotStore
from goval.storage.vcr_store import VCRRecord, VCRStore
from goval.storage.workspace import Workspace
from goval.storage.workspace_keys import WorkspaceKeys, load_or_create_keys

__all__ = [
    "ChatStore",
    "Database",
    "DatabaseTooNewError",
    "DotReplit",
    "Entry",
    "Hint",
    "Locks",
    "MetaStore",
    "OTStore",
    "OpComponent",
    "PackagerConfig",
    "Snapshot",
    "SnapshotStore",
    "StatInfo",
    "StoredChatMessage",
    "StoredPacket",
    "VCRRecord",
    "VCRStore",
    "Workspace",
    "WorkspaceKeys",
    "clean",
    "load_dotreplit",
    "load_or_create_keys",
    "parse_dotreplit",
    "run_command",
]
