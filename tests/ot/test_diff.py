"""diff: correctness on structured texts, granularity, and speed on 1 MB."""

from __future__ import annotations

import random
import time

from goval.ot import Delete, apply, diff


def test_identical_texts_give_the_empty_op() -> None:
    assert diff("same", "same") == []


def test_a_single_insert_is_found_exactly() -> None:
    assert diff("hello world", "hello brave world") == [6, "brave "]


def test_a_change_inside_one_line_of_many_is_diffed_by_characters() -> None:
    old = "".join(f"line {i}\n" for i in range(3000))
    new = old.replace("line 1500\n", "line 15X0\n")
    op = diff(old, new)
    assert apply(old, op) == new
    assert op == [old.index("line 1500") + 7, Delete(1), "X"]


def test_scattered_line_changes_are_diffed_line_by_line() -> None:
    old_lines = [f"def f{i}(x):\n    return x + {i}\n" for i in range(2000)]
    new_lines = list(old_lines)
    new_lines[10] = "def g10(x):\n    return x + 10\n"
    new_lines[1500] = "def f1500(x):\n    return 0\n"
    old, new = "".join(old_lines), "".join(new_lines)
    op = diff(old, new)
    assert apply(old, op) == new
    assert sum(len(c) for c in op if isinstance(c, str)) < 20


def test_diff_of_1_mb_texts_with_scattered_edits_is_fast() -> None:
    rng = random.Random(1)
    lines = [f"{rng.random()} 😀 é\n" for _ in range(40_000)]
    old = "".join(lines)
    for _ in range(100):
        lines[rng.randrange(len(lines))] = f"changed {rng.random()}\n"
    new = "".join(lines)
    started = time.perf_counter()
    op = diff(old, new)
    elapsed = time.perf_counter() - started
    assert apply(old, op) == new
    assert elapsed < 5.0  # typically ~0.3 s here; generous for a shared machine
