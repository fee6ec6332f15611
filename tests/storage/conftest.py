"""Fixtures shared by the storage tests."""

from pathlib import Path

import pytest


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An empty workspace root inside the test's temporary directory."""
    root = tmp_path / "ws"
    root.mkdir()
    return root
