"""The ``pprof`` service (protocol.md §4.16, owner only): profiles of the server process.

``pprofRequest{id, cpu{seconds}}`` samples for ``seconds`` (0 → 30, at most 300) in a worker
thread, so the channel keeps answering meanwhile; heap / allocs trace allocations for a short
window with tracemalloc (``pprof_sampling`` says why not longer), also in a thread. The
reply is ``pprofResponse{id, profile}`` with gzip'd pprof bytes. Go's block and mutex profiles
have no Python counterpart: they answer an honest error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from goval._proto.api_pb2 import Command, PprofResponse
from goval.errors import GovalError
from goval.identity import Role
from goval.services.base import Deferred, Peer, Reply, Service
from goval.services.pprof_sampling import DEFAULT_HEAP_WINDOW, cpu_profile, heap_profile

__all__ = ["DEFAULT_CPU_SECONDS", "MAX_CPU_SECONDS", "PprofService", "cpu_seconds"]

DEFAULT_CPU_SECONDS = 30
MAX_CPU_SECONDS = 300


def cpu_seconds(requested: int) -> int:
    """How long a CPU profile samples: 0 (unset) means 30 s; at most 300 s."""
    if requested <= 0:
        return DEFAULT_CPU_SECONDS
    return min(requested, MAX_CPU_SECONDS)


class PprofService(Service):
    name = "pprof"
    min_role = Role.OWNER
    # Seconds a heap request traces allocations when tracemalloc is not already on.
    heap_window = DEFAULT_HEAP_WINDOW

    async def handle(self, peer: Peer, command: Command, body: str) -> Reply:
        if body != "pprofRequest":
            return await super().handle(peer, command, body)
        request = command.pprofRequest
        match request.WhichOneof("body"):
            case "pprofCpuProfileRequest":
                seconds = cpu_seconds(request.pprofCpuProfileRequest.seconds)
                return Deferred(self._respond(request.id, asyncio.to_thread(cpu_profile, seconds)))
            case "pprofHeapProfileRequest" | "pprofAllocsProfileRequest" as kind:
                allocs = kind == "pprofAllocsProfileRequest"
                heap = asyncio.to_thread(heap_profile, allocs, self.heap_window)
                return Deferred(self._respond(request.id, heap))
            case "pprofBlockProfileRequest":
                raise GovalError("block profiles are not supported")
            case "pprofMutexProfileRequest":
                raise GovalError("mutex profiles are not supported")
        raise GovalError("pprofRequest without a profile kind")

    @staticmethod
    async def _respond(profile_id: str, profile: Awaitable[bytes]) -> Command:
        data = await profile
        return Command(pprofResponse=PprofResponse(id=profile_id, profile=data))
