"""``goval edit`` and ``goval watch`` as subprocesses against a running server."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from goval.cli.ot import Rebaser, describe
from goval.client.ot import SyncedDocument
from goval.ot import Delete, apply
from goval.testing import running_server


def test_a_stale_copy_s_save_is_rebased_over_the_edits_of_others() -> None:
    rebaser = Rebaser("abc\n")
    live = "abc\n"
    remote = ["X"]  # someone typed at the start meanwhile
    live = apply(live, remote)
    rebaser.on_change(remote, True)
    rebaser.on_change([1, "ignored: our own"], False)
    op = rebaser.saved("abc\nmine\n")
    live = apply(live, op)
    assert live == "Xabc\nmine\n"
    more = [Delete(1)]
    live = apply(live, more)
    rebaser.on_change(more, True)
    assert apply(live, rebaser.saved("abc\nmine!\n")) == "abc\nmine!\n"


def test_watch_lines_say_where_and_what() -> None:
    assert describe(7, [3, "hi", 2, Delete(4)]) == "v7: @3 +'hi', @5 -4"
    assert describe(8, []) == "v8: (no change)"


async def goval(*args: str, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "goval.cli.main",
        "--log-level",
        "warning",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )


async def test_edit_sends_the_editor_s_save_without_losing_concurrent_edits(
    tmp_path: Path,
) -> None:
    (tmp_path / "notes.txt").write_text("abc\n")
    async with running_server(tmp_path) as rs, rs.client() as client:
        other = await SyncedDocument.open(client, "notes.txt")
        editor = 'sh -c \'sleep 1.2; printf "more\\n" >> "$0"\''
        process = await goval("edit", rs.ws_url(rs.token()), "notes.txt", env={"EDITOR": editor})
        await asyncio.sleep(0.6)  # the editor is open on its copy now
        other.edit(["REMOTE "])
        out, err = await asyncio.wait_for(process.communicate(), 20)
        assert process.returncode == 0, err.decode()
        await other.wait_until(lambda: other.text.endswith("more\n"))
        assert other.text == "REMOTE abc\nmore\n"
        assert b"notes.txt: version" in out


async def test_watch_prints_each_change_as_it_is_committed(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("abc")
    async with running_server(tmp_path) as rs, rs.client() as client:
        process = await goval("watch", rs.ws_url(rs.token()), "notes.txt", "--count", "2")
        assert process.stdout is not None
        first = await asyncio.wait_for(process.stdout.readline(), 10)
        assert first.decode() == "notes.txt at version 1 (3 code points)\n"
        doc = await SyncedDocument.open(client, "notes.txt")
        doc.edit([3, "d"])
        await doc.wait_idle()
        doc.edit([Delete(1)])
        out, err = await asyncio.wait_for(process.communicate(), 10)
        assert out.decode() == "v2: @3 +'d'\nv3: @0 -1\n", err.decode()
