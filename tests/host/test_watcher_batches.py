"""The watcher's raw-set classification (``_Batch``), driven with synthetic batches: no timing.

Each batch is what inotify (through ``watchfiles``) could report for the files as they are on
disk when the batch is classified; the known-inode table carries over from batch to batch, as
in the watch thread.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from goval.host.watcher import FileChange, _Batch, _lstat, _Seen

Change = tuple[str, str]  # (op, path)


class Batches:
    """Classifies successive synthetic batches over one workspace and one known table."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.known: dict[str, _Seen] = {}

    def remember(self, *paths: str) -> None:
        for rel in paths:
            seen = _lstat(str(self.root / rel))
            assert seen is not None
            self.known[rel] = seen

    def classify(self, added: Iterable[str] = (), modified: Iterable[str] = ()) -> list[Change]:
        adds, writes = set(added), set(modified)
        now = {rel: _lstat(str(self.root / rel)) for rel in adds | writes}
        batch = _Batch(self.root, self.known, adds, writes, set(), now)
        return [simple(change) for change in batch.changes()]


def simple(change: FileChange) -> Change:
    return change.op, change.path


def test_a_file_whose_creation_inotify_missed_in_a_new_directory_is_a_create(
    tmp_path: Path,
) -> None:
    # The file was created before the new directory was watched and written after: inotify
    # reports only its write, in the same batch as the directory.
    (tmp_path / "later").mkdir()
    (tmp_path / "later" / "new.txt").write_text("n")
    batches = Batches(tmp_path)
    changes = batches.classify(added={"later"}, modified={"later/new.txt"})
    assert changes == [("create", "later"), ("create", "later/new.txt")]


def test_a_file_deeper_in_a_new_tree_reported_as_written_only_is_a_create(
    tmp_path: Path,
) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "c.txt").write_text("c")
    batches = Batches(tmp_path)
    changes = batches.classify(added={"a"}, modified={"a/b/c.txt"})
    assert changes == [("create", "a"), ("create", "a/b"), ("create", "a/b/c.txt")]


def test_a_discovered_file_reported_again_by_inotify_next_batch_is_not_a_modify(
    tmp_path: Path,
) -> None:
    (tmp_path / "later").mkdir()
    (tmp_path / "later" / "new.txt").write_text("n")
    batches = Batches(tmp_path)
    # Batch 1: only the directory; its scan finds the file.
    assert batches.classify(added={"later"}) == [
        ("create", "later"),
        ("create", "later/new.txt"),
    ]
    # Batch 2: inotify's own events for the file, which has not changed since the scan.
    assert batches.classify(added={"later/new.txt"}, modified={"later/new.txt"}) == []
    # It is an ordinary known file from now on.
    (tmp_path / "later" / "new.txt").write_text("changed")
    assert batches.classify(modified={"later/new.txt"}) == [("modify", "later/new.txt")]


def test_a_discovered_file_written_after_the_scan_is_a_modify_next_batch(
    tmp_path: Path,
) -> None:
    (tmp_path / "later").mkdir()
    (tmp_path / "later" / "new.txt").write_text("")
    batches = Batches(tmp_path)
    assert batches.classify(added={"later"}) == [
        ("create", "later"),
        ("create", "later/new.txt"),
    ]
    (tmp_path / "later" / "new.txt").write_text("written after the scan")
    changes = batches.classify(added={"later/new.txt"}, modified={"later/new.txt"})
    assert changes == [("modify", "later/new.txt")]


def test_a_discovered_file_replaced_later_is_a_modify(tmp_path: Path) -> None:
    (tmp_path / "later").mkdir()
    (tmp_path / "later" / "new.txt").write_text("n")
    batches = Batches(tmp_path)
    batches.classify(added={"later"})
    (tmp_path / "later" / "tmp").write_text("n")  # same size: only the inode tells
    os.replace(tmp_path / "later" / "tmp", tmp_path / "later" / "new.txt")
    assert batches.classify(added={"later/new.txt"}) == [("modify", "later/new.txt")]


def test_a_replace_of_a_remembered_file_is_still_a_modify(tmp_path: Path) -> None:
    (tmp_path / "doc.txt").write_text("old")
    batches = Batches(tmp_path)
    batches.remember("doc.txt")
    (tmp_path / "tmp").write_text("new")
    os.replace(tmp_path / "tmp", tmp_path / "doc.txt")
    assert batches.classify(added={"doc.txt"}) == [("modify", "doc.txt")]


def test_an_unknown_written_file_outside_any_new_directory_stays_a_modify(
    tmp_path: Path,
) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "f.txt").write_text("f")
    (tmp_path / "fresh").mkdir()
    batches = Batches(tmp_path)
    changes = batches.classify(added={"fresh"}, modified={"old/f.txt"})
    assert changes == [("create", "fresh"), ("modify", "old/f.txt")]
