"""UTF-8 decoding and output coalescing (protocol §3.5), without processes."""

from __future__ import annotations

import asyncio
import itertools

from hypothesis import given
from hypothesis import strategies as st

from goval.host.decoder import OutputCoalescer, Utf8Decoder, split_utf8, utf8_length
from goval.host.output import OutputPump
from tests.host.helpers import Collector, eventually


def test_a_character_split_across_reads_is_completed_by_the_next_read() -> None:
    data = "héllo €𝄞".encode()
    decoder = Utf8Decoder()
    pieces = [decoder.decode(data[i : i + 1]) for i in range(len(data))]
    assert "".join(pieces) == "héllo €𝄞"
    assert "\ufffd" not in "".join(pieces)


@given(st.text(), st.lists(st.integers(min_value=0, max_value=40), max_size=10))
def test_any_split_of_valid_utf8_decodes_to_the_original(text: str, cuts: list[int]) -> None:
    data = text.encode("utf-8", "surrogatepass")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        return  # lone surrogates are not valid UTF-8 output
    decoder = Utf8Decoder()
    bounds = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
    out = "".join(decoder.decode(data[a:b]) for a, b in itertools.pairwise(bounds))
    assert out + decoder.finish() == text


def test_invalid_bytes_become_replacement_characters() -> None:
    decoder = Utf8Decoder()
    assert decoder.decode(b"a\xffb\xc3(") == "a\ufffdb\ufffd("


def test_an_incomplete_sequence_at_end_of_stream_becomes_a_replacement_character() -> None:
    decoder = Utf8Decoder()
    assert decoder.decode(b"ok\xe2\x82") == "ok"
    assert decoder.finish() == "\ufffd"


@given(st.text(), st.integers(min_value=4, max_value=64))
def test_split_utf8_respects_the_byte_limit_and_loses_nothing(text: str, limit: int) -> None:
    text = "".join(c for c in text if not 0xD800 <= ord(c) <= 0xDFFF)
    pieces = split_utf8(text, limit)
    assert "".join(pieces) == text
    assert all(0 < utf8_length(p) <= limit for p in pieces)


@given(st.lists(st.text(min_size=1, max_size=300), min_size=1, max_size=50))
def test_no_chunk_exceeds_the_limit_and_the_text_is_kept_in_order(parts: list[str]) -> None:
    parts = ["".join(c for c in p if not 0xD800 <= ord(c) <= 0xDFFF) or "x" for p in parts]
    coalescer = OutputCoalescer(limit=64)
    chunks: list[str] = []
    for i, part in enumerate(parts):
        chunks += coalescer.push(part, now=i * 0.0001)
    chunks.append(coalescer.flush())
    assert "".join(chunks) == "".join(parts)
    assert all(utf8_length(c) <= 64 for c in chunks)


def test_a_burst_of_small_reads_becomes_few_full_chunks() -> None:
    coalescer = OutputCoalescer()  # 64 KiB
    chunks: list[str] = []
    for i in range(1000):  # 1000 reads of 1.5 KB within a millisecond each
        chunks += coalescer.push("x" * 1500, now=i * 0.0005)
    chunks.append(coalescer.flush())
    assert len(chunks) == -(-1_500_000 // 65536)
    assert all(len(c) == 65536 for c in chunks[:-1])


def test_pending_text_is_due_after_the_quiet_period_and_not_before() -> None:
    coalescer = OutputCoalescer(quiet=0.002, max_delay=0.016)
    assert coalescer.push("a", now=10.0) == []
    assert coalescer.poll(10.001) is None
    assert coalescer.push("b", now=10.0015) == []
    assert coalescer.poll(10.003) is None  # the second push restarted the quiet period
    assert coalescer.poll(10.0036) == "ab"
    assert coalescer.deadline() is None


def test_a_steady_trickle_is_released_after_the_maximum_delay() -> None:
    coalescer = OutputCoalescer(quiet=0.002, max_delay=0.016)
    released = None
    now = 0.0
    while released is None:
        coalescer.push(".", now)
        now += 0.001
        released = coalescer.poll(now)
    assert now <= 0.0161
    assert released == "." * 16


async def test_the_pump_sends_the_first_read_after_quiet_at_once_and_coalesces_the_rest() -> None:
    out = Collector()
    pump = OutputPump(out)
    pump.feed(b"$ ")
    assert out.chunks == ["$ "]  # a prompt or an echo after quiet is not held back
    for _ in range(50):
        pump.feed(b"line\r\n")
    assert out.chunks == ["$ "]  # nothing more is sent per read
    await eventually(lambda: len(out.chunks) > 1, timeout=2)
    await asyncio.sleep(0.02)
    assert out.chunks == ["$ ", "line\r\n" * 50]
    await asyncio.sleep(0.05)  # quiet again: the next read goes out at once
    pump.feed(b"x")
    assert out.chunks[-1] == "x"


async def test_the_pump_sends_full_chunks_at_once_and_the_rest_at_close() -> None:
    out = Collector()
    pump = OutputPump(out, limit=1024)
    pump.feed(b"start")
    pump.feed(b"y" * 2500 + "é".encode()[:1])
    assert out.chunks == ["start", "y" * 1024, "y" * 1024]
    pump.close()
    assert out.chunks[3:] == ["y" * 452 + "\ufffd"]
