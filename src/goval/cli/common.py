"""What every client subcommand of ``goval`` shares: the ``url`` and ``--token`` arguments,
connecting with them, and turning a session's failure into an exit status.

Exit codes scripts can trust: 0 success; 1 the server refused or failed (its exact error text on
stderr), or the connection failed; 2 usage errors (argparse). Subcommands own their requests
and output; this module never writes to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import aiohttp

from goval.client import ChannelOpenError, Client, ConnectionLost, ServerError, connect

__all__ = [
    "CONNECTION_FAILURES",
    "CommandFailed",
    "add_client_command",
    "client_command_adder",
    "connect_to",
    "run_session",
]

A = TypeVar("A")

URL_HELP = "ws://host:port/wsv2/<token> or http://host:port with --token"


class CommandFailed(Exception):
    """A failure to report on stderr with exit status 1."""


# What a request-and-reply subcommand expects to go wrong; anything else is a bug (traceback).
CONNECTION_FAILURES: tuple[type[Exception], ...] = (
    CommandFailed,
    ServerError,
    ChannelOpenError,
    ConnectionLost,
    aiohttp.ClientError,
    OSError,
)


def add_client_command(
    commands: Any,
    name: str,
    help_text: str,
    run: Callable[[argparse.Namespace], int],
    *,
    token_from_env: bool = False,
    **parser_options: Any,
) -> argparse.ArgumentParser:
    """Add subcommand ``name`` taking ``url`` and ``--token``; ``run(args)`` is its exit status.

    Args:
        commands: ``goval``'s subparsers.
        token_from_env: ``--token`` defaults to ``$GOVAL_TOKEN`` instead of none.
        parser_options: passed on to ``add_parser`` (e.g. ``usage``).
    """
    parser: argparse.ArgumentParser = commands.add_parser(name, help=help_text, **parser_options)
    parser.add_argument("url", help=URL_HELP)
    token = os.environ.get("GOVAL_TOKEN") if token_from_env else None
    parser.add_argument("--token", default=token)
    parser.set_defaults(run=run, command_name=name)
    return parser


def client_command_adder(
    commands: Any,
    run: Callable[[argparse.Namespace, A], int],
    *,
    token_from_env: bool = False,
) -> Callable[[str, A, str], argparse.ArgumentParser]:
    """``add(name, action, help_text)`` for a family of client subcommands that share a runner:
    each is :func:`add_client_command` with ``run(args, action)`` as its exit status."""

    def add(name: str, action: A, help_text: str) -> argparse.ArgumentParser:
        return add_client_command(
            commands, name, help_text, lambda args: run(args, action), token_from_env=token_from_env
        )

    return add


def connect_to(
    args: argparse.Namespace, *, reconnect: bool = False
) -> contextlib.AbstractAsyncContextManager[Client]:
    """Connect to ``args.url`` with ``args.token`` (see ``goval.client.connect``)."""
    return connect(args.url, args.token, reconnect=reconnect)


def run_session(
    label: str,
    session: Coroutine[Any, Any, int | None],
    *,
    failures: tuple[type[Exception], ...] = (Exception,),
    interrupted: int | None = None,
) -> int:
    """Run ``session``; its status (None: 0), or 1 with ``label: error`` on stderr.

    Args:
        failures: what is reported as status 1; anything else propagates.
        interrupted: the status for Ctrl-C; None lets ``KeyboardInterrupt`` propagate.
    """
    try:
        status = asyncio.run(session)
    except KeyboardInterrupt:
        if interrupted is None:
            raise
        return interrupted
    except failures as exc:
        print(f"{label}: {exc}", file=sys.stderr)
        return 1
    return status or 0
