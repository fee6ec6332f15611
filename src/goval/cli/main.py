"""The ``goval`` command: ``serve``, ``token``, ``ping``.

Each subcommand is one function taking the parsed arguments and returning an exit status.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import statistics
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from goval.cli.common import add_client_command, connect_to, run_session
from goval.cli.execute import add_exec_command
from goval.cli.files import add_file_commands
from goval.cli.ot import add_commands as add_ot_commands
from goval.cli.people import add_people_commands
from goval.cli.processes import add_commands as add_process_commands
from goval.identity import Role
from goval.server.auth import Authenticator, parse_duration
from goval.server.config import DEFAULT_PORT, ServerConfig
from goval.storage import load_or_create_keys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    status: int = args.run(args)
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="goval", description="A goval workspace server.")
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve a workspace directory")
    serve.add_argument("workspace", nargs="?", default=".", type=Path)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument("--state-dir", type=Path, default=None)
    serve.add_argument(
        "--no-auth", action="store_true", help="everyone is the owner (loopback only)"
    )
    serve.add_argument("--compress", action="store_true", help="enable permessage-deflate")
    serve.add_argument(
        "--public-key", type=Path, default=None, help="PEM key for EdDSA/RS256 tokens"
    )
    serve.add_argument("--jwks-url", default=None)
    serve.add_argument("--idle-timeout", type=parse_duration, default=15 * 60.0)
    serve.add_argument(
        "--idle-sleep",
        type=parse_duration,
        default=0.0,
        help="sleep when idle this long (0: never)",
    )
    serve.add_argument("--metrics-token", default=None, help="bearer token for GET /metrics")
    serve.add_argument(
        "--chat-history", type=int, default=100, help="messages a named chat keeps (default 100)"
    )
    serve.set_defaults(run=_serve)

    token = commands.add_parser("token", help="print a token for a workspace")
    token.add_argument("workspace", nargs="?", default=".", type=Path)
    token.add_argument("--state-dir", type=Path, default=None)
    token.add_argument("--user", required=True)
    token.add_argument("--id", type=int, default=1)
    token.add_argument("--role", default="owner", choices=[role.wire_name for role in Role])
    token.add_argument("--ttl", type=parse_duration, default=8 * 3600.0)
    token.set_defaults(run=_token)

    ping = add_client_command(commands, "ping", "measure round-trip latency to a server", _ping)
    ping.add_argument("--count", type=int, default=10)
    add_file_commands(commands)
    add_people_commands(commands)
    add_process_commands(commands)
    add_exec_command(commands)
    add_ot_commands(commands)
    return parser


def _serve(args: argparse.Namespace) -> int:
    from goval.server.app import Server

    try:
        config = ServerConfig(
            workspace=args.workspace.resolve(),
            state_dir=args.state_dir,
            host=args.host,
            port=args.port,
            no_auth=args.no_auth,
            compress=args.compress,
            public_key_file=args.public_key,
            jwks_url=args.jwks_url,
            idle_timeout=args.idle_timeout,
            idle_sleep=args.idle_sleep,
            metrics_token=args.metrics_token,
            chat_history=args.chat_history,
        )
    except ValueError as exc:
        print(f"goval: {exc}", file=sys.stderr)
        return 2
    if not config.workspace.is_dir():
        print(f"goval: {config.workspace} is not a directory", file=sys.stderr)
        return 2
    run_event_loop(_run_server(Server(config)))
    return 0


async def _run_server(server: object) -> None:
    from goval.server.app import Server

    assert isinstance(server, Server)
    await server.start()
    token = "" if server.config.no_auth else server.mint_token("owner", Role.OWNER)
    print(f"goval is serving {server.config.workspace}", flush=True)
    print(f"  open:      {server.base_url}/#token={token}", flush=True)
    print(f"  websocket: {server.websocket_url(token or 'local')}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait(
        [stopped, asyncio.ensure_future(server.idle_sleep.asleep.wait())],
        return_when=asyncio.FIRST_COMPLETED,
    )
    print("goval: shutting down" if stop.is_set() else "goval: asleep (idle)", flush=True)
    await server.aclose()


def run_event_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run the server on uvloop when it is installed (design.md: measured faster), else asyncio."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def _token(args: argparse.Namespace) -> int:
    state_dir = args.state_dir or args.workspace.resolve() / ".goval"
    keys = load_or_create_keys(state_dir)
    authenticator = Authenticator(keys.secret, keys.workspace_id)
    print(authenticator.mint(args.user, Role[args.role.upper()], args.id, args.ttl))
    return 0


def _ping(args: argparse.Namespace) -> int:
    rtts: list[float] = []

    async def run() -> None:
        async with connect_to(args) as client:
            rtts.extend([await client.ping() for _ in range(args.count)])

    status = run_session("goval ping", run())
    if status:
        return status
    millis = sorted(rtt * 1000 for rtt in rtts)
    for index, rtt in enumerate(rtts, 1):
        print(f"pong {index}: {rtt * 1000:.3f} ms")
    print(
        f"{len(millis)} pings: min {millis[0]:.3f} ms, median {statistics.median(millis):.3f} ms,"
        f" max {millis[-1]:.3f} ms"
    )
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
