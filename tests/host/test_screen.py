"""The terminal screen and its redraw, fed directly (no process): a redraw fed to a fresh
screen must rebuild the same cells, cursor, modes and scrollback."""

from __future__ import annotations

import random

import pyte
from hypothesis import given, settings
from hypothesis import strategies as st

from goval.host import TerminalScreen
from goval.host.vt import VirtualTerminal


def cells(screen: TerminalScreen) -> list[list[tuple[object, ...]]]:
    vt = screen.vt
    return [[tuple(vt.buffer[y][x]) for x in range(vt.columns)] for y in range(vt.lines)]


def replayed(screen: TerminalScreen) -> TerminalScreen:
    fresh = TerminalScreen(screen.rows, screen.cols)
    fresh.feed(screen.redraw())
    fresh.catch_up()
    return fresh


def assert_same(original: TerminalScreen, copy: TerminalScreen) -> None:
    assert copy.display() == original.display()
    assert cells(copy) == cells(original)
    assert (copy.vt.cursor.x, copy.vt.cursor.y) == (original.vt.cursor.x, original.vt.cursor.y)
    assert copy.vt.cursor.attrs == original.vt.cursor.attrs
    assert copy.vt.mode == original.vt.mode
    assert copy.vt.in_alt == original.vt.in_alt


COLOURFUL = (
    "plain \x1b[1;31mbold red\x1b[0m \x1b[42;30mblack on green\x1b[0m\r\n"
    "\x1b[38;5;208morange256\x1b[0m \x1b[38;2;1;2;3mtruecolor\x1b[0m \x1b[4;7munder rev\x1b[m\r\n"
    "\x1b[94mbright blue\x1b[0m wide: 漢字 end\r\n"
    "\x1b[44m blue background to the end of line\x1b[K\x1b[0m\r\n"
    "\x1b[33myellow pen left on"
)


def test_a_coloured_screen_is_rebuilt_exactly_by_its_redraw() -> None:
    screen = TerminalScreen(10, 60)
    screen.feed(COLOURFUL)
    copy = replayed(screen)
    assert_same(screen, copy)
    assert copy.vt.buffer[0][6].fg == "red" and copy.vt.buffer[0][6].bold
    assert copy.vt.cursor.attrs.fg == "brown"  # pyte's name for SGR 33


def test_the_redraw_is_a_rendering_not_a_replay_of_the_output() -> None:
    screen = TerminalScreen(5, 20)
    screen.feed("first\r\nsecond\x1b[H\x1b[2Jafter clear")
    redraw = screen.redraw()
    assert "first" not in redraw and "second" not in redraw
    assert_same(screen, replayed(screen))


def test_scrollback_is_redrawn_above_the_screen_and_bounded() -> None:
    screen = TerminalScreen(5, 20, scrollback=100)
    screen.feed("".join(f"\x1b[3{i % 8}mline {i}\x1b[0m\r\n" for i in range(300)))
    history = screen.history_text()
    assert len(history) == 100
    assert history[0].rstrip() == "line 196"
    copy = TerminalScreen(5, 20, scrollback=100)
    copy.feed(screen.redraw())
    assert copy.history_text() == history
    assert_same(screen, copy)


def test_erasing_saved_lines_clears_scrollback_but_not_the_screen() -> None:
    screen = TerminalScreen(3, 10)
    screen.feed("a\r\nb\r\nc\r\nd\r\ne")
    assert screen.history_text()
    screen.feed("\x1b[3J")
    assert screen.history_text() == []
    assert [line.rstrip() for line in screen.display()] == ["c", "d", "e"]


def test_the_alternate_screen_is_redrawn_with_the_main_screen_kept_behind_it() -> None:
    screen = TerminalScreen(4, 20)
    screen.feed("main 1\r\nmain 2\r\nmain 3\r\nmain 4\r\nmain 5")
    screen.feed("\x1b[?1049h\x1b[H\x1b[7mALT\x1b[0m\x1b[?1h\x1b[?2004h")
    redraw = screen.redraw()
    assert "main 1" not in redraw  # no scrollback under the alternate screen
    copy = replayed(screen)
    assert_same(screen, copy)
    assert copy.vt.in_alt
    copy.feed("\x1b[?1049l")
    screen.feed("\x1b[?1049l")
    assert [line.rstrip() for line in copy.display()] == ["main 2", "main 3", "main 4", "main 5"]
    assert_same(screen, copy)


