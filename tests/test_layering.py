"""design.md's layering rules, checked on the import statements of every module."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "goval"

# layer -> project packages it must never import
FORBIDDEN = {
    "protocol": {"server", "services", "host", "storage", "client", "cli", "ot"},
    "ot": {"protocol", "server", "services", "host", "storage", "client", "cli", "_proto"},
    "client": {"server", "services", "host", "storage", "cli"},
    "services": {"server", "cli", "client"},
    "host": {"server", "services", "cli", "client", "protocol", "storage"},
    "storage": {"server", "services", "cli", "client", "protocol", "host"},
    "server": {"cli"},
}
# sans-I/O layers must not touch the OS or the event loop
FORBIDDEN_STDLIB = {"protocol": {"asyncio", "os", "socket"}, "ot": {"asyncio", "os", "socket"}}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layers_only_import_what_the_design_allows(layer: str) -> None:
    offences = []
    for path in (PACKAGE / layer).rglob("*.py"):
        for module in imported_modules(path):
            parts = module.split(".")
            if parts[0] == "goval" and len(parts) > 1 and parts[1] in FORBIDDEN[layer]:
                offences.append(f"{path.relative_to(PACKAGE)} imports {module}")
            if parts[0] in FORBIDDEN_STDLIB.get(layer, set()):
                offences.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert offences == []
