"""The rope Text: contents, lengths, CRC and slices stay equal to a plain str under edits."""

from __future__ import annotations

import random
import zlib

import pytest

from goval.errors import OTError
from goval.ot import Delete, Text, apply
from goval.ot.rope import LEAF_MAX
from tests.ot.gen import random_op, random_text


def _assert_same(text: Text, expected: str) -> None:
    assert str(text) == expected
    assert len(text) == len(expected)
    data = expected.encode()
    assert text.utf8_length() == len(data)
    assert text.crc32() == zlib.crc32(data)


@pytest.mark.parametrize("size", [0, 1, LEAF_MAX, LEAF_MAX + 1, 5 * LEAF_MAX + 17])
def test_from_str_keeps_text_length_bytes_and_crc(size: int) -> None:
    source = ("ab😀é\n" * (size // 5 + 1))[:size]
    _assert_same(Text.from_str(source), source)


def test_empty_text_has_crc_zero() -> None:
    assert Text().crc32() == 0 == zlib.crc32(b"")
    assert str(Text.from_str("")) == ""


def test_random_edits_of_every_size_match_str_apply() -> None:
    rng = random.Random(11)
    expected = random_text(rng, 3 * LEAF_MAX)
    text = Text.from_str(expected)
    for i in range(600):
        big = rng.random() < 0.1
        op = random_op(rng, len(expected), max_insert=3 * LEAF_MAX if big else 4)
        if rng.random() < 0.3 and expected:  # a long delete spanning several leaves
            start = rng.randrange(len(expected))
            op = [start, Delete(rng.randint(1, min(2 * LEAF_MAX, len(expected) - start)))]
        expected = apply(expected, op)
        text = text.apply(op)
        assert text.crc32() == zlib.crc32(expected.encode())
        if i % 50 == 0:
            _assert_same(text, expected)
    _assert_same(text, expected)


def test_local_typing_in_one_leaf_keeps_the_crc_exact() -> None:
    expected = "x" * (10 * LEAF_MAX)
    text = Text.from_str(expected)
    pos = 5 * LEAF_MAX + 3
    for ch in "héllo 😀 wörld":
        text = text.apply([pos, ch])
        expected = expected[:pos] + ch + expected[pos:]
        pos += 1
        assert text.crc32() == zlib.crc32(expected.encode())
    text = text.apply([pos - 3, Delete(2)])
    expected = expected[: pos - 3] + expected[pos - 1 :]
    _assert_same(text, expected)


def test_apply_is_persistent_the_old_text_is_unchanged() -> None:
    old = Text.from_str("a" * (3 * LEAF_MAX))
    new = old.apply([10, "new", Delete(5)])
    assert str(old) == "a" * (3 * LEAF_MAX)
    assert str(new) == "a" * 10 + "new" + "a" * (3 * LEAF_MAX - 15)


def test_apply_rejects_an_op_too_long_and_keeps_the_text() -> None:
    text = Text.from_str("abc")
    with pytest.raises(OTError, match=r"^invalid op: too long for the document \(5 > 3\)$"):
        text.apply([1, Delete(4)])
    assert str(text) == "abc"


def test_many_small_edits_in_one_op_match_str_apply() -> None:
    rng = random.Random(3)
    source = random_text(rng, 20_000)
    op = [c for i in range(0, len(source) - 10, 100) for c in (99, "Z", Delete(1))][:-3]
    assert str(Text.from_str(source).apply(op)) == apply(source, op)


def test_slice_matches_str_slicing() -> None:
    rng = random.Random(5)
    source = random_text(rng, 4 * LEAF_MAX)
    text = Text.from_str(source).apply([100, "inserted"])
    source = source[:100] + "inserted" + source[100:]
    for _ in range(200):
        a, b = rng.randrange(len(source) + 5), rng.randrange(len(source) + 5)
        assert text.slice(a, b) == source[a:b]


def test_tree_stays_logarithmic_after_many_edits() -> None:
    rng = random.Random(9)
    text = Text.from_str("q" * (64 * LEAF_MAX))
    for _ in range(400):
        pos = rng.randrange(len(text))
        text = text.apply([pos, "w" * rng.choice([1, LEAF_MAX])])
        if rng.random() < 0.5:
            pos = rng.randrange(len(text))
            text = text.apply([pos, Delete(min(len(text) - pos, rng.choice([1, 3 * LEAF_MAX])))])
    leaves = max(1, len(text) // (LEAF_MAX // 8))
    assert text.height() <= 1.45 * leaves.bit_length() + 2


def test_texts_compare_by_content() -> None:
    assert Text.from_str("abc") == Text.from_str("ab").apply([2, "c"])
    assert Text.from_str("abc") != Text.from_str("abd")
