import pytest
from hypothesis import given
from hypothesis import strategies as st

from goval._proto.api_pb2 import Command
from goval.protocol.codec import DecodeError, body_of, decode, encode


def test_a_command_round_trips_through_the_codec() -> None:
    command = Command(channel=3, session=2, ref="abc")
    command.openChan.service = "exec"
    assert decode(encode(command)) == command
    assert body_of(decode(encode(command))) == "openChan"


def test_a_command_without_body_has_no_body_name() -> None:
    assert body_of(Command(channel=1)) is None


def test_an_oversized_frame_is_refused_before_parsing() -> None:
    with pytest.raises(DecodeError, match="exceeds the limit of 10"):
        decode(b"\x00" * 11, max_size=10)


def test_garbage_bytes_are_a_decode_error() -> None:
    with pytest.raises(DecodeError):
        decode(b"\xff\xff\xff\xff")


def test_invalid_utf8_in_a_string_field_is_a_decode_error() -> None:
    # field 1000 (ref), wire type 2, length 2, invalid UTF-8 bytes
    frame = b"\xc2\x3e\x02\xff\xfe"
    with pytest.raises(DecodeError):
        decode(frame)


@given(st.integers(-(2**31), 2**31 - 1), st.text(max_size=50), st.text(max_size=200))
def test_any_output_command_round_trips(channel: int, ref: str, output: str) -> None:
    command = Command(channel=channel, ref=ref, output=output)
    assert decode(encode(command)) == command


@given(st.binary(max_size=200))
def test_arbitrary_bytes_either_decode_or_raise_decode_error(data: bytes) -> None:
    try:
        decode(data)
    except DecodeError as exc:
        assert exc.detail
