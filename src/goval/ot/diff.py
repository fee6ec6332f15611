"""A code-point diff that turns one text into another as a normalised op (protocol.md §5.9).

Used when a linked file changes on disk and for the first link. The common prefix and suffix are
trimmed with C-speed slice comparisons; the rest is diffed line by line with patience anchors
(lines unique on both sides), and runs of lines between anchors are refined with ``difflib`` —
by lines, then by characters — while they are small and a work budget lasts, else replaced
wholesale. Any result is correct (``apply(old, diff(old, new)) == new``); a finer one just keeps
concurrent edits and cursors in place better. Pure; owns no document state.
"""

from __future__ import annotations

import bisect
import difflib

from goval.ot.operation import Delete, Op, normalize

__all__ = ["diff"]

_CHAR_DIFF_LIMIT = 2000  # code points per side for a character-level refinement
_LINE_DIFF_LIMIT = 400  # lines per side for a line-level difflib on an anchorless run
# difflib is quadratic in the worst case; the character refinements of one diff may compare at
# most this many (old x new) code-point pairs in total (~0.1-0.3 s), then runs are replaced whole.
_CHAR_PAIR_BUDGET = 4_000_000
_MAX_DEPTH = 32  # patience recursion depth before a run is treated as anchorless
_PROBE = 4096  # first block size when scanning for the end of the common prefix/suffix


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    step = _PROBE
    while step:
        while i + step <= n and a[i : i + step] == b[i : i + step]:
            i += step
        step //= 2
    return i


def _common_suffix(a: str, b: str, limit: int) -> int:
    """Length of the common suffix, at most ``limit``."""
    la, lb = len(a), len(b)
    i = 0
    step = _PROBE
    while step:
        while i + step <= limit and a[la - i - step : la - i] == b[lb - i - step : lb - i]:
            i += step
        step //= 2
    return i


def _longest_increasing_run(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest subsequence of ``pairs`` (sorted by first) whose seconds increase."""
    tails: list[int] = []  # tails[k]: index of the smallest tail of an increasing run of k + 1
    tail_values: list[int] = []  # the seconds of those tails, for bisect
    back = [-1] * len(pairs)
    for index, (_, j) in enumerate(pairs):
        k = bisect.bisect_left(tail_values, j)
        back[index] = tails[k - 1] if k else -1
        if k == len(tails):
            tails.append(index)
            tail_values.append(j)
        else:
            tails[k] = index
            tail_values[k] = j
    run: list[tuple[int, int]] = []
    index = tails[-1] if tails else -1
    while index >= 0:
        run.append(pairs[index])
        index = back[index]
    run.reverse()
    return run


def _unique_anchors(a: list[str], b: list[str]) -> list[tuple[int, int]]:
    """Patience anchors: lines unique on both sides, in the same order on both."""
    in_a: dict[str, int] = {}
    for i, line in enumerate(a):
        in_a[line] = -1 if line in in_a else i
    in_b: dict[str, int] = {}
    for j, line in enumerate(b):
        if in_a.get(line, -1) >= 0:
            in_b[line] = -1 if line in in_b else j
    pairs = sorted((in_a[line], j) for line, j in in_b.items() if j >= 0)
    return _longest_increasing_run(pairs)


class _Differ:
    """Accumulates the op and the remaining character-refinement budget."""

    def __init__(self) -> None:
        self.out: Op = []
        self.budget = _CHAR_PAIR_BUDGET

    def replace(self, removed: str, added: str) -> None:
        self.out.append(Delete(len(removed)))
        self.out.append(added)

    def chars(self, old: str, new: str) -> None:
        cost = len(old) * len(new)
        if not cost or cost > self.budget or max(len(old), len(new)) > _CHAR_DIFF_LIMIT:
            self.replace(old, new)
            return
        self.budget -= cost
        matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                self.out.append(i2 - i1)
            else:
                self.replace(old[i1:i2], new[j1:j2])

    def run(self, a: list[str], b: list[str]) -> None:
        """A run of lines without anchors: difflib by lines if small, then by characters."""
        if not a or not b or max(len(a), len(b)) > _LINE_DIFF_LIMIT:
            self.chars("".join(a), "".join(b))
            return
        matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                self.out.append(sum(map(len, a[i1:i2])))
            else:
                self.chars("".join(a[i1:i2]), "".join(b[j1:j2]))

    def lines(self, a: list[str], b: list[str], depth: int = 0) -> None:
        """Patience diff of two line lists: ops consuming all of ``a``."""
        if not a or not b:
            if a or b:
                self.replace("".join(a), "".join(b))
            return
        p = 0
        while p < len(a) and p < len(b) and a[p] == b[p]:
            p += 1
        s = 0
        while s < len(a) - p and s < len(b) - p and a[-1 - s] == b[-1 - s]:
            s += 1
        self.out.append(sum(map(len, a[:p])))
        mid_a, mid_b = a[p : len(a) - s], b[p : len(b) - s]
        anchors = _unique_anchors(mid_a, mid_b) if mid_a and mid_b and depth < _MAX_DEPTH else []
        if anchors:
            i0 = j0 = 0
            for i, j in anchors:
                self.lines(mid_a[i0:i], mid_b[j0:j], depth + 1)
                self.out.append(len(mid_a[i]))
                i0, j0 = i + 1, j + 1
            self.lines(mid_a[i0:], mid_b[j0:], depth + 1)
        else:
            self.run(mid_a, mid_b)
        self.out.append(sum(map(len, a[len(a) - s :])))


def diff(old: str, new: str) -> Op:
    """The normalised op turning ``old`` into ``new``."""
    prefix = _common_prefix(old, new)
    suffix = _common_suffix(old, new, min(len(old), len(new)) - prefix)
    old_mid = old[prefix : len(old) - suffix]
    new_mid = new[prefix : len(new) - suffix]
    differ = _Differ()
    differ.out.append(prefix)
    if not old_mid or not new_mid:
        differ.replace(old_mid, new_mid)
    elif max(len(old_mid), len(new_mid)) <= _CHAR_DIFF_LIMIT:
        differ.chars(old_mid, new_mid)
    else:
        differ.lines(old_mid.splitlines(keepends=True), new_mid.splitlines(keepends=True))
    return normalize(differ.out)
