"""The IDE's client-side OT (ide/src/ot/session.ts) converges with a model of the server.

The TypeScript fuzz (ide/test/session-fuzz.ts) runs several clients editing at once, with
random delivery order, against the §5.6 server rule; every client must end on the server's
text, version and nothing pending. Bundled with the IDE's own esbuild and run by Node.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.ide.test_bundle import IDE, node_modules


def test_client_sessions_converge_with_the_server_under_random_interleavings(
    tmp_path: Path,
) -> None:
    node_modules()
    bundle = tmp_path / "session-fuzz.js"
    esbuild = IDE / "node_modules" / ".bin" / "esbuild"
    build = [str(esbuild), "test/session-fuzz.ts", "--bundle", "--platform=node"]
    subprocess.run([*build, f"--outfile={bundle}", "--log-level=warning"], cwd=IDE, check=True)
    result = subprocess.run(
        ["node", str(bundle), "300", "400"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok 300 seeds x 400 steps"
