from hypothesis import given
from hypothesis import strategies as st

from goval._proto.api_pb2 import BootStatus, Command, ContainerState
from goval.protocol.connection import (
    CloseCode,
    CloseConnection,
    Connection,
    Request,
    Send,
    broadcast_stamp,
)


def frame(**fields: object) -> bytes:
    command = Command(**fields)  # type: ignore[arg-type]
    return command.SerializeToString()


def ping_frame(ref: str = "p1", session: int = 0) -> bytes:
    command = Command(ref=ref, session=session)
    command.ping.SetInParent()
    return command.SerializeToString()


def test_the_handshake_is_boot_stages_then_ready_addressed_to_the_session() -> None:
    connection = Connection(7)
    commands = connection.handshake()
    assert [c.WhichOneof("body") for c in commands] == ["bootStatus"] * 3 + ["containerState"]
    assert [c.bootStatus.stage for c in commands[:3]] == [
        BootStatus.HANDSHAKE,
        BootStatus.ACQUIRING,
        BootStatus.COMPLETE,
    ]
    assert commands[3].containerState.state == ContainerState.READY
    assert {c.session for c in commands} == {7} and {c.channel for c in commands} == {0}
    assert connection.ready


def test_ping_gets_pong_with_the_same_ref() -> None:
    event = Connection(2).receive(ping_frame("1kq7"))
    assert isinstance(event, Send)
    assert event.command.WhichOneof("body") == "pong"
    assert (event.command.ref, event.command.session, event.command.channel) == ("1kq7", 2, 0)


def test_inbound_session_is_overwritten_with_the_senders_id() -> None:
    connection = Connection(4)
    connection.attached(3)
    event = connection.receive(frame(channel=3, session=99, input="x"))
    assert isinstance(event, Request) and event.command.session == 4 and event.body == "input"


def test_a_command_without_body_gets_empty_command_with_its_ref() -> None:
    event = Connection(2).receive(frame(channel=0, ref="r9"))
    assert isinstance(event, Send)
    assert (event.command.error, event.command.ref, event.command.channel) == (
        "empty command",
        "r9",
        0,
    )


def test_a_command_on_a_channel_not_held_is_refused_on_channel_zero() -> None:
    event = Connection(2).receive(frame(channel=5, ref="x", input="hi"))
    assert isinstance(event, Send)
    assert event.command.channel == 0
    assert (event.command.error, event.command.ref) == ("not attached to channel 5", "x")


def test_a_detached_channel_is_no_longer_accepted() -> None:
    connection = Connection(2)
    connection.attached(5)
    connection.detached(5)
    event = connection.receive(frame(channel=5, input="hi"))
    assert isinstance(event, Send) and event.command.error == "not attached to channel 5"


def test_channel_zero_requests_go_to_the_server() -> None:
    command = Command(ref="o1")
    command.openChan.service = "exec"
    event = Connection(2).receive(command.SerializeToString())
    assert isinstance(event, Request) and event.body == "openChan"


def test_an_unsupported_channel_zero_body_is_refused_with_its_name() -> None:
    event = Connection(2).receive(frame(channel=0, ref="q", output="x"))
    assert isinstance(event, Send)
    assert event.command.error == "unsupported command output on channel 0"
    assert event.command.ref == "q"


def test_garbage_gets_an_error_and_the_third_in_a_row_closes_1002() -> None:
    connection = Connection(2)
    first = connection.receive(b"\xff\xff\xff")
    second = connection.receive(b"\xff\xff\xff")
    third = connection.receive(b"\xff\xff\xff")
    for event in (first, second):
        assert isinstance(event, Send)
        assert event.command.error.startswith("invalid command: ")
        assert event.command.ref == "" and event.command.channel == 0
    assert third == CloseConnection(CloseCode.PROTOCOL_ERROR, "too many invalid commands")


def test_a_valid_frame_resets_the_garbage_count() -> None:
    connection = Connection(2)
    connection.receive(b"\xff\xff\xff")
    connection.receive(b"\xff\xff\xff")
    connection.receive(ping_frame())
    assert isinstance(connection.receive(b"\xff\xff\xff"), Send)


def test_oversized_frames_close_1009_and_text_frames_close_1003() -> None:
    connection = Connection(2, max_message=16)
    assert connection.receive(b"\x00" * 17) == CloseConnection(
        CloseCode.MESSAGE_TOO_BIG, "message too big"
    )
    text = connection.receive_text()
    assert text.code == CloseCode.UNSUPPORTED_DATA


def test_broadcast_stamps_are_zero_or_minus_the_originator() -> None:
    assert broadcast_stamp(None) == 0
    assert broadcast_stamp(3) == -3


def test_encode_serialises_a_command() -> None:
    command = Command(channel=1, output="x")
    assert Connection.encode(command) == command.SerializeToString()


@given(st.binary(max_size=100))
def test_any_bytes_yield_exactly_one_well_formed_event(data: bytes) -> None:
    event = Connection(2).receive(data)
    if isinstance(event, Send):
        assert event.command.session == 2 and event.command.channel == 0
    else:
        assert isinstance(event, Request | CloseConnection)
