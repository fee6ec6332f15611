"""The ``exec`` service (protocol §4.3) with real processes, in the harness and on the wire."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from goval._proto.api_pb2 import Command, Running, Stopped
from goval.client import ServerError
from goval.identity import Role
from goval.services.execution import ExecService
from goval.testing import FakePeer, ServiceHarness, running_server
from tests.host.helpers import eventually, gone
from tests.server.kit import raw_socket


def exec_command(*args: str, blocking: bool = False, **env: str) -> Command:
    command = Command()
    command.exec.args.extend(args)
    command.exec.blocking = blocking
    for key, value in env.items():
        command.exec.env[key] = value
    return command


def bodies(peer: FakePeer) -> list[tuple[str, object]]:
    """What a peer received, as (body, value) pairs with outputs joined."""
    out: list[tuple[str, object]] = []
    for command in peer.received:
        body = command.WhichOneof("body")
        assert body is not None
        value = getattr(command, body)
        if body == "output" and out and out[-1][0] == "output":
            out[-1] = ("output", str(out[-1][1]) + value)
        else:
            out.append((body, value))
    return out


def output_of(peer: FakePeer) -> str:
    return "".join(c.output for c in peer.received if c.WhichOneof("body") == "output")


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[ServiceHarness]:
    h = ServiceHarness(ExecService, tmp_path)
    yield h
    await h.aclose()


async def settle() -> None:
    """Let call_soon'd broadcasts (the closing Stopped) run."""
    for _ in range(3):
        await asyncio.sleep(0)


async def test_example_4_states_output_and_exit_status_in_order(harness: ServiceHarness) -> None:
    alice = await harness.attach("alice")
    bob = await harness.attach("bob")

    reply = await harness.request(alice, exec_command("sh", "-c", "echo hi; exit 3"))
    await settle()

    assert reply == Command(error="exit status 3")
    for peer in (alice, bob):
        assert bodies(peer) == [("state", Running), ("output", "hi\n"), ("state", Stopped)]
        assert all(c.ref == "" for c in peer.received)


async def test_a_zero_exit_is_ok_and_the_request_env_is_added(harness: ServiceHarness) -> None:
    alice = await harness.attach()
    reply = await harness.request(
        alice, exec_command("sh", "-c", 'printf "%s" "$GREETING"; pwd', GREETING="hello")
    )
    assert reply is not None and reply.WhichOneof("body") == "ok"
    assert output_of(alice) == f"hello{harness.resources.workspace_root}\n"


async def test_stderr_and_stdout_arrive_merged_in_order(harness: ServiceHarness) -> None:
    alice = await harness.attach()
    await harness.request(alice, exec_command("sh", "-c", "echo a; echo b >&2; echo c"))
    assert output_of(alice) == "a\nb\nc\n"


async def test_empty_args_is_missing_command_and_no_state_is_sent(
    harness: ServiceHarness,
) -> None:
    alice = await harness.attach()
    assert await harness.request(alice, exec_command()) == Command(error="missing command")
    await settle()
    assert alice.received == []


async def test_an_unknown_program_is_a_spawn_error_without_states(
    harness: ServiceHarness,
) -> None:
    alice = await harness.attach()
    reply = await harness.request(alice, exec_command("no-such-program-here"))
    await settle()
    assert reply == Command(
        error='exec: "no-such-program-here": executable file not found in $PATH'
    )
    assert alice.received == []


async def test_a_non_executable_file_reports_the_os_error(harness: ServiceHarness) -> None:
    script = harness.resources.workspace_root / "script.sh"
    script.write_text("echo never\n")
    alice = await harness.attach()
    reply = await harness.request(alice, exec_command(str(script)))
    assert reply == Command(error=f'exec: "{script}": permission denied')


async def test_input_feeds_stdin_of_the_running_command(harness: ServiceHarness) -> None:
    alice = await harness.attach()
    service = harness.service
    pending = asyncio.ensure_future(harness.request(alice, exec_command("head", "-n", "1")))
    await eventually(lambda: ("state", Running) in bodies(alice))
    assert await service.handle(alice, Command(input="typed\n"), "input") is None
    assert await pending == Command(ok=Command().ok)
    assert output_of(alice) == "typed\n"


