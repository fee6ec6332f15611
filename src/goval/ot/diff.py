"""A code-point diff that turns one text into another as a normalised op (protocol.md §5.9).

Used when a linked file changes on disk and for the first link. The common prefix and suffix are
trimmed with C-speed slice comparisons; the rest is diffed line by line (``difflib``), and each
replaced run of lines is refined character by character when both sides are small enough for
that to stay cheap. Any result is correct — ``apply(old, diff(old, new)) == new`` — a finer one
just keeps concurrent edits and cursors in place better. Pure; no document state.
"""

from __future__ import annotations

import difflib

from goval.ot.operation import Delete, Op, normalize

__all__ = ["diff"]

# Character-level refinement is quadratic in the worst case: only for replaced blocks whose
# sides are both at most this long (in code points).
_CHAR_DIFF_LIMIT = 2000
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


def _char_ops(old: str, new: str, out: Op) -> None:
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.append(i2 - i1)
            continue
        out.append(Delete(i2 - i1))
        out.append(new[j1:j2])


def _line_ops(old: str, new: str, out: Op) -> None:
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        removed = "".join(old_lines[i1:i2])
        if tag == "equal":
            out.append(len(removed))
            continue
        added = "".join(new_lines[j1:j2])
        if tag == "replace" and max(len(removed), len(added)) <= _CHAR_DIFF_LIMIT:
            _char_ops(removed, added, out)
        else:
            out.append(Delete(len(removed)))
            out.append(added)


def diff(old: str, new: str) -> Op:
    """The normalised op turning ``old`` into ``new``."""
    prefix = _common_prefix(old, new)
    suffix = _common_suffix(old, new, min(len(old), len(new)) - prefix)
    old_mid = old[prefix : len(old) - suffix]
    new_mid = new[prefix : len(new) - suffix]
    out: Op = [prefix]
    if not old_mid or not new_mid:
        out += [Delete(len(old_mid)), new_mid]
    elif max(len(old_mid), len(new_mid)) <= _CHAR_DIFF_LIMIT:
        _char_ops(old_mid, new_mid, out)
    else:
        _line_ops(old_mid, new_mid, out)
    return normalize(out)
