"""Parsing .replit and inferring the run command (protocol §3.6, §4.5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from goval.errors import GovalError, ProcessError
from goval.storage import (
    DotReplit,
    PackagerConfig,
    Workspace,
    load_dotreplit,
    parse_dotreplit,
    run_command,
)

FULL = r"""
run = "python3 app.py --port 80"
entrypoint = "app.py"
language = "python3"
onBoot = ["pip", "install", "-r", "requirements.txt"]
hidden = [".config", "venv"]

[env]
PATH = "${PATH}:/opt/tools"
GREETING = "hi ${USER}, ${MISSING}!"
ECHO = "${GREETING}"
PORT = 8080
DEBUG = true

[packager]
language = "python3"
ignoredPackages = ["unit_tests"]
ignoredPaths = [".cache"]

[[hints]]
regex = 'Error: (\w+)'
text = "Look at $1"

[languages.python3.languageServer]
start = "pylsp -v"

[languages.js.languageServer]
start = ["typescript-language-server", "--stdio"]
"""


def test_a_full_dotreplit_is_parsed() -> None:
    d = parse_dotreplit(FULL)
    assert d.run == ("sh", "-c", "python3 app.py --port 80")
    assert (d.entrypoint, d.language) == ("app.py", "python3")
    assert d.on_boot == ("pip", "install", "-r", "requirements.txt")
    assert d.hidden == (".config", "venv")
    assert d.packager == PackagerConfig("python3", ("unit_tests",), (".cache",))
    assert [(h.regex.pattern, h.text) for h in d.hints] == [(r"Error: (\w+)", "Look at $1")]
    assert d.hints[0].regex.search("Error: Boom").group(1) == "Boom"  # type: ignore[union-attr]
    assert dict(d.language_servers) == {
        "python3": ("sh", "-c", "pylsp -v"),
        "js": ("typescript-language-server", "--stdio"),
    }


def test_env_is_interpolated_against_the_base_env_in_file_order() -> None:
    env = parse_dotreplit(FULL).resolved_env({"PATH": "/usr/bin", "USER": "ada"})
    assert env == {
        "PATH": "/usr/bin:/opt/tools",
        "GREETING": "hi ada, !",
        "ECHO": "hi ada, !",
        "PORT": "8080",
        "DEBUG": "true",
    }


def test_a_missing_dotreplit_means_defaults(tmp_path: Path) -> None:
    with Workspace(tmp_path) as ws:
        assert load_dotreplit(ws) == DotReplit()


def test_load_reads_the_workspace_file(tmp_path: Path) -> None:
    (tmp_path / ".replit").write_text('run = ["node", "x.js"]\n')
    with Workspace(tmp_path) as ws:
        assert load_dotreplit(ws).run == ("node", "x.js")


def test_a_dotreplit_symlinked_outside_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "secret.toml").write_text('run = "x"\n')
    (tmp_path / "ws/.replit").symlink_to(tmp_path / "secret.toml")
    with Workspace(tmp_path / "ws") as ws, pytest.raises(GovalError) as excinfo:
        load_dotreplit(ws)
    assert str(excinfo.value) == "invalid .replit: permission denied"


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("run = ", "invalid .replit: Invalid value (at end of document)"),
        ("run = 3", "invalid .replit: run must be a list of strings"),
        ("run = [1]", "invalid .replit: run must be a list of strings"),
        ("entrypoint = 1", "invalid .replit: entrypoint must be a string"),
        ("env = 1", "invalid .replit: env must be a table"),
        ("[env]\nX = [1]", "invalid .replit: env.X must be a string"),
        ("hidden = 'x'", "invalid .replit: hidden must be a list of strings"),
        ("[[hints]]\nregex = '('\ntext = 't'", "invalid .replit: hints[0].regex: "),
        ("[[hints]]\nregex = 'x'", "invalid .replit: hints[0] needs string regex and text"),
        ("[packager]\nlanguage = 2", "invalid .replit: packager.language must be a string"),
    ],
)
def test_bad_dotreplit_files_name_the_problem(text: str, detail: str) -> None:
    with pytest.raises(GovalError) as excinfo:
        parse_dotreplit(text)
    assert str(excinfo.value).startswith(detail)


def test_invalid_utf8_is_reported(tmp_path: Path) -> None:
    (tmp_path / ".replit").write_bytes(b'run = "\xff"')
    with (
        Workspace(tmp_path) as ws,
        pytest.raises(GovalError, match=r"^invalid \.replit: invalid UTF-8$"),
    ):
        load_dotreplit(ws)


@pytest.mark.parametrize(
    ("text", "argv"),
    [
        ('run = "make run"\nentrypoint = "a.py"', ["sh", "-c", "make run"]),
        ('run = ["./bin", "x y"]', ["./bin", "x y"]),
        ('entrypoint = "src/app.py"\nlanguage = "nodejs"', ["python", "src/app.py"]),
        ('entrypoint = "server.js"', ["node", "server.js"]),
        ('entrypoint = "main.rb"\nlanguage = "python"', ["python", "main.py"]),
        ('language = "python"', ["python", "main.py"]),
        ('language = "nodejs"', ["node", "index.js"]),
        ('run = ""\nlanguage = "nodejs"', ["node", "index.js"]),
    ],
)
def test_the_run_command_is_inferred_in_order(text: str, argv: list[str]) -> None:
    assert run_command(parse_dotreplit(text)) == argv


@pytest.mark.parametrize("text", ["", 'language = "haskell"', 'entrypoint = "main.go"'])
def test_no_run_command_is_an_error(text: str) -> None:
    with pytest.raises(ProcessError, match=r"^no run command configured$"):
        run_command(parse_dotreplit(text))
