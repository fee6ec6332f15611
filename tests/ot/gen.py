"""Random texts and ops for the OT tests: seeded-RNG generators and hypothesis strategies."""

from __future__ import annotations

import random

from hypothesis import strategies as st

from goval.ot import Component, Delete, Op, normalize

# Astral characters count one code point (two UTF-16 units in JavaScript, four UTF-8 bytes).
ALPHABET = "ab\n é中😀🎉"


def random_text(rng: random.Random, max_len: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(max_len + 1)))


def random_op(rng: random.Random, length: int, max_insert: int = 4) -> Op:
    """A normalised op valid for a text of ``length`` code points."""
    op: list[Component] = []
    pos = 0
    while rng.random() < 0.75:
        kind = rng.randrange(3)
        if kind == 0 and pos < length:
            n = rng.randint(1, length - pos)
            op.append(n)
            pos += n
        elif kind == 1:
            op.append(random_text(rng, max_insert) or "x")
        elif pos < length:
            n = rng.randint(1, min(length - pos, 3))
            op.append(Delete(n))
            pos += n
    return normalize(op)


def to_json(op: list[Component]) -> list[object]:
    return [{"d": c.n} if isinstance(c, Delete) else c for c in op]


def from_json(op: list[object]) -> Op:
    out: Op = []
    for c in op:
        if isinstance(c, dict):
            out.append(Delete(int(c["d"])))
        else:
            assert isinstance(c, int | str)
            out.append(c)
    return out


texts = st.text(alphabet=st.sampled_from(ALPHABET), max_size=40)


@st.composite
def ops_for(draw: st.DrawFn, length: int) -> Op:
    """Normalised ops valid for a text of ``length`` code points."""
    op: list[Component] = []
    pos = 0
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["skip", "insert", "delete"]))
        if kind == "insert":
            op.append(draw(st.text(alphabet=st.sampled_from(ALPHABET), min_size=1, max_size=5)))
        elif pos < length:
            n = draw(st.integers(1, length - pos))
            op.append(n if kind == "skip" else Delete(n))
            pos += n
    return normalize(op)


@st.composite
def text_and_op(draw: st.DrawFn) -> tuple[str, Op]:
    text = draw(texts)
    return text, draw(ops_for(len(text)))


@st.composite
def text_and_two_ops(draw: st.DrawFn) -> tuple[str, Op, Op]:
    text = draw(texts)
    return text, draw(ops_for(len(text))), draw(ops_for(len(text)))
