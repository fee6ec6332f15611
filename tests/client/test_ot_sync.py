"""goval.client.ot.SyncedDocument against a real server: convergence, sharing, reconnects."""

from __future__ import annotations

import asyncio
import random
import zlib
from pathlib import Path

from goval.client import Client
from goval.client.ot import SyncedDocument
from goval.ot import Delete, Op
from goval.testing import RunningServer, running_server
from tests.services.ot_kit import flush


def random_op(rng: random.Random, text: str) -> Op:
    pos = rng.randint(0, len(text))
    if text and rng.random() < 0.35:
        return [pos - 1 if pos else 0, Delete(1)] if pos else [Delete(1)]
    return [pos, rng.choice(["a", "bc", "😀", "\n", "é中"])]


async def edit_randomly(doc: SyncedDocument, rng: random.Random, count: int) -> None:
    for _ in range(count):
        doc.edit(random_op(rng, doc.text))
        if rng.random() < 0.3:
            await asyncio.sleep(0)
        if rng.random() < 0.1:
            await asyncio.sleep(0.002)


async def settle(docs: list[SyncedDocument], rs: RunningServer, path: str) -> None:
    for doc in docs:
        await doc.wait_idle(20)
    final = max(doc.version for doc in docs)
    for doc in docs:
        await doc.wait_version(final, 20)
        assert doc.errors == []


async def test_python_clients_editing_concurrently_converge_everywhere_and_on_disk(
    tmp_path: Path,
) -> None:
    (tmp_path / "doc.txt").write_text("start\n")
    async with running_server(tmp_path) as rs:
        async with rs.client("a") as ca, rs.client("b", user_id=2) as cb, rs.client("c") as cc:
            docs = [await SyncedDocument.open(c, "doc.txt") for c in (ca, cb, cc)]
            await asyncio.gather(
                *(edit_randomly(d, random.Random(n), 60) for n, d in enumerate(docs))
            )
            await settle(docs, rs, "doc.txt")
            texts = {d.text for d in docs}
            assert len(texts) == 1
            assert {d.crc32() for d in docs} == {zlib.crc32(texts.pop().encode())}
            await docs[0].channel.request(flush())
            assert (tmp_path / "doc.txt").read_text() == docs[0].text


async def test_channels_linked_to_one_path_share_one_document(tmp_path: Path) -> None:
    (tmp_path / "doc.txt").write_text("x")
    async with running_server(tmp_path) as rs, rs.client() as client:
        first = SyncedDocument(await client.open("ot", "editor-1"), "doc.txt")
        second = SyncedDocument(await client.open("ot", "editor-2"), "./doc.txt")
        await first.start()
        await second.start()
        first.edit([1, "y"])
        second.edit(["w"])
        await first.wait_idle()
        await second.wait_idle()
        await first.wait_version(3)
        await second.wait_version(3)
        assert first.text == second.text == "wxy"


async def test_a_client_that_reconnects_fetches_what_it_missed_and_carries_on(
    tmp_path: Path,
) -> None:
    (tmp_path / "doc.txt").write_text("")
    async with running_server(tmp_path) as rs:
        async with rs.client("a", reconnect=True) as ca, rs.client("b") as cb:
            a = await SyncedDocument.open(ca, "doc.txt")
            b = await SyncedDocument.open(cb, "doc.txt")
            rs.server.router.sessions[ca.session_id].close(1011, "test drop")
            await ca.lost.wait()
            for n in range(5):
                b.edit([n, str(n)])
            await b.wait_idle()
            await asyncio.wait_for(_reconnected(ca), 10)
            await a.wait_version(b.version)
            assert a.text == b.text == "01234"
            a.edit([5, "!"])
            await a.wait_idle()
            await b.wait_version(a.version)
            assert b.text == "01234!"
            assert a.errors == b.errors == []


async def _reconnected(client: Client) -> None:
    while client.reconnects == 0:
        await asyncio.sleep(0.01)