async def test_input_sent_right_after_exec_reaches_the_process(harness: ServiceHarness) -> None:
    alice = await harness.attach()
    pending = asyncio.ensure_future(harness.request(alice, exec_command("head", "-n", "1")))
    await asyncio.sleep(0)  # accepted, not yet started
    await harness.service.handle(alice, Command(input="early\n"), "input")
    assert await pending == Command(ok=Command().ok)
    assert output_of(alice) == "early\n"


async def test_input_while_idle_is_ignored(harness: ServiceHarness) -> None:
    alice = await harness.attach()
    assert await harness.request(alice, Command(input="nobody listens\n")) is None
    assert alice.received == []


async def test_non_blocking_exec_while_running_is_already_running(
    harness: ServiceHarness,
) -> None:
    alice = await harness.attach()
    first = asyncio.ensure_future(harness.request(alice, exec_command("sleep", "0.3")))
    await eventually(lambda: ("state", Running) in bodies(alice))
    refused = await harness.request(alice, exec_command("echo", "no"))
    assert refused == Command(error="already running")
    assert (await first).WhichOneof("body") == "ok"  # type: ignore[union-attr]


async def test_blocking_execs_queue_fifo_each_with_its_own_states(
    harness: ServiceHarness,
) -> None:
    alice = await harness.attach()
    requests = [
        asyncio.ensure_future(
            harness.request(alice, exec_command("sh", "-c", f"sleep 0.05; echo {n}", blocking=True))
        )
        for n in range(3)
    ]
    await asyncio.sleep(0)
    # Busy while anything runs or waits: a non-blocking exec is refused, not queued.
    assert await harness.request(alice, exec_command("true")) == Command(error="already running")
    replies = await asyncio.gather(*requests)
    await settle()
    assert [r.WhichOneof("body") for r in replies if r is not None] == ["ok", "ok", "ok"]
    assert bodies(alice) == [
        ("state", Running),
        ("output", "0\n"),
        ("state", Stopped),
        ("state", Running),
        ("output", "1\n"),
        ("state", Stopped),
        ("state", Running),
        ("output", "2\n"),
        ("state", Stopped),
    ]


async def test_clear_kills_the_group_and_the_requester_gets_signal_killed(
    harness: ServiceHarness,
) -> None:
    alice = await harness.attach()
    pending = asyncio.ensure_future(
        harness.request(alice, exec_command("sh", "-c", "sleep 30 & echo $!; wait"))
    )
    await eventually(lambda: output_of(alice).strip().isdigit())
    background = int(output_of(alice))
    assert await harness.request(alice, Command(clear=Command().clear)) == Command(ok=Command().ok)
    assert await pending == Command(error="signal: killed")
    await eventually(lambda: gone(background))


async def test_a_lagging_peer_pauses_the_producer_until_it_drains(
    harness: ServiceHarness,
) -> None:
    alice = await harness.attach()
    alice.lagging = True
    pending = asyncio.ensure_future(
        harness.request(alice, exec_command("sh", "-c", "echo first; head -c 300000 /dev/zero"))
    )
    await eventually(lambda: "first" in output_of(alice))
    await asyncio.sleep(0.2)
    received = len(output_of(alice))
    # The child blocks on its full pipe: far less than everything arrived, and it is running.
    assert received < 300000 and not pending.done()
    alice.lagging = False
    await pending
    assert len(output_of(alice)) == len("first\n") + 300000


async def test_destroying_the_channel_kills_the_process_group(tmp_path: Path) -> None:
    harness = ServiceHarness(ExecService, tmp_path)
    alice = await harness.attach()
    pending = asyncio.ensure_future(
        harness.request(alice, exec_command("sh", "-c", "sleep 30 & echo $$ $!; wait"))
    )
    await eventually(lambda: len(output_of(alice).split()) == 2)
    pids = [int(p) for p in output_of(alice).split()]
    await harness.aclose()
    assert all(gone(pid) for pid in pids)
    assert await pending == Command(error="signal: terminated")


