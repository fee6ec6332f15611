"""Convergence with the official client: crosis + ot-text-unicode editors (``ot_clients.mjs``,
the 2020 workspace client's OT logic) and Python ``SyncedDocument`` editors on one document."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from goval.client.ot import SyncedDocument
from goval.services.ot_registry import REGISTRY_KEY, DocumentRegistry
from goval.testing import RunningServer, running_server
from tests.client.test_ot_sync import random_op
from tests.interop.crosis_driver import REPO_ROOT
from tests.services.ot_kit import flush

SCRIPT = Path(__file__).resolve().with_name("ot_clients.mjs")
NODE_CLIENTS = 10
PYTHON_CLIENTS = 10
EDITS = 200


class NodeEditors:
    """The ``ot_clients.mjs`` process and the events it printed."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.events: list[dict[str, Any]] = []
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            self.events.append(json.loads(line))

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message).encode() + b"\n")

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event["event"] == kind]

    async def wait(self, kind: str, count: int, timeout: float = 40.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.of(kind)) < count:
            assert not self.of("error"), self.of("error")
            assert time.monotonic() < deadline, f"only {len(self.of(kind))} {kind} of {count}"
            await asyncio.sleep(0.02)
        return self.of(kind)


@contextlib.asynccontextmanager
async def node_editors(node: str, rs: RunningServer, path: str) -> AsyncIterator[NodeEditors]:
    config = {
        "gurl": rs.url.replace("http://", "ws://", 1),
        "tokens": [rs.token(f"node{n}", user_id=100 + n) for n in range(NODE_CLIENTS)],
        "path": path,
        "edits": EDITS,
        "seed": 1234,
        "maxDelayMs": 5,
    }
    process = await asyncio.create_subprocess_exec(
        node,
        str(SCRIPT),
        json.dumps(config),
        cwd=REPO_ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    editors = NodeEditors(process)
    try:
        yield editors
    finally:
        with contextlib.suppress(ConnectionError):
            editors.send({"exit": True})
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            process.kill()
            await process.wait()
        await editors.reader


async def python_edits(doc: SyncedDocument, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(EDITS):
        doc.edit(random_op(rng, doc.text))
        await asyncio.sleep(rng.random() * 0.005)
    await doc.wait_idle(40)


async def test_twenty_official_and_python_clients_converge_on_one_text_and_crc(
    node: str, tmp_path: Path
) -> None:
    (tmp_path / "doc.txt").write_text("shared start\n")
    async with (
        running_server(tmp_path) as rs,
        contextlib.AsyncExitStack() as stack,
        node_editors(node, rs, "doc.txt") as editors,
    ):
        clients = [
            await stack.enter_async_context(rs.client(f"py{n}", user_id=n + 1))
            for n in range(PYTHON_CLIENTS)
        ]
        docs = [await SyncedDocument.open(client, "doc.txt") for client in clients]
        await editors.wait("ready", NODE_CLIENTS)

        editors.send({"start": True})
        await asyncio.gather(*(python_edits(doc, n) for n, doc in enumerate(docs)))
        await editors.wait("idle", NODE_CLIENTS)

        registry = rs.server.router.shared(REGISTRY_KEY, lambda: None)
        assert isinstance(registry, DocumentRegistry)
        target = registry.documents["doc.txt"].version
        editors.send({"target": target})
        finals = await editors.wait("final", NODE_CLIENTS)
        for doc in docs:
            await doc.wait_version(target, 20)
            assert doc.errors == []

        await docs[0].channel.request(flush())
        on_disk = (tmp_path / "doc.txt").read_text()
        texts = {doc.text for doc in docs} | {final["text"] for final in finals}
        assert texts == {on_disk}
        crcs = {doc.crc32() for doc in docs} | {final["crc32"] for final in finals}
        assert crcs == {zlib.crc32(on_disk.encode())}
        assert {final["version"] for final in finals} == {target}
        assert editors.of("error") == []
        assert len(on_disk) > 1000, "the editors' edits did not all arrive"
        print(f"converged at version {target} with {len(on_disk)} code points")
