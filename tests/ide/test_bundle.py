"""The committed IDE bundle is exactly what the sources build.

esbuild's output is deterministic, so rebuilding into a temporary directory and comparing
bytes catches a source change committed without ``make ide`` (which also typechecks them:
a bundle cannot be made from sources with type errors).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from goval.server.ide import STATIC_DIR

IDE = Path(__file__).resolve().parents[2] / "ide"
BUNDLE = ("index.html", "app.js", "app.css")


def node_modules() -> None:
    """``npm ci`` in ide/ when its packages are missing or older than the lock file."""
    marker = IDE / "node_modules" / ".package-lock.json"
    lock = IDE / "package-lock.json"
    if not marker.exists() or marker.stat().st_mtime < lock.stat().st_mtime:
        command = ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"]
        subprocess.run(command, cwd=IDE, check=True, timeout=300)


def test_the_committed_bundle_is_built_from_the_current_sources(tmp_path: Path) -> None:
    node_modules()
    subprocess.run(["node", "build.mjs", str(tmp_path)], cwd=IDE, check=True, timeout=120)
    stale = [
        name
        for name in BUNDLE
        if (tmp_path / name).read_bytes() != (STATIC_DIR / name).read_bytes()
    ]
    assert stale == [], f"stale IDE bundle ({', '.join(stale)}): run `make ide` and commit it"