async def test_read_role_may_not_open_exec(tmp_path: Path) -> None:
    harness = ServiceHarness(ExecService, tmp_path)
    reader = await harness.attach("rita", Role.READ)
    assert await harness.request(reader, exec_command("true")) == Command(
        error="permission denied: exec"
    )
    await harness.aclose()


# -- on the wire ---------------------------------------------------------------------------------


async def test_example_4_on_the_wire_with_refs_and_session_stamps(tmp_path: Path) -> None:
    async with running_server(tmp_path) as rs, raw_socket(rs.ws_url(rs.token())) as raw:
        opened = await raw.open("exec")
        channel = opened.openChanRes.id
        request = exec_command("sh", "-c", "echo hi; exit 3")
        request.channel = channel
        request.ref = "e1"
        await raw.send(request)
        seen = [await raw.receive() for _ in range(4)]
        assert [(c.channel, c.session, c.ref, c.WhichOneof("body")) for c in seen] == [
            (channel, 0, "", "state"),
            (channel, 0, "", "output"),
            (channel, raw.session_id, "e1", "error"),
            (channel, 0, "", "state"),
        ]
        assert (seen[0].state, seen[1].output, seen[2].error, seen[3].state) == (
            Running,
            "hi\n",
            "exit status 3",
            Stopped,
        )


async def test_no_process_survives_a_session_whose_anonymous_channel_dies(
    tmp_path: Path,
) -> None:
    async with running_server(tmp_path) as rs:
        async with rs.client() as client:
            channel = await client.open("exec")
            request = asyncio.ensure_future(
                channel.request(exec_command("sh", "-c", "sleep 30 & echo $$ $!; wait"))
            )
            text = ""
            while len(text.split()) < 2:
                push = await channel.receive()
                text += push.output
            pids = [int(p) for p in text.split()]
            assert all(not gone(pid) for pid in pids)
        # The socket is gone: the anonymous channel dies and takes the whole group with it.
        await eventually(lambda: all(gone(pid) for pid in pids))
        request.cancel()


async def test_errors_reach_the_client_as_server_errors(tmp_path: Path) -> None:
    async with running_server(tmp_path) as rs, rs.client() as client:
        channel = await client.open("exec")
        with pytest.raises(ServerError) as failed:
            await channel.request(exec_command("false"))
        assert failed.value.text == "exit status 1"
        reply = await channel.request(exec_command("true"))
        assert reply.WhichOneof("body") == "ok"


async def test_configured_rlimits_apply_to_exec_processes(tmp_path: Path) -> None:
    limits: dict[str, Any] = {
        "process_cpu_seconds": 30,
        "process_memory": 2 << 30,
        "process_count": 4096,
        "process_file_size": 1000,
    }
    probe = (
        "import resource as r; print(*(r.getrlimit(k)[0] for k in"
        " (r.RLIMIT_CPU, r.RLIMIT_AS, r.RLIMIT_NPROC, r.RLIMIT_FSIZE)))"
    )
    async with running_server(tmp_path, **limits) as rs, rs.client() as client:
        channel = await client.open("exec")
        await channel.request(exec_command("python3", "-c", probe))
        # The reply follows every output on the wire: all of it is queued by now.
        text = "".join(c.output for c in channel.drain())
        assert text.split() == [str(v) for v in limits.values()]
        with pytest.raises(ServerError) as failed:
            await channel.request(
                exec_command("dd", "if=/dev/zero", "of=big", "bs=5000", "count=1")
            )
        assert failed.value.text == "signal: file size limit exceeded"
        assert (tmp_path / "big").stat().st_size == 1000


async def test_closing_a_named_exec_channel_kills_its_process_group(tmp_path: Path) -> None:
    async with running_server(tmp_path) as rs, rs.client() as client:
        channel = await client.open("exec", "builder")
        request = asyncio.ensure_future(
            channel.request(exec_command("sh", "-c", "sleep 30 & echo $$ $!; wait"))
        )
        text = ""
        while len(text.split()) < 2:
            text += (await channel.receive()).output
        pids = [int(p) for p in text.split()]
        await channel.aclose()  # the last session leaves: the channel is destroyed
        await eventually(lambda: all(gone(pid) for pid in pids))
        request.cancel()
