"""The ``shellrun2`` console (protocol §4.5) with real processes on a real PTY."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from goval._proto.api_pb2 import Clear, Command, RunMain, State
from goval.services.registry import ServiceRegistry
from goval.services.runner import RunnerService
from goval.testing import FakePeer, ServiceHarness
from tests.services.terminal_kit import bodies, eventually, gone, peer_output

PROMPT_ENV = {"SHELL": "/bin/sh", "PS1": "idle$ "}


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[ServiceHarness]:
    h = ServiceHarness(RunnerService, tmp_path, tmp_path / ".state")
    h.resources.process_defaults.env = dict(PROMPT_ENV)
    yield h
    await h.aclose()


def dotreplit(tmp_path: Path, text: str) -> None:
    (tmp_path / ".replit").write_text(text)


def states(peer: FakePeer) -> list[int]:
    return [c.state for c in peer.received if c.WhichOneof("body") == "state"]


async def idle(peer: FakePeer, count: int = 1) -> None:
    await eventually(lambda: peer_output(peer).count("idle$ ") >= count)


def run_main() -> Command:
    return Command(runMain=RunMain())


async def test_run_main_runs_the_command_then_returns_to_a_prompt(
    harness: ServiceHarness, tmp_path: Path
) -> None:
    dotreplit(tmp_path, 'run = "echo ran-$((40+2)); exit 3"\n')
    peer = await harness.attach()
    assert states(peer) == [State.Stopped]
    await idle(peer)
    before = len(peer.received)

    reply = await harness.request(peer, run_main())

    assert reply is not None and reply.WhichOneof("body") == "ok"
    sent = peer.received[before:]
    assert sent[0].output == "\x1b[H\x1b[2J\x1b[3J"
    info = next(c.execInfo for c in sent if c.WhichOneof("body") == "execInfo")
    assert list(info.command) == ["sh", "-c", "echo ran-$((40+2)); exit 3"]
    assert info.reason == "run"
    order = bodies(sent)
    assert order.index("execInfo") < order.index("state")
    await eventually(lambda: states(peer) == [State.Stopped, State.Running, State.Stopped])
    text = peer_output(peer)
    assert "ran-42" in text and "exit status 3" in text
    assert text.index("ran-42") < text.index("exit status 3")
    await idle(peer, 2)


async def test_run_main_while_running_is_already_running(
    harness: ServiceHarness, tmp_path: Path
) -> None:
    dotreplit(tmp_path, 'run = ["sleep", "30"]\n')
    peer = await harness.attach()
    assert (await harness.request(peer, run_main())).WhichOneof("body") == "ok"  # type: ignore[union-attr]
    reply = await harness.request(peer, run_main())
    assert reply is not None and reply.error == "already running"


async def test_clear_stops_a_run_and_ends_its_whole_process_group(
    harness: ServiceHarness, tmp_path: Path
) -> None:
    dotreplit(tmp_path, "run = \"sleep 300 & echo child=$!; trap '' INT; sleep 300\"\n")
    peer = await harness.attach()
    await harness.request(peer, run_main())
    await eventually(lambda: re.search(r"child=(\d+)", peer_output(peer)) is not None)
    child = int(re.search(r"child=(\d+)", peer_output(peer)).group(1))  # type: ignore[union-attr]
    loop = asyncio.get_running_loop()
    started = loop.time()

    reply = await harness.request(peer, Command(clear=Clear()))

    # SIGINT is ignored here, so SIGTERM (after 1 s) ends it.
    assert reply is not None and reply.WhichOneof("body") == "ok"
    assert 0.9 < loop.time() - started < 3.0
    await eventually(lambda: gone(child), timeout=5)
    await eventually(lambda: states(peer)[-1] == State.Stopped)
    await idle(peer)


async def test_clear_when_idle_clears_screen_and_scrollback(harness: ServiceHarness) -> None:
    peer = await harness.attach()
    other = await harness.attach("bob", user_id=2)
    await idle(peer)
    before = len(other.received)
    reply = await harness.request(peer, Command(clear=Clear()))
    assert reply is not None and reply.WhichOneof("body") == "ok"
    assert other.received[before].output == "\x1b[H\x1b[2J\x1b[3J"
    assert not any(line.strip() for line in service(harness).terminal.screen.display())


@pytest.mark.parametrize(
    ("config", "argv"),
    [
        ('entrypoint = "app.py"\n', ["python", "app.py"]),
        ('entrypoint = "index.js"\n', ["node", "index.js"]),
        ('language = "python"\n', ["python", "main.py"]),
    ],
)
async def test_the_run_command_is_inferred_from_entrypoint_or_language(
    harness: ServiceHarness, tmp_path: Path, config: str, argv: list[str]
) -> None:
    dotreplit(tmp_path, config)
    peer = await harness.attach()
    await harness.request(peer, run_main())
    info = next(c.execInfo for c in peer.received if c.WhichOneof("body") == "execInfo")
    assert list(info.command) == argv


async def test_a_missing_or_invalid_run_command_is_reported(
    harness: ServiceHarness, tmp_path: Path
) -> None:
    peer = await harness.attach()
    reply = await harness.request(peer, run_main())
    assert reply is not None and reply.error == "no run command configured"
    dotreplit(tmp_path, "run = [1, 2]\n")
    reply = await harness.request(peer, run_main())
    assert reply is not None and reply.error.startswith("invalid .replit: ")
    assert states(peer) == [State.Stopped]


async def test_hints_from_dotreplit_and_built_ins_fire_once_per_run(
    harness: ServiceHarness, tmp_path: Path
) -> None:
    dotreplit(
        tmp_path,
        "run = \"echo kaboom disk; echo kaboom disk; python3 -c 'import nosuch_mod_q'\"\n"
        '[[hints]]\nregex = "kaboom (\\\\w+)"\ntext = "Check the $1."\n',
    )
    peer = await harness.attach()
    for _ in range(2):
        await harness.request(peer, run_main())
        await eventually(lambda: states(peer)[-1] == State.Stopped and len(states(peer)) > 1)
        await asyncio.sleep(0.05)
    hints = [c.hint.text for c in peer.received if c.WhichOneof("body") == "hint"]
    once = ["Check the disk.", "Module nosuch_mod_q is not installed; add it in the Packages pane."]
    assert hints == once + once


async def test_a_late_attacher_gets_the_state_then_the_screen(
    harness: ServiceHarness, tmp_path: Path
) -> None:
    dotreplit(tmp_path, 'run = "echo still-$((1+1)); sleep 30"\n')
    peer = await harness.attach()
    await harness.request(peer, run_main())
    await eventually(lambda: "still-2" in peer_output(peer))
    late = await harness.attach("late", user_id=2)
    assert bodies(late.received)[:2] == ["state", "output"]
    assert late.received[0].state == State.Running
    assert "still-2" in late.received[1].output


async def test_runs_see_dotreplit_env_and_pid1_config_env(
    harness: ServiceHarness, tmp_path: Path
) -> None:
    dotreplit(tmp_path, 'run = "echo [$GREETING] [$EXTRA]"\n[env]\nGREETING = "hi-${EXTRA}"\n')
    harness.resources.process_defaults.env["EXTRA"] = "pid1"
    peer = await harness.attach()
    await harness.request(peer, run_main())
    await eventually(lambda: "[hi-] [pid1]" in peer_output(peer))


def test_run_is_an_alias_of_shellrun2() -> None:
    assert ServiceRegistry().lookup("run") is RunnerService
    assert ServiceRegistry().lookup("shellrun2") is RunnerService


def service(harness: ServiceHarness) -> RunnerService:
    assert isinstance(harness.service, RunnerService)
    return harness.service
