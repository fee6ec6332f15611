"""CRC-32 combination: ``crc32(a + b)`` from ``crc32(a)``, ``crc32(b)`` and ``len(b)``.

The document checksum (protocol.md §5.4) is ``zlib.crc32`` of the UTF-8 of the whole text. The
rope in ``text.py`` caches a CRC per node and joins them with :func:`crc32_combine`, so an edit
costs O(log n) combines instead of rehashing megabytes.

The algebra: with the reflected polynomial, ``crc(a + b) = crc(a) * x^(8 len b) + crc(b)`` in
GF(2)[x] mod P (zlib's ``crc32_combine``; the init and final XORs cancel). Multiplying by
``x^(8 len b)`` is linear over GF(2) in the 32 CRC bits, so for each base-256 digit value of the
length we build (lazily, once) a table-driven linear map: four 256-entry lookups apply it. A
combine therefore costs one such map per non-zero base-256 digit of ``len(b)`` — at most three for
lengths below 16 MiB — instead of a bit-serial polynomial multiplication per bit.
"""

from __future__ import annotations

from array import array

__all__ = ["crc32_combine", "crc32_shift"]

_POLY = 0xEDB88320  # CRC-32/IEEE, reflected
_ONE = 0x80000000  # the polynomial "1" in reflected bit order


def _multmodp(a: int, b: int) -> int:
    """Product of two polynomials modulo P, both in reflected bit order (bit-serial)."""
    m = _ONE
    p = 0
    while m:
        if a & m:
            p ^= b
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1
        m >>= 1
    return p


def _x_pow_2n_table() -> list[int]:
    """x^(2^k) mod P for k = 0..31 (x^(2^k) has period dividing 2^32 - 1, so k wraps at 32)."""
    table = [1 << 30]  # x^1
    for _ in range(31):
        table.append(_multmodp(table[-1], table[-1]))
    return table


def _x_inverse_pow_2n_table() -> list[int]:
    """x^(-2^k) mod P for k = 0..63 (x is invertible because P has a constant term)."""
    # Multiplying by x maps b to (b >> 1) ^ (POLY if b & 1); undoing that on "1" gives x^-1.
    inverse = ((_ONE ^ _POLY) << 1) | 1
    table = [inverse]
    for _ in range(63):
        table.append(_multmodp(table[-1], table[-1]))
    return table


_X2N = _x_pow_2n_table()
_XINV2N = _x_inverse_pow_2n_table()


def _x_pow_8n(n: int) -> int:
    """x^(8 n) mod P, n of either sign."""
    table, n = (_X2N, n) if n >= 0 else (_XINV2N, -n)
    p = _ONE
    k = 3  # 8 n = n * 2^3
    while n:
        if n & 1:
            p = _multmodp(table[k & 31] if table is _X2N else table[k], p)
        n >>= 1
        k += 1
    return p


_Map = tuple["array[int]", "array[int]", "array[int]", "array[int]"]


def _linear_map(factor: int) -> _Map:
    """Tables t0..t3 with multiply-by-``factor``(c) = t0[c0] ^ t1[c1] ^ t2[c2] ^ t3[c3] (bytes)."""
    # basis[i] = factor * (the polynomial of CRC bit i); bit 31 is x^0 and each lower bit is one
    # more power of x, so every basis value is the previous one times x.
    basis = [0] * 32
    value = factor
    for bit in range(31, -1, -1):
        basis[bit] = value
        value = (value >> 1) ^ _POLY if value & 1 else value >> 1
    tables = []
    for j in range(4):
        table = [0]
        for bit in range(8):
            b = basis[8 * j + bit]
            table += [entry ^ b for entry in table]
        tables.append(array("I", table))
    return tables[0], tables[1], tables[2], tables[3]


# _MAPS[k][d] multiplies by x^(8 d 256^k), _INVERSE_MAPS[k][d] by x^(-8 d 256^k); entries are
# filled on first use (each costs ~0.1 ms and 4 KiB, at most 2 x 8 x 255 of them).
_MAPS: list[list[_Map | None]] = [[None] * 256 for _ in range(8)]
_INVERSE_MAPS: list[list[_Map | None]] = [[None] * 256 for _ in range(8)]


def _map_for(maps: list[list[_Map | None]], k: int, d: int) -> _Map:
    table = maps[k][d]
    if table is None:
        n = d << (8 * k)
        table = maps[k][d] = _linear_map(_x_pow_8n(n if maps is _MAPS else -n))
    return table


def crc32_shift(crc: int, nbytes: int) -> int:
    """Multiply ``crc`` by x^(8 nbytes) mod P: the part of a combined CRC owed to the prefix.

    A negative ``nbytes`` undoes the shift of ``-nbytes``. ``|nbytes|`` must be below 2^64.
    """
    maps = _MAPS
    if nbytes < 0:
        maps, nbytes = _INVERSE_MAPS, -nbytes
    k = 0
    while nbytes:
        d = nbytes & 255
        if d:
            t0, t1, t2, t3 = maps[k][d] or _map_for(maps, k, d)
            crc = t0[crc & 255] ^ t1[(crc >> 8) & 255] ^ t2[(crc >> 16) & 255] ^ t3[crc >> 24]
        nbytes >>= 8
        k += 1
    return crc


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """``zlib.crc32(a + b)`` from ``crc1 = zlib.crc32(a)``, ``crc2 = zlib.crc32(b)``, len(b)."""
    return crc32_shift(crc1, len2) ^ crc2