def test_leaving_the_alternate_screen_restores_the_main_screen_and_cursor() -> None:
    screen = TerminalScreen(3, 10)
    screen.feed("hello")
    screen.feed("\x1b[?1049h\x1b[2;2Hfull screen app")
    screen.feed("\x1b[?1049l")
    assert [line.rstrip() for line in screen.display()] == ["hello", "", ""]
    assert (screen.vt.cursor.x, screen.vt.cursor.y) == (5, 0)


def test_modes_hidden_cursor_scroll_region_and_pending_wrap_survive_a_redraw() -> None:
    screen = TerminalScreen(6, 10)
    screen.feed("\x1b[2;5r\x1b[?25l\x1b[?1h\x1b[?2004h\x1b[?1000h\x1b[?1006h\x1b[6;1H0123456789")
    copy = replayed(screen)
    assert_same(screen, copy)
    assert copy.vt.margins == screen.vt.margins
    copy.feed("X")
    screen.feed("X")
    assert_same(screen, copy)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["ab", "x" * 33, "\r\n", "\x1b[31m", "\x1b[0m", "é", "\t"])))
def test_any_mix_of_text_and_colours_redraws_to_the_same_screen(pieces: list[str]) -> None:
    screen = TerminalScreen(6, 16)
    screen.feed("".join(pieces))
    assert_same(screen, replayed(screen))


def test_the_fast_ascii_path_draws_the_same_cells_as_pyte() -> None:
    rng = random.Random(4)
    text = "".join(
        rng.choice(["word ", "\r\n", "\x1b[32m", "\x1b[0m", "x" * rng.randint(1, 90), "\t"])
        for _ in range(2000)
    )
    ours = VirtualTerminal(37, 9)
    theirs = pyte.Screen(37, 9)
    pyte.Stream(ours).feed(text)
    pyte.Stream(theirs).feed(text)
    assert ours.display == theirs.display
    assert [dict(ours.buffer[y]) for y in range(9)] == [dict(theirs.buffer[y]) for y in range(9)]
    assert (ours.cursor.x, ours.cursor.y) == (theirs.cursor.x, theirs.cursor.y)


def test_a_backlog_larger_than_the_tail_keeps_the_visible_tail_exact() -> None:
    lines = [f"\x1b[3{i % 8}mrow {i:06d}\x1b[0m\r\n" for i in range(6_000)]
    exact = TerminalScreen(24, 80, scrollback=50, tail_limit=1 << 30)
    compacted = TerminalScreen(24, 80, scrollback=50, tail_limit=16 * 1024)
    for line in lines:
        exact.feed(line)
        compacted.feed(line)
    assert compacted.backlog < 64 * 1024  # compaction bounded the memory
    compacted.feed("\x1b[?2004h\x1b[1mprompt$ ")
    exact.feed("\x1b[?2004h\x1b[1mprompt$ ")
    assert compacted.history_text() == exact.history_text()
    assert_same(exact, compacted)


def test_compaction_keeps_modes_set_in_the_skipped_part() -> None:
    screen = TerminalScreen(5, 40, scrollback=10, tail_limit=4096)
    screen.feed("\x1b[?1h\x1b[?2004h\x1b[?25l\x1b[?25h\x1b[?25l\x1b[44m")
    screen.feed("filler line\r\n" * 5000)
    screen.catch_up()
    assert 1 << 5 in screen.vt.mode
    assert 2004 << 5 in screen.vt.mode
    assert 25 << 5 not in screen.vt.mode
    assert screen.vt.cursor.attrs.bg == "blue"
    assert screen.display()[-2].rstrip() == "filler line"


def test_catch_up_respects_its_budget() -> None:
    screen = TerminalScreen(5, 20)
    screen.feed("x" * 1000)
    assert not screen.catch_up(budget=400)
    assert screen.backlog == 600
    assert screen.catch_up(budget=600)
    assert screen.backlog == 0
