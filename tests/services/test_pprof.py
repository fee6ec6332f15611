"""pprof (protocol.md §4.16): gzip'd profile.proto bytes that protobuf itself can decode."""

from __future__ import annotations

import asyncio
import gzip
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from goval._proto.api_pb2 import Command, PprofRequest
from goval.client import ChannelOpenError
from goval.identity import Role
from goval.services.pprof import PprofService, cpu_seconds
from goval.testing import ServiceHarness, running_server
from tests.services.foreign_protos import Profile


def pprof_request(kind: str, profile_id: str = "", seconds: int = 0) -> PprofRequest:
    request = PprofRequest(id=profile_id)
    getattr(request, kind).SetInParent()
    if seconds:
        request.pprofCpuProfileRequest.seconds = seconds
    return request


def decode(reply: Command | None) -> Any:
    assert reply is not None and reply.WhichOneof("body") == "pprofResponse", reply
    profile = Profile()
    profile.ParseFromString(gzip.decompress(reply.pprofResponse.profile))
    return profile


def names(profile: Any) -> set[str]:
    return {profile.string_table[function.name] for function in profile.function}


def spin_the_cpu_for_the_profiler(stop: threading.Event) -> None:
    while not stop.is_set():
        sum(range(1000))


async def test_a_cpu_profile_shows_the_busy_thread_and_not_the_idle_event_loop(
    tmp_path: Path,
) -> None:
    h = ServiceHarness(PprofService, tmp_path)
    owner = await h.attach("alice", Role.OWNER)
    stop = threading.Event()
    busy = threading.Thread(target=spin_the_cpu_for_the_profiler, args=(stop,))
    busy.start()
    try:
        request = pprof_request("pprofCpuProfileRequest", "p1", seconds=1)
        started = time.monotonic()
        reply = await h.request(owner, Command(pprofRequest=request))
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        busy.join()
    profile = decode(reply)
    assert reply is not None and reply.pprofResponse.id == "p1"
    assert 0.9 < elapsed < 3
    assert profile.string_table[0] == ""
    assert [
        (profile.string_table[t.type], profile.string_table[t.unit]) for t in profile.sample_type
    ] == [
        ("samples", "count"),
        ("cpu", "nanoseconds"),
    ]
    assert profile.period == 10_000_000
    assert "spin_the_cpu_for_the_profiler" in names(profile)
    assert "BaseSelector.select" not in names(profile) and "EpollSelector.select" not in names(
        profile
    )
    total = sum(sample.value[0] for sample in profile.sample)
    assert 50 <= total <= 110  # ~100 Hz for one second, on a shared machine
    locations = {location.id for location in profile.location}
    assert all(set(sample.location_id) <= locations for sample in profile.sample)
    await h.aclose()


def allocate_for_the_heap_profile() -> list[bytearray]:
    return [bytearray(4096) for _ in range(256)]


class QuickPprof(PprofService):
    heap_window = 0.5


def bytes_from_this_file(profile: Any) -> int:
    files = {f.id: profile.string_table[f.filename] for f in profile.function}
    leaf_file = {loc.id: files[loc.line[0].function_id] for loc in profile.location}
    return sum(s.value[1] for s in profile.sample if leaf_file[s.location_id[0]] == __file__)


@pytest.mark.parametrize(
    ("kind", "prefix"),
    [("pprofHeapProfileRequest", "inuse"), ("pprofAllocsProfileRequest", "alloc")],
)
async def test_heap_and_allocs_profiles_attribute_memory_allocated_in_the_window_to_its_line(
    tmp_path: Path, kind: str, prefix: str
) -> None:
    h = ServiceHarness(QuickPprof, tmp_path)
    owner = await h.attach()
    pending = asyncio.ensure_future(
        h.request(owner, Command(pprofRequest=pprof_request(kind, "h")))
    )
    await asyncio.sleep(0.2)  # inside the tracing window
    kept = allocate_for_the_heap_profile()
    profile = decode(await pending)

    types = [profile.string_table[t.type] for t in profile.sample_type]
    assert types == [f"{prefix}_objects", f"{prefix}_space"]
    assert bytes_from_this_file(profile) >= 256 * 4096
    assert len(kept) == 256
    assert not tracemalloc.is_tracing()  # tracing slows every allocation: it is switched off
    await h.aclose()


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("pprofBlockProfileRequest", "block profiles are not supported"),
        ("pprofMutexProfileRequest", "mutex profiles are not supported"),
    ],
)
async def test_block_and_mutex_profiles_answer_an_honest_error(
    tmp_path: Path, kind: str, text: str
) -> None:
    h = ServiceHarness(PprofService, tmp_path)
    owner = await h.attach()
    reply = await h.request(owner, Command(pprofRequest=pprof_request(kind)))
    assert reply is not None and reply.error == text
    await h.aclose()


def test_cpu_seconds_default_to_30_and_stop_at_300() -> None:
    assert [cpu_seconds(n) for n in (0, -5, 1, 300, 301)] == [30, 30, 1, 300, 300]


@pytest.mark.parametrize("role", [Role.READ, Role.WRITE])
async def test_only_the_owner_may_open_pprof(role: Role) -> None:
    async with running_server() as rs, rs.client("guest", role) as client:
        with pytest.raises(ChannelOpenError, match="^permission denied: pprof$"):
            await client.open("pprof")


async def test_an_owner_gets_a_profile_over_the_wire_while_the_channel_stays_responsive() -> None:
    async with running_server() as rs, rs.client("alice") as client:
        pprof = await client.open("pprof")
        request = Command(pprofRequest=pprof_request("pprofCpuProfileRequest", "c", seconds=1))
        cpu = asyncio.ensure_future(pprof.request(request))
        block = await pprof.request(
            Command(pprofRequest=pprof_request("pprofBlockProfileRequest")), check=False
        )
        assert block.error == "block profiles are not supported" and not cpu.done()
        decode(await cpu)
