"""The official client, @replit/crosis, runs commands through ``exec`` (§4.3, Example 4)."""

from __future__ import annotations

from typing import Any

from goval.testing import RunningServer
from tests.interop.crosis_driver import CrosisDriver
from tests.interop.test_crosis import assert_no_unrecoverable, connect


def pushes(driver: CrosisDriver, chan: str) -> list[dict[str, Any]]:
    return [event["cmd"] for event in driver.find("command", chan=chan)]


async def test_crosis_runs_example_4_and_sees_states_output_and_the_exit_status(
    rs: RunningServer, driver: CrosisDriver
) -> None:
    await connect(driver, rs)
    await driver.call("openChannel", client="a", chan="exec", service="exec")
    await driver.event("channel", chan="exec", count=1)

    reply = await driver.call(
        "request", chan="exec", cmd={"exec": {"args": ["sh", "-c", "echo hi; exit 3"]}}
    )

    assert reply["cmd"]["error"] == "exit status 3"
    assert reply["cmd"]["ref"] == reply["sentRef"]
    channel = reply["cmd"]["channel"]
    await driver.event("command", chan="exec", cmd={"channel": channel, "state": "Stopped"})
    # crosis delivers every command on the channel, the reply included, in wire order.
    assert pushes(driver, "exec") == [
        {"channel": channel, "state": "Running"},
        {"channel": channel, "output": "hi\n"},
        {"channel": channel, "session": 2, "error": "exit status 3", "ref": reply["sentRef"]},
        {"channel": channel, "state": "Stopped"},
    ]
    assert_no_unrecoverable(driver)


async def test_crosis_gets_ok_for_a_clean_exit_with_env_and_errors_for_bad_commands(
    rs: RunningServer, driver: CrosisDriver
) -> None:
    await connect(driver, rs)
    await driver.call("openChannel", client="a", chan="exec", service="exec")
    await driver.event("channel", chan="exec", count=1)

    ok = await driver.call(
        "request",
        chan="exec",
        cmd={"exec": {"args": ["sh", "-c", 'echo "$WHO"'], "env": {"WHO": "crosis"}}},
    )
    assert "ok" in ok["cmd"], ok
    missing = await driver.call("request", chan="exec", cmd={"exec": {"args": []}})
    assert missing["cmd"]["error"] == "missing command"
    unknown = await driver.call("request", chan="exec", cmd={"exec": {"args": ["nope-xyz"]}})
    assert unknown["cmd"]["error"] == 'exec: "nope-xyz": executable file not found in $PATH'
    outputs = [cmd["output"] for cmd in pushes(driver, "exec") if "output" in cmd]
    assert outputs == ["crosis\n"]

    closed = await driver.call("closeChannel", chan="exec")
    assert closed["initiator"] == "channel"
    assert_no_unrecoverable(driver)
