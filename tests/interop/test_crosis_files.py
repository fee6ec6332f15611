"""The official client (@replit/crosis) runs the full file round trip and sees file events.

crosis sends ``Command.create(json)``: bytes go as base64 strings (protobufjs encodes them),
and results come back through ``toJSON`` (bytes base64, enums by name, defaults omitted).
"""

from __future__ import annotations

import asyncio
import base64
import os
from stat import filemode
from typing import Any

from goval.testing import RunningServer
from tests.interop.crosis_driver import CrosisDriver
from tests.interop.test_crosis import assert_no_unrecoverable, connect


async def request(driver: CrosisDriver, chan: str, cmd: dict[str, Any]) -> dict[str, Any]:
    reply = await driver.call("request", chan=chan, cmd=cmd)
    assert reply["cmd"]["ref"] == reply["sentRef"]
    result: dict[str, Any] = reply["cmd"]
    return result


async def file_event(
    driver: CrosisDriver, path: str, op: str, dest: str | None = None
) -> dict[str, Any]:
    """The first fileEvent for ``path`` with ``op`` (Create is the default, hence omitted)."""

    def matches(body: dict[str, Any] | None) -> bool:
        return (
            body is not None
            and body.get("file", {}).get("path") == path
            and body.get("op", "Create") == op
            and (dest is None or body.get("dest", {}).get("path") == dest)
        )

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while True:
        seen = [e["cmd"].get("fileEvent") for e in driver.find("command", chan="events")]
        for body in seen:
            if body is not None and matches(body):
                found: dict[str, Any] = body
                return found
        assert loop.time() < deadline, f"no {op} of {path}; events: {seen}"
        await asyncio.sleep(0.02)


async def test_crosis_writes_reads_lists_stats_moves_removes_and_sees_file_events(
    rs: RunningServer, driver: CrosisDriver
) -> None:
    await connect(driver, rs)
    await driver.call("openChannel", client="a", chan="files", service="gcsfiles")
    await driver.call("openChannel", client="a", chan="events", service="fsevents")
    await driver.event("channel", chan="files", count=1)
    await driver.event("channel", chan="events", count=1)
    subscribed = await request(driver, "events", {"subscribeFile": {"files": [{"path": "."}]}})
    assert "ok" in subscribed

    blob = bytes(range(256)) + "héllo ✓".encode()
    content = base64.b64encode(blob).decode()
    assert "ok" in await request(
        driver, "files", {"write": {"path": "dir/a.bin", "content": content}}
    )
    assert (rs.workspace / "dir" / "a.bin").read_bytes() == blob
    created = await file_event(driver, "dir", "Create")
    assert created["file"]["type"] == "DIRECTORY"

    read = await request(driver, "files", {"read": {"path": "./dir//a.bin"}})
    assert read["file"]["path"] == "dir/a.bin"
    assert base64.b64decode(read["file"]["content"]) == blob

    listing = await request(driver, "files", {"readdir": {"path": "dir"}})
    assert listing["files"]["files"] == [{"path": "a.bin"}]  # type REGULAR is the default
    stat = (await request(driver, "files", {"stat": {"path": "dir/a.bin"}}))["statRes"]
    assert stat["exists"] is True and int(stat["size"]) == len(blob)
    on_disk = os.stat(rs.workspace / "dir" / "a.bin")
    assert stat["fileMode"] == filemode(on_disk.st_mode)

    moved = await request(driver, "files", {"move": {"oldPath": "dir/a.bin", "newPath": "b.bin"}})
    assert "ok" in moved
    assert (rs.workspace / "b.bin").read_bytes() == blob
    await file_event(driver, "dir/a.bin", "Move", dest="b.bin")  # the dest end is watched

    missing = await request(driver, "files", {"read": {"path": "dir/a.bin"}})
    assert missing["error"] == "open dir/a.bin: no such file or directory"
    assert "ok" in await request(driver, "files", {"remove": {"path": "b.bin"}})
    assert not (rs.workspace / "b.bin").exists()
    await file_event(driver, "b.bin", "Remove")
    gone = (await request(driver, "files", {"stat": {"path": "b.bin"}}))["statRes"]
    assert gone.get("exists", False) is False

    assert_no_unrecoverable(driver)


async def test_crosis_sees_a_move_between_watched_names_as_one_move_event(
    rs: RunningServer, driver: CrosisDriver
) -> None:
    (rs.workspace / "old.txt").write_text("x")
    await connect(driver, rs)
    await driver.call("openChannel", client="a", chan="files", service="gcsfiles")
    await driver.call("openChannel", client="a", chan="events", service="fsevents")
    await driver.event("channel", chan="events", count=1)
    await request(driver, "events", {"subscribeFile": {"files": [{"path": "."}]}})
    await request(driver, "files", {"move": {"oldPath": "old.txt", "newPath": "new.txt"}})
    event = await file_event(driver, "old.txt", "Move", dest="new.txt")
    assert event["file"] == {"path": "old.txt"} and event["dest"] == {"path": "new.txt"}
    assert_no_unrecoverable(driver)
