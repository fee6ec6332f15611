"""``goval ls|cat|put|get|rm|mv|mkdir|snapshot`` against a real ``goval serve``.

One server subprocess serves the module; most commands run in-process through ``main()`` (the
same code path as the console script, minus a second interpreter start-up per command), and a
few run as real subprocesses to pin the process exit codes.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from goval.cli.main import main

GOVAL = [sys.executable, "-m", "goval.cli.main"]
Result = tuple[int, bytes, bytes]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    workspace = tmp_path_factory.mktemp("ws")
    process = subprocess.Popen(
        [*GOVAL, "serve", str(workspace), "--port", "0", "--no-auth"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = next(line for line in process.stdout if "websocket:" in line).split()[-1]
        yield workspace, url
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def served(server: tuple[Path, str], request: pytest.FixtureRequest) -> tuple[Path, str]:
    """The shared server, with a fresh directory (named after the test) to work in."""
    workspace, url = server
    (workspace / request.node.name).mkdir()
    return workspace / request.node.name, url


Cli = Callable[..., Result]


@pytest.fixture
def cli(capfdbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch) -> Cli:
    def run(*args: str, stdin: bytes | None = None) -> Result:
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        try:
            code = main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
        out, err = capfdbinary.readouterr()
        return code, out, err

    return run


def goval(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*GOVAL, *args], capture_output=True, timeout=60)


def test_mkdir_put_ls_cat_mv_rm_round_trip(
    served: tuple[Path, str], cli: Cli, tmp_path: Path
) -> None:
    here, url = served
    d = here.name
    assert cli("mkdir", url, f"{d}/src/pkg", f"{d}/docs")[0] == 0
    local = tmp_path / "hello.py"
    local.write_bytes(b"print('hi')\n")
    assert cli("put", url, str(local), f"{d}/src/hello.py")[0] == 0
    assert (here / "src" / "hello.py").read_bytes() == b"print('hi')\n"

    code, out, _ = cli("ls", url, d)
    assert code == 0 and out.decode().splitlines() == ["docs/", "src/"]
    long = cli("ls", url, f"{d}/src", "-l")[1].decode().splitlines()
    assert long[0].startswith("-rw") and long[0].endswith(" hello.py") and " 12 " in long[0]
    assert long[1].startswith("d") and long[1].endswith(" pkg/")

    assert cli("cat", url, f"{d}/src/hello.py")[1] == b"print('hi')\n"
    assert cli("mv", url, f"{d}/src/hello.py", f"{d}/src/pkg/moved.py")[0] == 0
    assert (here / "src" / "pkg" / "moved.py").exists()
    assert cli("rm", url, f"{d}/src")[0] == 0
    assert not (here / "src").exists()


def test_server_errors_exit_1_with_the_exact_text_on_stderr(
    served: tuple[Path, str], cli: Cli
) -> None:
    here, url = served
    d = here.name
    (here / "a").write_text("a")
    (here / "b").write_text("b")
    cases = [
        (("cat", url, f"{d}/nope.py"), f"open {d}/nope.py: no such file or directory"),
        (("rm", url, f"{d}/nope.py"), f"remove {d}/nope.py: no such file or directory"),
        (("mv", url, f"{d}/a", f"{d}/b"), f"rename {d}/a {d}/b: file exists"),
        (("ls", url, f"{d}/a"), f"open {d}/a: not a directory"),
        (("mkdir", url, f"{d}/a"), f"mkdir {d}/a: not a directory"),
        (("get", url, f"{d}/nope.bin", "-"), f"open {d}/nope.bin: no such file or directory"),
        (("put", url, str(here / "a"), "../escape"), "open ../escape: permission denied"),
        (("cat", url, "../etc/passwd"), "open ../etc/passwd: permission denied"),
    ]
    for args, text in cases:
        code, out, err = cli(*args)
        assert code == 1, (args, err)
        assert err.decode() == f"goval: {text}\n"
        assert out == b""
    assert cli("rm", url, "-f", f"{d}/nope.py")[0] == 0


def test_the_console_script_exits_0_1_and_2(served: tuple[Path, str]) -> None:
    here, url = served
    assert goval("mkdir", url, f"{here.name}/made").returncode == 0
    missing = goval("cat", url, f"{here.name}/nope")
    assert missing.returncode == 1 and b"no such file or directory" in missing.stderr
    assert goval("mv", url, "only-one").returncode == 2


def test_usage_errors_exit_2(cli: Cli) -> None:
    assert cli("mv", "ws://127.0.0.1:1/wsv2/x", "only-one")[0] == 2
    assert cli("cat")[0] == 2
    assert cli("snapshot")[0] == 2


def test_an_unreachable_server_exits_1(cli: Cli) -> None:
    code, _, err = cli("ls", "ws://127.0.0.1:9/wsv2/x")
    assert code == 1 and err.startswith(b"goval: ")


def test_a_big_file_goes_up_and_down_through_signed_urls_with_progress(
    served: tuple[Path, str], cli: Cli, tmp_path: Path
) -> None:
    here, url = served
    remote = f"{here.name}/data/big.bin"
    blob = os.urandom(40 * 1024 * 1024 + 3)  # bigger than a 32 MiB message
    local = tmp_path / "big.bin"
    local.write_bytes(blob)
    code, _, err = cli("put", url, str(local), remote, "--progress")
    assert code == 0, err
    assert f"put {remote}".encode() in err and b"100%" in err
    assert (here / "data" / "big.bin").read_bytes() == blob

    code, _, err = cli("get", url, remote, str(tmp_path / "back.bin"), "--quiet")
    assert code == 0 and err == b""
    assert (tmp_path / "back.bin").read_bytes() == blob
    code, out, _ = cli("cat", url, remote)  # too big for a read reply: streamed instead
    assert code == 0 and out == blob


def test_put_from_stdin_and_get_to_stdout(served: tuple[Path, str], cli: Cli) -> None:
    here, url = served
    assert cli("put", url, "-", f"{here.name}/piped.txt", stdin=b"from a pipe")[0] == 0
    assert (here / "piped.txt").read_bytes() == b"from a pipe"
    assert cli("get", url, f"{here.name}/piped.txt", "-")[1] == b"from a pipe"


def test_a_failed_get_leaves_the_local_file_alone(
    served: tuple[Path, str], cli: Cli, tmp_path: Path
) -> None:
    here, url = served
    local = tmp_path / "keep.txt"
    local.write_text("mine")
    assert cli("get", url, f"{here.name}/missing", str(local))[0] == 1
    assert local.read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_snapshot_list_and_restore_work_on_the_local_workspace(tmp_path: Path, cli: Cli) -> None:
    from goval.services.snapshot import open_snapshot_store

    (tmp_path / "f.txt").write_text("v1")
    store = open_snapshot_store(tmp_path, tmp_path / ".goval")
    first = store.snapshot("first")
    (tmp_path / "f.txt").write_text("v2")
    (tmp_path / "added.txt").write_text("new")
    store.snapshot("second")
    code, out, _ = cli("snapshot", "list", str(tmp_path))
    lines = out.decode().splitlines()
    assert code == 0 and len(lines) == 2
    assert lines[0].endswith(" second") and lines[1].startswith(f"{first} ")

    assert first is not None
    code, _, err = cli("snapshot", "restore", first, str(tmp_path))
    assert code == 0, err
    assert (tmp_path / "f.txt").read_text() == "v1" and not (tmp_path / "added.txt").exists()
    code, _, err = cli("snapshot", "restore", "deadbeef", str(tmp_path))
    assert code == 1 and err == b"goval: unknown snapshot deadbeef\n"
