"""VCR recordings (protocol.md §2.7): startVCR records a session's traffic, readVCR returns it.

A :class:`Recorder` hangs on the session while recording; the session hands it every inbound and
outbound frame as bytes (nothing is decoded on the hot path) and it writes them in batches to
``goval.storage.VCRStore`` (which keeps the last 10 000 per session). VCR traffic itself is left
out: the replies to startVCR/readVCR are queued with recording suspended, and the requests are
dropped when the log is read. ``readVCR`` also writes the log as JSON lines under the state
directory and names that file in ``VCRLog.logfile``.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import DecodeError

from goval._proto.api_pb2 import Command, File, VCREntry, VCRLog
from goval.identity import Role
from goval.services.base import ok
from goval.storage import VCRRecord, VCRStore
from goval.storage.vcr_store import IN, OUT

if TYPE_CHECKING:
    from goval.server.router import Router
    from goval.server.session import Session

__all__ = ["Recorder", "read_vcr", "start_vcr"]

STORE_KEY = "goval.vcr"
BATCH = 256
VCR_BODIES = frozenset({"startVCR", "readVCR", "VCRLog"})
# A VCRLog must fit in one message: keep the newest entries under this share of the limit.
LOG_SHARE = 0.9


class Recorder:
    """Buffers one session's frames with timestamps and stores them in batches."""

    def __init__(self, store: VCRStore, uid: str) -> None:
        self._store = store
        self._uid = uid
        self._buffer: list[VCRRecord] = []

    def inbound(self, frame: bytes) -> None:
        self._add(IN, frame)

    def outbound(self, frame: bytes) -> None:
        self._add(OUT, frame)

    def _add(self, direction: int, frame: bytes) -> None:
        self._buffer.append(VCRRecord(self._uid, time.time_ns() // 1_000_000, direction, frame))
        if len(self._buffer) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            batch, self._buffer = self._buffer, []
            self._store.append(batch)


def _store(router: Router) -> VCRStore:
    return router.shared(STORE_KEY, lambda: VCRStore(router.resources.database))


def start_vcr(router: Router, session: Session, command: Command) -> None:
    """Start (or restart) recording; the ok goes out before the recorder is attached."""
    store = _store(router)
    uid = str(session.session_id)
    store.clear(uid)  # session ids restart with the process: drop an older process's log
    session.recorder = None
    session.send(_with_ref(ok(), command.ref))
    session.recorder = Recorder(store, uid)


async def read_vcr(router: Router, session: Session, command: Command) -> None:
    """Reply ``VCRLog``: this session's recording, or every recording for the owner."""
    everyone = session.identity.role >= Role.OWNER
    sessions = list(router.sessions.values()) if everyone else [session]
    for recording in sessions:
        if recording.recorder is not None:
            recording.recorder.flush()
    uid = None if everyone else str(session.session_id)
    records = await asyncio.to_thread(_store(router).entries, uid)
    entries = _entries(records, int(router.config.max_message * LOG_SHARE))
    # One file per reading session, replaced on each read, so logs cannot pile up.
    path = router.resources.state_dir / "vcr" / f"vcr-{session.session_id}.jsonl"
    await asyncio.to_thread(_write_log, path, entries)
    reply = Command(VCRLog=VCRLog(log=entries, logfile=File(path=str(path))))
    recorder, session.recorder = session.recorder, None
    session.send(_with_ref(reply, command.ref))
    session.recorder = recorder


def _entries(records: list[VCRRecord], budget: int) -> list[VCREntry]:
    """Decoded entries minus VCR traffic, the newest that fit in ``budget`` bytes."""
    kept: list[VCREntry] = []
    for record in reversed(records):
        budget -= len(record.command) + 32
        if budget < 0:
            break
        try:
            command = Command.FromString(record.command)
        except DecodeError:
            continue  # garbage a client sent is not replayable traffic
        if command.channel == 0 and command.WhichOneof("body") in VCR_BODIES:
            continue
        kept.append(
            VCREntry(
                timestamp=record.timestamp_ms,
                direction=record.direction,  # type: ignore[arg-type]
                command=command,
                uid=record.uid,
            )
        )
    kept.reverse()
    return kept


def _write_log(path: Path, entries: list[VCREntry]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8") as log_file:
        for entry in entries:
            log_file.write(json.dumps(MessageToDict(entry), separators=(",", ":")) + "\n")
    partial.replace(path)  # a reader of the file never sees half a log


def _with_ref(command: Command, ref: str) -> Command:
    command.ref = ref
    return command
