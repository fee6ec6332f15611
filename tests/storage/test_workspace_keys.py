"""The workspace id and secret: created once, private, stable across restarts."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from goval.storage import load_or_create_keys
from goval.storage.workspace_keys import KEYS_FILE


def test_keys_are_created_private_and_stable_across_restarts(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = load_or_create_keys(state)
    path = state / KEYS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.secret) == 32
    assert load_or_create_keys(state) == first
    assert first.secret.hex() not in repr(first)
    assert [p.name for p in state.iterdir()] == [KEYS_FILE]


def test_two_workspaces_get_different_keys(tmp_path: Path) -> None:
    a, b = load_or_create_keys(tmp_path / "a"), load_or_create_keys(tmp_path / "b")
    assert a.workspace_id != b.workspace_id
    assert a.secret != b.secret


def test_a_loosened_keys_file_is_made_private_again(tmp_path: Path) -> None:
    keys = load_or_create_keys(tmp_path)
    (tmp_path / KEYS_FILE).chmod(0o644)
    assert load_or_create_keys(tmp_path) == keys
    assert stat.S_IMODE((tmp_path / KEYS_FILE).stat().st_mode) == 0o600


def test_a_corrupt_keys_file_is_reported_not_replaced(tmp_path: Path) -> None:
    (tmp_path / KEYS_FILE).write_text("{not json")
    with pytest.raises(ValueError, match="not a valid goval keys file"):
        load_or_create_keys(tmp_path)
    assert (tmp_path / KEYS_FILE).read_text() == "{not json"
