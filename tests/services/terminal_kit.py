"""Helpers for the terminal service tests: waiting on pushes and rendering what a client saw."""

from __future__ import annotations

import asyncio
from pathlib import Path

from goval._proto.api_pb2 import Command
from goval.client import Channel
from goval.host import TerminalScreen
from goval.services.base import Resources
from goval.testing import FakePeer
from tests.host.helpers import eventually, gone

__all__ = [
    "Watcher",
    "bodies",
    "eventually",
    "gone",
    "isolate_shell",
    "output_of",
    "peer_output",
    "render",
    "type_line",
]


def bodies(commands: list[Command]) -> list[str]:
    return [command.WhichOneof("body") or "" for command in commands]


def output_of(commands: list[Command]) -> str:
    return "".join(command.output for command in commands)


def peer_output(peer: FakePeer) -> str:
    return output_of(peer.received)


def render(text: str, rows: int = 24, cols: int = 80) -> list[str]:
    """The screen a fresh terminal of this size shows after ``text``."""
    screen = TerminalScreen(rows, cols)
    screen.feed(text)
    return [line.rstrip() for line in screen.display()]


class Watcher:
    """Collects every push of a client channel in the background."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.pushes: list[Command] = []
        self._task = asyncio.get_running_loop().create_task(self._collect())

    async def _collect(self) -> None:
        async for command in self.channel:
            self.pushes.append(command)

    @property
    def text(self) -> str:
        return output_of(self.pushes)

    async def wait_for(self, needle: str, timeout: float = 10.0, start: int = 0) -> None:
        await eventually(lambda: needle in self.text[start:], timeout)

    def stop(self) -> None:
        self._task.cancel()


def type_line(channel: Channel, line: str) -> None:
    channel.send(Command(input=line + "\r"))


def isolate_shell(resources: Resources, home: Path) -> None:
    """Shells started from now on read no rc files of the machine's user (no stray prompts,
    no slow or blocking start-up hooks): ``HOME`` is a fresh directory."""
    home.mkdir(parents=True, exist_ok=True)
    # Never HISTFILE=/dev/null: bash (run as root) saves history by writing a temp file and
    # renaming it over HISTFILE, which replaces the /dev/null device with a regular file.
    history = str(home / ".bash_history")
    resources.process_defaults.env.update({"HOME": str(home), "HISTFILE": history})
