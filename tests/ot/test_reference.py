"""Differential tests: our engine against the npm package ot-text-unicode on random cases.

All cases go to Node in one batch (tests/ot/reference.mjs) and come back as JSON lines.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from goval.ot import Component, Delete, apply, compose, normalize, transform, transform_position
from tests.ot.gen import from_json, random_op, random_text, to_json

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("reference.mjs")
TEXTS = 2000  # x 7 cases each = 14,000 cases


def _raw_op(rng: random.Random) -> list[Component]:
    """A possibly non-normalised op: zero-length pieces, same-kind neighbours, trailing skips."""
    pieces: list[Component] = []
    for _ in range(rng.randrange(8)):
        kind = rng.randrange(3)
        if kind == 0:
            pieces.append(rng.randrange(4))
        elif kind == 1:
            pieces.append(random_text(rng, 3))
        else:
            pieces.append(Delete(rng.randrange(3)))
    return pieces


def _cases(rng: random.Random) -> list[tuple[dict[str, Any], Any]]:
    """(case for Node, our answer) pairs."""
    cases: list[tuple[dict[str, Any], Any]] = []
    for i in range(TEXTS):
        text = "" if i % 10 == 0 else random_text(rng, 30)
        a, b = random_op(rng, len(text)), random_op(rng, len(text))
        after_a = apply(text, a)
        c = random_op(rng, len(after_a))
        raw = _raw_op(rng)
        pos = rng.randrange(len(text) + 2)
        ja, jb = to_json(a), to_json(b)
        cases += [
            ({"fn": "apply", "args": [text, ja]}, after_a),
            ({"fn": "apply", "args": [text, jb]}, apply(text, b)),
            ({"fn": "transform", "args": [ja, jb, "left"]}, to_json(transform(a, b, "left"))),
            ({"fn": "transform", "args": [ja, jb, "right"]}, to_json(transform(a, b, "right"))),
            ({"fn": "normalize", "args": [to_json(raw)]}, to_json(normalize(raw))),
            ({"fn": "transformPosition", "args": [pos, ja]}, transform_position(pos, a)),
            ({"fn": "compose", "args": [ja, to_json(c)]}, to_json(compose(a, c))),
        ]
    return cases


def _run_reference(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: cannot run the ot-text-unicode reference")
    batch = "".join(json.dumps(case) + "\n" for case in cases)
    done = subprocess.run(
        [node, str(SCRIPT)],
        input=batch,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        encoding="utf-8",
        timeout=60,
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_engine_matches_ot_text_unicode_on_random_cases() -> None:
    cases = _cases(random.Random(2020))
    answers = _run_reference([case for case, _ in cases])
    assert len(answers) == len(cases) >= 10_000
    mismatches = [
        (case, ours, theirs)
        for (case, ours), theirs in zip(cases, answers, strict=True)
        if theirs != {"ok": ours}
    ]
    assert mismatches == []


def test_reference_ops_read_back_into_our_representation() -> None:
    assert from_json([1, "a", {"d": 2}]) == [1, "a", Delete(2)]
    assert to_json([1, "😀", Delete(2)]) == [1, "😀", {"d": 2}]
