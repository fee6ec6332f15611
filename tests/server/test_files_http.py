"""Signed file URLs on the wire (§4.1): GET/HEAD/PUT/DELETE, bound to path, method and expiry."""

from __future__ import annotations

import hashlib
import os
import time
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import yarl

from goval._proto.api_pb2 import Command, File, FileAuthMethod, FileAuthReq, FileAuthRes
from goval.client import Channel
from goval.identity import Role
from goval.testing import RunningServer, running_server

MiB = 1024 * 1024


@pytest.fixture
async def rs(tmp_path: Path) -> AsyncIterator[RunningServer]:
    async with running_server(tmp_path) as server:
        yield server


@pytest.fixture
async def files(rs: RunningServer) -> AsyncIterator[Channel]:
    async with rs.client() as client:
        yield await client.open("gcsfiles")


async def auth(channel: Channel, path: str, method: int) -> Command:
    request = FileAuthReq(file=File(path=path), method=method)  # type: ignore[arg-type]
    return await channel.request(Command(fileAuthReq=request))


async def url_for(channel: Channel, path: str, method: str) -> str:
    reply = await auth(channel, path, FileAuthMethod.Value(method))
    if method in ("PUT",):
        return reply.mutliFileAuthRes.put.url
    result: FileAuthRes = reply.fileAuthRes
    assert not result.error, result.error
    return result.url


def tamper(url: str, **changes: str) -> yarl.URL:
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    path = changes.pop("path", parts.path)
    query.update(changes)
    raw = urllib.parse.urlunsplit(
        (parts.scheme, parts.netloc, path, urllib.parse.urlencode(query), "")
    )
    return yarl.URL(raw, encoded=True)  # sent as is: no client-side normalisation


async def test_urls_point_at_the_server_and_expire_in_fifteen_minutes(
    rs: RunningServer, files: Channel
) -> None:
    reply = await auth(files, "a.txt", FileAuthMethod.GET)
    assert reply.fileAuthRes.url.startswith(f"{rs.url}/fs/a.txt?m=GET&e=")
    assert abs(reply.fileAuthRes.expire - (time.time() + 900)) < 5


async def test_get_and_head_stream_a_file_byte_exact(
    rs: RunningServer, files: Channel, tmp_path: Path
) -> None:
    blob = os.urandom(3 * MiB + 17)
    (tmp_path / "dir with space").mkdir()
    (tmp_path / "dir with space" / "blob.bin").write_bytes(blob)
    get = await url_for(files, "dir with space/blob.bin", "GET")
    head = await url_for(files, "dir with space/blob.bin", "HEAD")
    async with aiohttp.ClientSession() as http:
        async with http.get(get) as response:
            assert response.status == 200
            assert await response.read() == blob
        async with http.head(head) as response:
            assert response.status == 200
            assert response.content_length == len(blob)


async def test_put_uploads_a_big_body_atomically_and_creates_parents(
    rs: RunningServer, files: Channel, tmp_path: Path
) -> None:
    blob = os.urandom(5 * MiB)
    put = await url_for(files, "up/load.bin", "PUT")

    async def body() -> AsyncIterator[bytes]:
        for start in range(0, len(blob), 256 * 1024):
            yield blob[start : start + 256 * 1024]

    async with aiohttp.ClientSession() as http, http.put(put, data=body()) as response:
        assert response.status == 200
    assert hashlib.sha256((tmp_path / "up" / "load.bin").read_bytes()).digest() == (
        hashlib.sha256(blob).digest()
    )
    leftovers = [p for p in (tmp_path / "up").iterdir() if p.name != "load.bin"]
    assert leftovers == []  # no temp file remains


async def test_delete_removes_and_a_missing_file_is_404(
    rs: RunningServer, files: Channel, tmp_path: Path
) -> None:
    (tmp_path / "doomed.txt").write_text("x")
    reply = await auth(files, "doomed.txt", FileAuthMethod.PUT)
    delete = getattr(reply.mutliFileAuthRes, "del").url
    get = reply.mutliFileAuthRes.get.url
    async with aiohttp.ClientSession() as http:
        async with http.delete(delete) as response:
            assert response.status == 204
        assert not (tmp_path / "doomed.txt").exists()
        async with http.delete(delete) as response:
            assert response.status == 404
        async with http.get(get) as response:
            assert response.status == 404
            assert "no such file or directory" in await response.text()


@pytest.mark.parametrize(
    "change",
    [
        {"s": "AAAA"},
        {"e": str(int(time.time()) + 10_000)},
        {"m": "DELETE"},
        {"path": "/fs/other.txt"},
        {"path": "/fs/./victim.txt"},
        {"e": "-1"},
        {"s": ""},
    ],
    ids=["signature", "expiry", "method-param", "path", "uncleaned-path", "negative", "empty"],
)
async def test_a_tampered_url_is_forbidden_and_touches_nothing(
    rs: RunningServer, files: Channel, tmp_path: Path, change: dict[str, str]
) -> None:
    (tmp_path / "victim.txt").write_text("original")
    (tmp_path / "other.txt").write_text("other")
    put = await url_for(files, "victim.txt", "PUT")
    async with aiohttp.ClientSession() as http:
        async with http.put(tamper(put, **change), data=b"evil") as response:
            assert response.status == 403
        async with http.delete(tamper(put, **change)) as response:
            assert response.status == 403
    assert (tmp_path / "victim.txt").read_text() == "original"
    assert (tmp_path / "other.txt").read_text() == "other"


async def test_a_url_is_valid_for_its_own_method_only(
    rs: RunningServer, files: Channel, tmp_path: Path
) -> None:
    (tmp_path / "f.txt").write_text("keep")
    get = await url_for(files, "f.txt", "GET")
    async with aiohttp.ClientSession() as http:
        async with http.put(get, data=b"evil") as response:
            assert response.status == 403
        async with http.delete(get) as response:
            assert response.status == 403
    assert (tmp_path / "f.txt").read_text() == "keep"


async def test_an_expired_url_is_forbidden(
    rs: RunningServer, files: Channel, tmp_path: Path
) -> None:
    (tmp_path / "f.txt").write_text("keep")
    signer = rs.server.resources.url_signer
    lifetime, signer.lifetime = signer.lifetime, -1
    try:
        put = await url_for(files, "f.txt", "PUT")
    finally:
        signer.lifetime = lifetime
    async with aiohttp.ClientSession() as http, http.put(put, data=b"late") as response:
        assert response.status == 403
    assert (tmp_path / "f.txt").read_text() == "keep"


async def test_the_state_directory_is_not_reachable_through_urls(
    rs: RunningServer, files: Channel, tmp_path: Path
) -> None:
    get = await url_for(files, ".goval/workspace-keys.json", "GET")
    async with aiohttp.ClientSession() as http, http.get(get) as response:
        assert response.status == 404
        assert b"secret" not in await response.read()


async def test_a_reader_may_get_urls_to_read_but_not_to_write(rs: RunningServer) -> None:
    async with rs.client("rita", Role.READ) as client:
        channel = await client.open("gcsfiles")
        for method in (FileAuthMethod.PUT, FileAuthMethod.DELETE):
            reply = await channel.request(
                Command(fileAuthReq=FileAuthReq(file=File(path="x"), method=method)),
                check=False,
            )
            assert reply.error == "permission denied: fileAuthReq"
        reply = await auth(channel, "x", FileAuthMethod.GET)
        assert reply.fileAuthRes.url
