"""``goval exec [-e NAME=VALUE] [-i] URL -- CMD...``: one command in a workspace, via ``exec``.

Owns the subcommand: it opens an anonymous ``exec`` channel, sends the command (``-e`` adds
environment variables, ``-i`` forwards local stdin as ``input``), prints the merged output as it
streams in, and exits with the command's status: N for ``exit status N``, 128 + the signal
number for ``signal: <name>``, 127 when the program was not found, 1 for any other failure.
It speaks only the client library.
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import contextlib
import os
import signal
import sys
import threading

from goval._proto.api_pb2 import Command
from goval.cli.common import add_client_command, connect_to, run_session
from goval.client import Channel
from goval.host.signals import signal_name

__all__ = ["add_exec_command", "exit_status_of"]


def add_exec_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``exec`` on the ``goval`` parser."""
    parser = add_client_command(
        commands,
        "exec",
        "run a command in a workspace, stream its output",
        _exec,
        usage="goval exec [-e NAME=VALUE] [-i] [--token TOKEN] URL -- CMD...",
    )
    parser.add_argument(
        "-e", "--env", action="append", default=[], metavar="NAME=VALUE", help="add a variable"
    )
    parser.add_argument("-i", "--stdin", action="store_true", help="forward stdin as input")
    parser.add_argument("argv", nargs=argparse.REMAINDER, help="-- then the command")


def exit_status_of(error: str) -> int:
    """The local exit status for an exec ``error`` text."""
    if error.startswith("exit status "):
        with contextlib.suppress(ValueError):
            return int(error.removeprefix("exit status "))
    if error.startswith("signal: "):
        name = error.removeprefix("signal: ")
        for sig in signal.Signals:
            if signal_name(sig.value) == name:
                return 128 + sig.value
    if error.endswith("executable file not found in $PATH"):
        return 127
    return 1


def _exec(args: argparse.Namespace) -> int:
    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not argv:
        print("goval exec: missing command (goval exec URL -- CMD...)", file=sys.stderr)
        return 2
    env: dict[str, str] = {}
    for item in args.env:
        name, sep, value = item.partition("=")
        if not sep or not name:
            print(f"goval exec: -e wants NAME=VALUE, not {item!r}", file=sys.stderr)
            return 2
        env[name] = value
    return run_session("goval exec", _run(args, argv, env))


async def _run(args: argparse.Namespace, argv: list[str], env: dict[str, str]) -> int:
    async with connect_to(args) as client:
        channel = await client.open("exec")
        request = Command()
        request.exec.args.extend(argv)
        request.exec.env.update(env)
        printer = asyncio.ensure_future(_print_output(channel))
        if args.stdin:
            _forward_stdin(channel)
        try:
            reply = await channel.request(request, check=False)
        finally:
            printer.cancel()
        # Output precedes the final reply on the wire: what is queued now is the rest of it.
        for push in channel.drain():
            _write(push)
    if reply.WhichOneof("body") == "error":
        status = exit_status_of(reply.error)
        if not reply.error.startswith(("exit status ", "signal: ")):
            print(f"goval exec: {reply.error}", file=sys.stderr)
        return status
    return 0


async def _print_output(channel: Channel) -> None:
    while True:
        _write(await channel.receive(timeout=None))


def _write(push: Command) -> None:
    if push.WhichOneof("body") == "output":
        sys.stdout.write(push.output)
        sys.stdout.flush()


def _forward_stdin(channel: Channel) -> None:
    """Send local stdin as ``input`` from a daemon thread (a blocked read never holds exit)."""
    loop = asyncio.get_running_loop()
    decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def pump() -> None:
        while data := os.read(sys.stdin.fileno(), 65536):
            text = decoder.decode(data)
            if text:
                loop.call_soon_threadsafe(channel.send, Command(input=text))

    threading.Thread(target=pump, name="goval-exec-stdin", daemon=True).start()
