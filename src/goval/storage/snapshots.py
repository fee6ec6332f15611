"""Workspace snapshots as commits in a private git store (protocol §4.8).

Owns the bare repository in the state directory. Every git call gets
``--git-dir=<store> --work-tree=<workspace>`` explicitly and a scrubbed environment (no inherited
``GIT_*`` variables, no global or system config), so the user's own ``.git``, hooks, signing
settings and ``init.defaultBranch`` never take part. What is snapshotted: the workspace minus its
``.gitignore``d paths, ``.git``, ``.venv/``, ``node_modules/`` and the state directory (written to
the store's ``info/exclude``). Nested git repositories are recorded as git does it: as a gitlink
(their commit id), not their files.

Commits are built with plumbing (``write-tree``/``commit-tree``/``update-ref``) so "nothing
changed" is an exact tree comparison. Calls are serialised by a lock: git's index is one file.
"""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from goval.errors import GovalError

__all__ = ["Snapshot", "SnapshotStore"]

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
ALWAYS_EXCLUDED = (".git", ".venv/", "node_modules/")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One snapshot: commit id, commit time (Unix seconds) and message."""

    rev: str
    time: int
    message: str


class SnapshotStore:
    """A git store of one workspace's snapshots.

    Args:
        store: directory of the bare repository (created on first use).
        workspace: the workspace root.
        state_dir: the state directory, excluded if it lies inside the workspace.
    """

    def __init__(self, store: Path, workspace: Path, state_dir: Path | None = None) -> None:
        self.store = Path(store)
        self.workspace = Path(workspace)
        self._lock = threading.Lock()
        self._env = _git_env()
        if not (self.store / "HEAD").exists():
            self.store.mkdir(parents=True, exist_ok=True)
            self._git("init", "--quiet", "--bare", str(self.store), bare=True)
            for key, value in (
                ("user.name", "goval"),
                ("user.email", "goval@localhost"),
                ("core.autocrlf", "false"),
                ("commit.gpgsign", "false"),
                ("gc.autoDetach", "false"),
            ):
                self._git("config", key, value)
        self._write_excludes(state_dir)

    def _write_excludes(self, state_dir: Path | None) -> None:
        patterns = list(ALWAYS_EXCLUDED)
        for inner in (state_dir, self.store):
            if inner is None:
                continue
            rel = os.path.relpath(os.path.realpath(inner), os.path.realpath(self.workspace))
            if rel != "." and not rel.startswith(".."):
                patterns.append(f"/{rel}/")
        info = self.store / "info"
        info.mkdir(exist_ok=True)
        (info / "exclude").write_text("\n".join(patterns) + "\n", encoding="utf-8")

    def snapshot(self, message: str) -> str | None:
        """Commit the workspace if anything changed; returns the commit id or None."""
        with self._lock:
            self._stage()
            tree = self._git("write-tree").strip()
            head = self._head()
            if head is None and tree == EMPTY_TREE:
                return None
            if head is not None and self._git("rev-parse", f"{head}^{{tree}}").strip() == tree:
                return None
            parents = ["-p", head] if head else []
            commit = self._git("commit-tree", tree, *parents, "-F", "-", stdin=message).strip()
            self._git("update-ref", "HEAD", commit)
            return commit

    def changed_files(self) -> list[str]:
        """Paths added, modified or deleted since the last snapshot, sorted."""
        with self._lock:
            self._stage()
            if self._head() is None:
                out = self._git("ls-files", "-z")
            else:
                out = self._git("diff", "--cached", "--name-only", "--no-renames", "-z", "HEAD")
        return sorted(p for p in out.split("\0") if p)

    def list(self) -> list[Snapshot]:
        """Every snapshot, newest first."""
        with self._lock:
            if self._head() is None:
                return []
            out = self._git("log", "-z", "--format=%H%x1f%ct%x1f%B", "HEAD")
        snapshots = []
        for record in filter(None, out.split("\0")):
            rev, when, message = record.split("\x1f", 2)
            snapshots.append(Snapshot(rev, int(when), message.rstrip("\n")))
        return snapshots

    def restore(self, rev: str) -> None:
        """Set the workspace's files to snapshot ``rev``.

        Files that differ are rewritten, files added since are removed, ignored paths are left
        alone. The snapshot history is unchanged (take a new snapshot to record the result).

        Raises:
            GovalError: ``unknown snapshot <rev>``.
        """
        with self._lock:
            commit = self._resolve(rev)
            self._stage()  # so files created since the snapshot are known, hence removable
            self._git("read-tree", "-u", "--reset", commit)

    def _resolve(self, rev: str) -> str:
        if rev.startswith("-"):
            raise GovalError(f"unknown snapshot {rev}")
        out = self._git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
        if not out.strip():
            raise GovalError(f"unknown snapshot {rev}")
        return out.strip()

    def _stage(self) -> None:
        # --ignore-errors: one unreadable file must not block every snapshot.
        self._git("add", "--all", "--ignore-errors", "--", ".", check=False)

    def _head(self) -> str | None:
        out = self._git("rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False)
        return out.strip() or None

    def _git(
        self, *args: str, stdin: str | None = None, check: bool = True, bare: bool = False
    ) -> str:
        where = [] if bare else [f"--git-dir={self.store}", f"--work-tree={self.workspace}"]
        proc = subprocess.run(
            ["git", *where, *args],
            cwd=self.workspace,
            env=self._env,
            input=stdin.encode() if stdin is not None else None,
            capture_output=True,
            check=False,
        )
        if check and proc.returncode != 0:
            detail = proc.stderr.decode(errors="replace").strip()
            raise RuntimeError(f"git {args[0]} failed ({proc.returncode}): {detail}")
        return proc.stdout.decode("utf-8", "surrogateescape")


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_TERMINAL_PROMPT="0",
        GIT_OPTIONAL_LOCKS="0",
        LC_ALL="C",
    )
    return env
