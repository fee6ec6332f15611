"""crc32_combine and crc32_shift against zlib."""

from __future__ import annotations

import os
import random
import zlib

from goval.ot.crc import crc32_combine, crc32_shift


def test_combine_equals_zlib_crc_of_the_concatenation_on_random_data() -> None:
    rng = random.Random(7)
    for _ in range(500):
        a = os.urandom(rng.randrange(0, 2000))
        b = os.urandom(rng.choice([0, 1, 3, rng.randrange(0, 100_000)]))
        assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def test_combine_handles_lengths_with_high_base_256_digits() -> None:
    a, b = b"head", b"\x00" * (1 << 24) + b"tail"
    assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def test_combine_with_an_empty_tail_is_the_head_crc() -> None:
    assert crc32_combine(zlib.crc32(b"abc"), 0, 0) == zlib.crc32(b"abc")


def test_a_negative_shift_undoes_the_positive_one() -> None:
    rng = random.Random(8)
    for _ in range(200):
        crc = rng.getrandbits(32)
        n = rng.choice([1, 255, 256, 70_000, rng.getrandbits(40)])
        assert crc32_shift(crc32_shift(crc, n), -n) == crc
        assert crc32_shift(crc32_shift(crc, -n), n) == crc
