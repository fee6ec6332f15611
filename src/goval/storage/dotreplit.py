"""The ``.replit`` file (protocol §3.6) and the run-command inference of §4.5.

Owns parsing and validation of the TOML into a frozen ``DotReplit``; it never starts anything.
Errors are ``invalid .replit: <detail>``; a missing file means all defaults. ``[env]`` values
are kept raw and interpolated (``${VAR}``) by ``resolved_env`` against the environment the
caller is about to use, so one parse serves every process start.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from goval.errors import FileError, GovalError, ProcessError
from goval.storage.workspace import Workspace

__all__ = [
    "DotReplit",
    "Hint",
    "PackagerConfig",
    "load_dotreplit",
    "parse_dotreplit",
    "run_command",
]

MAX_DOTREPLIT_BYTES = 1 << 20
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class Hint:
    """A ``[[hints]]`` rule: run output matching ``regex`` shows ``text``."""

    regex: re.Pattern[str]
    text: str


@dataclass(frozen=True, slots=True)
class PackagerConfig:
    """The ``[packager]`` table."""

    language: str | None = None
    ignored_packages: tuple[str, ...] = ()
    ignored_paths: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DotReplit:
    """A parsed ``.replit``; every field has the default a missing file implies."""

    run: tuple[str, ...] | None = None
    entrypoint: str | None = None
    language: str | None = None
    on_boot: tuple[str, ...] | None = None
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    hidden: tuple[str, ...] = ()
    packager: PackagerConfig = PackagerConfig()
    hints: tuple[Hint, ...] = ()
    language_servers: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def resolved_env(self, base: Mapping[str, str]) -> dict[str, str]:
        """The ``[env]`` variables with ``${VAR}`` expanded, in file order.

        A reference sees ``base`` plus the ``[env]`` entries above it; unknown names expand to
        the empty string (as in a shell).
        """
        seen = dict(base)
        out: dict[str, str] = {}
        for name, raw in self.env.items():
            value = _VAR.sub(lambda m: seen.get(m.group(1), ""), raw)
            out[name] = seen[name] = value
        return out


def load_dotreplit(workspace: Workspace) -> DotReplit:
    """Read and parse the workspace's ``.replit`` (through the path guard); missing → defaults.

    Raises:
        GovalError: ``invalid .replit: <detail>``.
    """
    try:
        data = workspace.read(".replit", MAX_DOTREPLIT_BYTES)
    except FileError as exc:
        if exc.reason == FileError.NOT_FOUND:
            return DotReplit()
        raise GovalError(f"invalid .replit: {exc.reason}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise GovalError("invalid .replit: invalid UTF-8") from None
    return parse_dotreplit(text)


def parse_dotreplit(text: str) -> DotReplit:
    """Parse ``.replit`` TOML text.

    Raises:
        GovalError: ``invalid .replit: <detail>`` for bad TOML or a wrongly typed key.
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GovalError(f"invalid .replit: {exc}") from None
    packager = _table(doc, "packager")
    return DotReplit(
        run=_command(doc.get("run"), "run"),
        entrypoint=_opt_str(doc, "entrypoint"),
        language=_opt_str(doc, "language"),
        on_boot=_command(doc.get("onBoot"), "onBoot"),
        env=MappingProxyType(_env(_table(doc, "env"))),
        hidden=_str_list(doc.get("hidden", []), "hidden"),
        packager=PackagerConfig(
            language=_opt_str(packager, "language", "packager."),
            ignored_packages=_str_list(packager.get("ignoredPackages", []), "ignoredPackages"),
            ignored_paths=_str_list(packager.get("ignoredPaths", []), "ignoredPaths"),
        ),
        hints=_hints(doc.get("hints", [])),
        language_servers=MappingProxyType(_language_servers(_table(doc, "languages"))),
    )


def run_command(dotreplit: DotReplit) -> list[str]:
    """The argv ``runMain`` starts (protocol §4.5).

    ``run``; else by ``entrypoint`` (``*.py`` → ``python``, ``*.js`` → ``node``); else by
    ``language`` (``python`` → ``python main.py``, ``nodejs`` → ``node index.js``).

    Raises:
        ProcessError: ``no run command configured``.
    """
    if dotreplit.run:
        return list(dotreplit.run)
    entry = dotreplit.entrypoint
    if entry and entry.endswith(".py"):
        return ["python", entry]
    if entry and entry.endswith(".js"):
        return ["node", entry]
    if dotreplit.language in ("python", "python3"):
        return ["python", "main.py"]
    if dotreplit.language == "nodejs":
        return ["node", "index.js"]
    raise ProcessError("no run command configured")


def _fail(detail: str) -> GovalError:
    return GovalError(f"invalid .replit: {detail}")


def _table(doc: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise _fail(f"{key} must be a table")
    return value


def _opt_str(doc: Mapping[str, Any], key: str, where: str = "") -> str | None:
    value = doc.get(key)
    if value is not None and not isinstance(value, str):
        raise _fail(f"{where}{key} must be a string")
    return value


def _str_list(value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(f"{key} must be a list of strings")
    return tuple(value)


def _command(value: Any, key: str) -> tuple[str, ...] | None:
    """A command: a string runs under ``sh -c``, a list is the argv itself."""
    if value is None:
        return None
    if isinstance(value, str):
        return ("sh", "-c", value) if value.strip() else None
    argv = _str_list(value, key)
    return argv or None


def _env(table: Mapping[str, Any]) -> dict[str, str]:
    env: dict[str, str] = {}
    for name, value in table.items():
        if isinstance(value, bool):
            env[name] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            env[name] = str(value)
        else:
            raise _fail(f"env.{name} must be a string")
    return env


def _hints(value: Any) -> tuple[Hint, ...]:
    if not isinstance(value, list):
        raise _fail("hints must be an array of tables")
    hints = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise _fail(f"hints[{i}] must be a table")
        regex, text = item.get("regex"), item.get("text")
        if not isinstance(regex, str) or not isinstance(text, str):
            raise _fail(f"hints[{i}] needs string regex and text")
        try:
            hints.append(Hint(re.compile(regex), text))
        except re.error as exc:
            raise _fail(f"hints[{i}].regex: {exc}") from None
    return tuple(hints)


def _language_servers(languages: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    servers: dict[str, tuple[str, ...]] = {}
    for lang, table in languages.items():
        if not isinstance(table, dict):
            raise _fail(f"languages.{lang} must be a table")
        server = table.get("languageServer", {})
        if not isinstance(server, dict):
            raise _fail(f"languages.{lang}.languageServer must be a table")
        argv = _command(server.get("start"), f"languages.{lang}.languageServer.start")
        if argv:
            servers[lang] = argv
    return servers
