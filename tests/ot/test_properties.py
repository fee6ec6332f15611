"""Hypothesis properties of the OT algebra, the diff and the rope."""

from __future__ import annotations

import zlib

from hypothesis import given, settings
from hypothesis import strategies as st

from goval.ot import Op, Text, apply, compose, diff, is_normalized, normalize, transform
from tests.ot.gen import ALPHABET, text_and_op, text_and_two_ops, texts

components = st.one_of(st.integers(0, 5), st.text(alphabet=st.sampled_from(ALPHABET), max_size=3))


@given(st.lists(components, max_size=12))
def test_normalize_is_idempotent_and_yields_normal_form(op: Op) -> None:
    once = normalize(op)
    assert normalize(once) == once
    assert is_normalized(once)


@given(texts, texts)
def test_applying_the_diff_turns_old_into_new(old: str, new: str) -> None:
    op = diff(old, new)
    assert is_normalized(op)
    assert apply(old, op) == new


@given(texts, texts, texts)
def test_diff_of_texts_sharing_a_prefix_and_suffix_leaves_them_alone(
    head: str, middle: str, tail: str
) -> None:
    op = diff(head + "\x00" + tail, head + middle + "\x01" + tail)
    assert apply(head + "\x00" + tail, op) == head + middle + "\x01" + tail
    assert not head or op[0] == len(head)


@given(text_and_two_ops())
def test_transform_converges_for_concurrent_ops(case: tuple[str, Op, Op]) -> None:
    text, a, b = case
    via_a = apply(apply(text, a), transform(b, a, "right"))
    via_b = apply(apply(text, b), transform(a, b, "left"))
    assert via_a == via_b


@given(text_and_two_ops())
def test_transform_results_are_normalised(case: tuple[str, Op, Op]) -> None:
    _, a, b = case
    assert is_normalized(transform(a, b, "left"))
    assert is_normalized(transform(a, b, "right"))


@given(text_and_two_ops())
def test_compose_equals_sequential_apply(case: tuple[str, Op, Op]) -> None:
    text, a, _ = case
    after_a = apply(text, a)
    b = diff(after_a, after_a[::-1])
    assert apply(text, compose(a, b)) == apply(after_a, b)


@settings(max_examples=200)
@given(text_and_op())
def test_rope_apply_matches_str_apply(case: tuple[str, Op]) -> None:
    text, op = case
    result = Text.from_str(text).apply(op)
    assert str(result) == apply(text, op)
    assert result.crc32() == zlib.crc32(apply(text, op).encode())
