"""The ``eval`` service (protocol §4.6): a real persistent Python interpreter per channel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from goval._proto.api_pb2 import Command, Running, Stopped
from goval.services.eval import EvalService
from goval.testing import FakePeer, ServiceHarness, running_server
from tests.host.helpers import eventually, gone


def body_names(peer: FakePeer) -> list[str]:
    return [str(command.WhichOneof("body")) for command in peer.received]


def output_of(peer: FakePeer) -> str:
    return "".join(c.output for c in peer.received if c.WhichOneof("body") == "output")


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[ServiceHarness]:
    h = ServiceHarness(EvalService, tmp_path)
    yield h
    await h.aclose()


async def evaluate(harness: ServiceHarness, peer: FakePeer, code: str) -> Command:
    reply = await harness.request(peer, Command(eval=code))
    assert reply is not None
    return reply


async def test_the_greeting_is_the_state(harness: ServiceHarness) -> None:
    alice = await harness.attach()
    assert alice.received == [Command(channel=1, session=alice.session_id, state=Stopped)]


async def test_an_expression_gives_its_repr_after_running_output_and_before_stopped(
    harness: ServiceHarness,
) -> None:
    alice = await harness.attach()
    bob = await harness.attach("bob")
    alice.received.clear()
    bob.received.clear()

    reply = await evaluate(harness, alice, "print('hi')\n'a' + 'b'")
    await settle()

    assert reply == Command(result="'ab'")
    for peer in (alice, bob):
        assert peer.received[0].state == Running
        assert body_names(peer) == ["state", "output", "state"]
        assert output_of(peer) == "hi\n"
        assert peer.received[-1].state == Stopped


async def test_statements_give_an_empty_result_and_definitions_persist(
    harness: ServiceHarness,
) -> None:
    alice = await harness.attach()
    assert await evaluate(harness, alice, "x = 20\ndef double(n):\n    return 2 * n") == Command(
        result=""
    )
    assert await evaluate(harness, alice, "double(x) + 2") == Command(result="42")
    assert await evaluate(harness, alice, "import sys; __name__") == Command(result="'__main__'")


async def test_an_error_is_a_traceback_of_the_users_frames_only(harness: ServiceHarness) -> None:
    alice = await harness.attach()
    await evaluate(harness, alice, "def broken():\n    return 1 / 0")
    reply = await evaluate(harness, alice, "broken()")
    assert reply.WhichOneof("body") == "error"
    text = reply.error
    assert text.startswith("Traceback (most recent call last):\n")
    assert text.endswith("ZeroDivisionError: division by zero\n")
    assert "return 1 / 0" in text  # the source of an earlier eval is shown
    assert "eval_driver" not in text and "goval" not in text


async def test_a_syntax_error_is_reported_and_the_interpreter_lives_on(
    harness: ServiceHarness,
) -> None:
    alice = await harness.attach()
    reply = await evaluate(harness, alice, "def (:")
    assert reply.WhichOneof("body") == "error"
    assert "SyntaxError" in reply.error and "eval_driver" not in reply.error
    assert await evaluate(harness, alice, "1 + 1") == Command(result="2")


async def test_input_feeds_the_programs_stdin(harness: ServiceHarness) -> None:
    alice = await harness.attach()
    pending = asyncio.ensure_future(evaluate(harness, alice, "input('name? ').upper()"))
    await eventually(lambda: "name? " in output_of(alice))
    await harness.request(alice, Command(input="ada\n"))
    assert await pending == Command(result="'ADA'")


async def test_clear_interrupts_a_runaway_eval_with_keyboard_interrupt(
    harness: ServiceHarness,
) -> None:
    alice = await harness.attach()
    await evaluate(harness, alice, "kept = 'still here'")
    pending = asyncio.ensure_future(
        evaluate(
            harness,
            alice,
            "import time\nprint('looping', flush=True)\nwhile True: time.sleep(0.01)",
        )
    )
    await eventually(lambda: "looping" in output_of(alice))
    assert await harness.request(alice, Command(clear=Command().clear)) == Command(ok=Command().ok)
    reply = await asyncio.wait_for(pending, 5)
    assert reply.WhichOneof("body") == "error"
    assert reply.error.rstrip().endswith("KeyboardInterrupt")
    assert "eval_driver" not in reply.error
    assert await evaluate(harness, alice, "kept") == Command(result="'still here'")


async def test_evals_run_fifo(harness: ServiceHarness) -> None:
    alice = await harness.attach()
    pending = [
        asyncio.ensure_future(evaluate(harness, alice, f"import time; time.sleep(0.02); {n}"))
        for n in range(3)
    ]
    assert [reply.result for reply in await asyncio.gather(*pending)] == ["0", "1", "2"]
    await settle()
    states = [c.state for c in alice.received if c.WhichOneof("body") == "state"][1:]
    assert states == [Running, Stopped] * 3


async def test_an_interpreter_that_exits_reports_how_and_the_next_eval_gets_a_new_one(
    harness: ServiceHarness,
) -> None:
    alice = await harness.attach()
    await evaluate(harness, alice, "lost = 1")
    assert await evaluate(harness, alice, "import os; os._exit(3)") == Command(
        error="exit status 3"
    )
    reply = await evaluate(harness, alice, "lost")
    assert "NameError" in reply.error


async def test_hints_from_dotreplit_and_builtins_are_sent_once_per_eval(
    harness: ServiceHarness,
) -> None:
    root = harness.resources.workspace_root
    (root / ".replit").write_text('[[hints]]\nregex = "tea (\\\\w+)"\ntext = "have $1"\n')
    alice = await harness.attach()
    await evaluate(harness, alice, "print('tea time'); print('tea again'); import nopackage_xyz")
    hints = [c.hint.text for c in alice.received if c.WhichOneof("body") == "hint"]
    assert hints == [
        "have time",
        "Module nopackage_xyz is not installed; add it in the Packages pane.",
    ]


async def test_the_workspace_is_the_cwd_and_importable(harness: ServiceHarness) -> None:
    root = harness.resources.workspace_root
    (root / "helper.py").write_text("ANSWER = 42\n")
    alice = await harness.attach()
    assert await evaluate(harness, alice, "import helper; helper.ANSWER") == Command(result="42")
    assert await evaluate(harness, alice, "import os; os.getcwd()") == Command(
        result=repr(str(root.resolve()))
    )
    # The driver's directory is not on sys.path: `import socket` is the standard library's.
    assert await evaluate(harness, alice, "import socket; socket.AF_INET.name") == Command(
        result="'AF_INET'"
    )


async def test_destroying_the_channel_kills_the_interpreter(tmp_path: Path) -> None:
    harness = ServiceHarness(EvalService, tmp_path)
    alice = await harness.attach()
    reply = await evaluate(harness, alice, "import os; os.getpid()")
    pid = int(reply.result)
    await harness.aclose()
    assert gone(pid)


async def test_eval_on_the_wire_with_the_official_order(tmp_path: Path) -> None:
    async with running_server(tmp_path) as rs, rs.client() as client:
        channel = await client.open("eval")
        assert (await channel.receive()).state == Stopped
        reply = await channel.request(Command(eval="print(6 * 7)\n[1, 2]"))
        assert reply.result == "[1, 2]"
        pushes = await channel.receive_until("state")  # Running
        pushes += await channel.receive_until("state")  # output, then Stopped
        assert [p.WhichOneof("body") for p in pushes] == ["state", "output", "state"]
        assert (pushes[0].state, pushes[1].output, pushes[2].state) == (Running, "42\n", Stopped)
