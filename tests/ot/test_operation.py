"""Unit tests for op normal form, apply, transform, compose and positions (protocol.md §5.2–5.3)."""

from __future__ import annotations

import pytest

from goval.errors import OTError
from goval.ot import (
    Component,
    Delete,
    apply,
    base_length,
    compose,
    delete_at,
    insert_at,
    is_normalized,
    normalize,
    transform,
    transform_position,
)


def test_normalize_drops_empty_components_merges_neighbours_and_trailing_skip() -> None:
    op: list[Component] = [0, 2, 3, "", "a", "b", Delete(0), Delete(1), Delete(2), 4, 5]
    assert normalize(op) == [5, "ab", Delete(3)]


def test_normalize_of_only_skips_is_the_empty_op() -> None:
    assert normalize([3, 0, 4]) == []


def test_is_normalized_tells_normal_form_apart() -> None:
    assert is_normalized([1, "a", Delete(2)])
    assert not is_normalized([1, 2, "a"])
    assert not is_normalized(["a", 3])


def test_negative_lengths_are_rejected() -> None:
    with pytest.raises(ValueError):
        Delete(-1)
    with pytest.raises(ValueError):
        normalize([-1, "a"])


def test_apply_skips_inserts_and_deletes_code_points_keeping_the_rest() -> None:
    assert apply("a😀bcd", [1, Delete(1), "X", 1, Delete(1)]) == "aXbd"


def test_apply_counts_an_astral_character_as_one() -> None:
    assert apply("😀😀😀", [2, "é"]) == "😀😀é😀"


def test_apply_rejects_a_skip_beyond_the_text() -> None:
    with pytest.raises(OTError) as caught:
        apply("abc", [4, "x"])
    assert str(caught.value) == "invalid op: too long for the document (4 > 3)"


def test_apply_rejects_a_delete_beyond_the_text_unlike_ot_text_unicode() -> None:
    with pytest.raises(OTError) as caught:
        apply("a😀c", [2, Delete(2)])
    assert str(caught.value) == "invalid op: too long for the document (4 > 3)"


def test_base_length_counts_skips_and_deletes() -> None:
    assert base_length([2, "xyz", Delete(3), 1]) == 6


@pytest.mark.parametrize(
    ("op", "other", "side", "expected"),
    [
        (["Y"], ["X"], "right", [1, "Y"]),
        (["X"], ["Y"], "left", ["X"]),
        ([2, "A"], [2, "B"], "right", [3, "A"]),
        ([1, "A"], [Delete(3)], "right", ["A"]),
        ([1, Delete(3)], [2, "Z"], "right", [1, Delete(1), 1, Delete(2)]),
    ],
)
def test_transform_matches_the_protocol_check_cases(
    op: list[object], other: list[object], side: str, expected: list[object]
) -> None:
    assert transform(op, other, side) == expected  # type: ignore[arg-type]


def test_transform_left_puts_own_insert_first_at_a_tie() -> None:
    assert transform([2, "A"], [2, "B"], "left") == [2, "A"]


def test_transform_drops_deletes_of_text_already_deleted() -> None:
    assert transform([1, Delete(2)], [Delete(3)], "left") == []


def test_transform_keeps_inserts_inside_a_concurrently_deleted_range() -> None:
    assert transform([2, "Q"], [1, Delete(3)], "right") == [1, "Q"]


def test_transform_refuses_an_unknown_side() -> None:
    with pytest.raises(ValueError):
        transform(["a"], ["b"], "middle")  # type: ignore[arg-type]


def test_compose_equals_applying_both_ops_in_turn() -> None:
    text = "hello world"
    a: list[Component] = [5, Delete(1), "_"]
    b: list[Component] = [3, "X", 3, Delete(2), 1, "!"]
    assert apply(text, compose(a, b)) == apply(apply(text, a), b)
    assert compose(a, b) == [3, "X", 2, Delete(1), "_", Delete(2), 1, "!"]


def test_compose_cancels_an_insert_deleted_by_the_next_op() -> None:
    assert compose([2, "abc"], [2, Delete(3)]) == []


@pytest.mark.parametrize(
    ("pos", "op", "expected"),
    [
        (3, [1, "ab"], 5),
        (3, [3, "ab"], 3),  # an insert exactly at the position stays after it
        (3, ["ab"], 5),
        (5, [1, Delete(2)], 3),
        (2, [1, Delete(5)], 1),
        (0, ["x"], 0),
        (4, [4, Delete(3)], 4),
    ],
)
def test_transform_position_follows_ot_text_unicode(
    pos: int, op: list[object], expected: int
) -> None:
    assert transform_position(pos, op) == expected  # type: ignore[arg-type]


def test_insert_at_and_delete_at_build_normalised_ops() -> None:
    assert insert_at(0, "x") == ["x"]
    assert insert_at(3, "") == []
    assert delete_at(2, 1) == [2, Delete(1)]
