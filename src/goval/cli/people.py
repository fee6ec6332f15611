"""People and operator subcommands of ``goval``: chat, who, metrics, profile, toast.

``chat`` and ``who`` speak the wire protocol (``chat`` / ``presence`` channels); ``profile``
asks the ``pprof`` channel and writes the gzip'd profile; ``metrics`` and ``toast`` use the
operator HTTP routes (``GET /metrics``, ``POST /toast``) with the token as a bearer token.
Exit codes: 0 success; 1 the server refused or the connection failed; 2 usage errors.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import urllib.parse
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import aiohttp

from goval._proto.api_pb2 import ChatMessage, Command, PprofRequest, User
from goval.cli.common import (
    CONNECTION_FAILURES,
    CommandFailed,
    client_command_adder,
    run_session,
)
from goval.client import Channel, Client, connect
from goval.server.app import token_from_path

__all__ = ["add_people_commands"]

Action = Callable[[argparse.Namespace], Coroutine[Any, Any, None]]


def add_people_commands(commands: Any) -> None:
    """Add chat, who, metrics, profile and toast to ``goval``'s subparsers."""
    add = client_command_adder(commands, _run, token_from_env=True)

    chat = add("chat", _chat, "chat with everyone in the workspace (lines from stdin)")
    chat.add_argument("--channel", default="chat", help="chat channel name")
    add("who", _who, "list the sessions attached to the workspace's presence")
    add("metrics", _metrics, "print the server's metrics (Prometheus text)")
    profile = add("profile", _profile, "profile the server (pprof, gzip'd)")
    profile.add_argument("--seconds", type=int, default=30, help="CPU sampling time")
    profile.add_argument("--kind", choices=["cpu", "heap", "allocs"], default="cpu")
    profile.add_argument("-o", "--output", type=Path, required=True)
    toast = add("toast", _toast, "show a notice to every connected session (owner)")
    toast.add_argument("text")


def _run(args: argparse.Namespace, action: Action) -> int:
    label = f"goval {args.command_name}"
    return run_session(label, action(args), failures=CONNECTION_FAILURES, interrupted=0)


def _endpoint(args: argparse.Namespace) -> tuple[str, str | None]:
    """``(http base URL, token)`` from either URL form."""
    parts = urllib.parse.urlsplit(args.url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    token = args.token
    if token is None and parts.path.startswith("/wsv2/"):
        token = token_from_path(parts.path)
    return f"{scheme}://{parts.netloc}", token


def _client(args: argparse.Namespace) -> Any:
    base, token = _endpoint(args)
    return connect(base, token, reconnect=False)


def _describe(user: User) -> str:
    roles = ",".join(user.roles)
    return f"{user.name} (user {user.id}, {roles}, session {user.session})"


async def _who(args: argparse.Namespace) -> None:
    async with _client(args) as client:
        presence = await client.open("presence", "presence")
        roster = (await presence.receive_until("roster", timeout=10))[-1].roster
        for user in roster.user:
            me = "  (you)" if user.session == client.session_id else ""
            print(f"{user.session:>6}  {user.name:<20} {','.join(user.roles):<6} id {user.id}{me}")


async def _chat(args: argparse.Namespace) -> None:
    async with _client(args) as client:
        presence = await client.open("presence", "presence")
        chat = await client.open("chat", args.channel)
        printers = [
            asyncio.ensure_future(_print_presence(presence)),
            asyncio.ensure_future(_print_chat(chat)),
        ]
        try:
            await _send_lines(client, chat)
        finally:
            for task in printers:
                task.cancel()


async def _send_lines(client: Client, chat: Channel) -> None:
    """Send each stdin line as a chat message until EOF."""
    while True:
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            return
        text = line.rstrip("\n")
        if text:
            await chat.request(Command(chatMessage=ChatMessage(text=text)))


async def _print_presence(presence: Channel) -> None:
    async for command in presence:
        match command.WhichOneof("body"):
            case "roster":
                people = ", ".join(_describe(u) for u in command.roster.user)
                print(f"* here: {people}", flush=True)
            case "join":
                print(f"* {_describe(command.join)} joined", flush=True)
            case "part":
                print(f"* {_describe(command.part)} left", flush=True)


async def _print_chat(chat: Channel) -> None:
    async for command in chat:
        match command.WhichOneof("body"):
            case "chatScrollback":
                for message in command.chatScrollback.scrollback:
                    print(f"<{message.username}> {message.text}", flush=True)
            case "chatMessage":
                print(f"<{command.chatMessage.username}> {command.chatMessage.text}", flush=True)


async def _profile(args: argparse.Namespace) -> None:
    request = PprofRequest(id="cli")
    if args.kind == "cpu":
        request.pprofCpuProfileRequest.seconds = args.seconds
    elif args.kind == "heap":
        request.pprofHeapProfileRequest.SetInParent()
    else:
        request.pprofAllocsProfileRequest.SetInParent()
    async with _client(args) as client:
        pprof = await client.open("pprof")
        if args.kind == "cpu":
            print(f"sampling for {args.seconds} s...", file=sys.stderr, flush=True)
        reply = await pprof.request(Command(pprofRequest=request))
    args.output.write_bytes(reply.pprofResponse.profile)
    print(f"wrote {args.output} ({len(reply.pprofResponse.profile)} bytes)", file=sys.stderr)


async def _http(args: argparse.Namespace, method: str, path: str, **kw: Any) -> str:
    base, token = _endpoint(args)
    headers = {} if not token else {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as session:
        async with session.request(method, base + path, headers=headers, **kw) as response:
            text = await response.text()
            if response.status >= 300:
                raise CommandFailed(f"{response.status} {text.strip()}")
            return text


async def _metrics(args: argparse.Namespace) -> None:
    sys.stdout.write(await _http(args, "GET", "/metrics"))


async def _toast(args: argparse.Namespace) -> None:
    await _http(args, "POST", "/toast", json={"text": args.text})
