"""The ``interp2`` REPL (protocol §4.6): a real Python REPL on a real PTY."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from goval._proto.api_pb2 import Clear, Command, RunMain, State
from goval.services.interp import PROMPT_MARKER, InterpService, PromptScanner
from goval.testing import FakePeer, ServiceHarness
from tests.services.terminal_kit import eventually, peer_output


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[ServiceHarness]:
    h = ServiceHarness(InterpService, tmp_path, tmp_path / ".state")
    yield h
    await h.aclose()


def states(peer: FakePeer) -> list[int]:
    return [c.state for c in peer.received if c.WhichOneof("body") == "state"]


async def at_prompt(peer: FakePeer, prompts: int = 1) -> None:
    await eventually(
        lambda: peer_output(peer).count(">>> ") >= prompts and states(peer)[-1] == State.Stopped
    )


async def test_the_repl_is_running_while_code_executes_and_stopped_at_the_prompt(
    harness: ServiceHarness,
) -> None:
    peer = await harness.attach()
    assert states(peer) == [State.Running]
    await at_prompt(peer)
    before = len(states(peer))

    await harness.request(peer, Command(input="import time; time.sleep(0.3); 6*7\r"))

    assert states(peer)[before:] == [State.Running]
    await at_prompt(peer, 2)
    assert states(peer)[before:] == [State.Running, State.Stopped]
    text = peer_output(peer)
    assert "\r\n42\r\n>>> " in text
    # The prompt marker is private: it never reaches a client.
    assert "7771" not in text and "\x01" not in text


async def test_run_main_runs_the_entrypoint_and_stays_interactive(
    harness: ServiceHarness, tmp_path: Path
) -> None:
    (tmp_path / "main.py").write_text("answer = 41\nprint('main ran')\n")
    peer = await harness.attach()
    await at_prompt(peer)

    reply = await harness.request(peer, Command(runMain=RunMain()))

    assert reply is not None and reply.WhichOneof("body") == "ok"
    await eventually(lambda: "main ran" in peer_output(peer))
    await at_prompt(peer, 2)
    await harness.request(peer, Command(input="answer + 1\r"))
    await eventually(lambda: "\r\n42\r\n" in peer_output(peer))


async def test_a_failing_entrypoint_shows_its_traceback_and_a_hint(
    harness: ServiceHarness, tmp_path: Path
) -> None:
    (tmp_path / ".replit").write_text('entrypoint = "app.py"\n')
    (tmp_path / "app.py").write_text("import nosuch_mod_z\n")
    peer = await harness.attach()
    await harness.request(peer, Command(runMain=RunMain()))
    await eventually(lambda: any(c.WhichOneof("body") == "hint" for c in peer.received))
    hint = next(c.hint.text for c in peer.received if c.WhichOneof("body") == "hint")
    assert hint == "Module nosuch_mod_z is not installed; add it in the Packages pane."
    await at_prompt(peer)
    text = peer_output(peer)
    assert 'File "app.py", line 1' in text and "_goval_main" not in text


async def test_clear_interrupts_running_code(harness: ServiceHarness) -> None:
    peer = await harness.attach()
    await at_prompt(peer)
    await harness.request(peer, Command(input="while True: pass\r\r"))
    await eventually(lambda: states(peer)[-1] == State.Running)
    reply = await harness.request(peer, Command(clear=Clear()))
    assert reply is not None and reply.WhichOneof("body") == "ok"
    await eventually(lambda: "KeyboardInterrupt" in peer_output(peer))
    await eventually(lambda: states(peer)[-1] == State.Stopped)


async def test_exiting_the_repl_starts_a_new_one(harness: ServiceHarness) -> None:
    peer = await harness.attach()
    await at_prompt(peer)
    first = service(harness).terminal.terminal
    await harness.request(peer, Command(input="exit()\r"))
    await eventually(lambda: service(harness).terminal.terminal is not first)
    await eventually(lambda: service(harness).terminal.alive)
    await harness.request(peer, Command(input="1 + 2\r"))
    await eventually(lambda: "\r\n3\r\n" in peer_output(peer))


def test_the_prompt_marker_is_found_and_stripped_even_when_split() -> None:
    scanner = PromptScanner()
    wrapped = "\x01" + PROMPT_MARKER + "\x02>>> "
    out1, seen1 = scanner.feed("result\r\n" + wrapped[:7])
    out2, seen2 = scanner.feed(wrapped[7:])
    assert (out1 + out2, seen1 or seen2) == ("result\r\n>>> ", True)
    assert scanner.feed("no prompt here\x1b[0m") == ("no prompt here\x1b[0m", False)


def service(harness: ServiceHarness) -> InterpService:
    assert isinstance(harness.service, InterpService)
    return harness.service
