"""``goval shell URL`` and ``goval run URL``: a workspace's terminals from a local terminal.

Owns the two subcommands: ``shell`` puts the local tty in raw mode, forwards keystrokes as
``input`` and window changes (SIGWINCH) as ``resizeTerm``, prints ``output``, and restores the
tty on every exit path (``Ctrl-]`` detaches; the shell itself respawns on ``exit``). ``run``
attaches the ``shellrunner`` console, sends ``runMain`` and streams the run until ``Stopped``
(``Ctrl-C`` sends ``clear{}``). It speaks only the client library.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import sys
import termios
import tty
from collections.abc import Iterator

from goval._proto.api_pb2 import Clear, Command, ResizeTerm, RunMain, State
from goval.cli.common import add_client_command, connect_to, run_session
from goval.client import Channel

__all__ = ["add_commands"]

DETACH_KEY = b"\x1d"  # Ctrl-]


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``shell`` and ``run`` on the ``goval`` parser."""
    shell_help = "open a shell in a workspace (Ctrl-] detaches)"
    shell = add_client_command(commands, "shell", shell_help, _shell)
    shell.add_argument("--name", default="", help="attach to (or create) this named shell")
    add_client_command(commands, "run", "press the run button and stream the run", _run)


def _shell(args: argparse.Namespace) -> int:
    return run_session("goval shell", _shell_session(args))


def _run(args: argparse.Namespace) -> int:
    # A refused runMain is a ServerError, whose str() is the server's exact text.
    return run_session("goval run", _run_session(args))


@contextlib.contextmanager
def raw_tty(fd: int) -> Iterator[None]:
    """Raw mode on ``fd`` if it is a tty; the previous mode is restored however we leave."""
    if not os.isatty(fd):
        yield
        return
    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _resize_command() -> Command:
    size = shutil.get_terminal_size()
    return Command(resizeTerm=ResizeTerm(rows=size.lines, cols=size.columns))


async def _shell_session(args: argparse.Namespace) -> int:
    loop = asyncio.get_running_loop()
    stdin = sys.stdin.fileno()
    async with connect_to(args, reconnect=True) as client:
        channel = await client.open("shell", args.name or None)
        done: asyncio.Future[int] = loop.create_future()
        channel.send(_resize_command())
        loop.add_signal_handler(signal.SIGWINCH, lambda: channel.send(_resize_command()))
        with raw_tty(stdin):
            loop.add_reader(stdin, _forward_keys, stdin, channel, done)
            printing = loop.create_task(_print_output(channel, done))
            try:
                status = await done
            finally:
                loop.remove_reader(stdin)
                loop.remove_signal_handler(signal.SIGWINCH)
                printing.cancel()
        await channel.aclose()
    return status


def _forward_keys(fd: int, channel: Channel, done: asyncio.Future[int]) -> None:
    data = os.read(fd, 4096)
    if not data or DETACH_KEY in data:
        data = data.split(DETACH_KEY, 1)[0]
        if data:
            channel.send(Command(input=data.decode("utf-8", "replace")))
        if not done.done():
            done.set_result(0)
        return
    channel.send(Command(input=data.decode("utf-8", "replace")))


async def _print_output(channel: Channel, done: asyncio.Future[int]) -> None:
    out = sys.stdout.buffer
    async for command in channel:
        match command.WhichOneof("body"):
            case "output":
                out.write(command.output.encode())
                out.flush()
            case "error":
                out.write(f"\r\ngoval: {command.error}\r\n".encode())
                out.flush()
    if not done.done():
        done.set_result(1)


async def _run_session(args: argparse.Namespace) -> int:
    loop = asyncio.get_running_loop()
    async with connect_to(args) as client:
        channel = await client.open("shellrun2", "shellrunner")
        loop.add_signal_handler(signal.SIGINT, lambda: channel.send(Command(clear=Clear())))
        streaming = loop.create_task(_stream_run(channel))
        try:
            await channel.request(Command(runMain=RunMain()))
            return await streaming
        finally:
            loop.remove_signal_handler(signal.SIGINT)
            streaming.cancel()


async def _stream_run(channel: Channel) -> int:
    """Print a run's output, from its ``execInfo`` until the console is ``Stopped`` again."""
    out = sys.stdout.buffer
    started = False
    async for command in channel:
        match command.WhichOneof("body"):
            case "execInfo":
                started = True
            case "output" if started:
                out.write(command.output.encode())
                out.flush()
            case "hint" if started:
                print(f"hint: {command.hint.text}", file=sys.stderr)
            case "state" if started and command.state == State.Stopped:
                return 0
    return 1
