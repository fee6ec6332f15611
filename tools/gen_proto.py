"""Regenerate ``src/goval/_proto`` from the vendored ``proto/api.proto``.

Run through ``make proto``. ``tests/test_generated_proto.py`` calls :func:`generate` into a
temporary directory and fails when the committed files differ, so the two never drift apart.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"
OUTPUT_DIR = ROOT / "src" / "goval" / "_proto"
GENERATED = ("api_pb2.py", "api_pb2.pyi")


def generate(output_dir: Path) -> None:
    """Write api_pb2.py and its mypy stub for proto/api.proto into ``output_dir``."""
    from grpc_tools import protoc

    plugin = shutil.which("protoc-gen-mypy", path=str(Path(sys.executable).parent))
    if plugin is None:
        raise SystemExit(
            "protoc-gen-mypy not found next to this Python (pip install mypy-protobuf)"
        )
    include = Path(protoc.__file__).parent / "_proto"
    output_dir.mkdir(parents=True, exist_ok=True)
    status = protoc.main(
        [
            "protoc",
            f"-I{PROTO_DIR}",
            f"-I{include}",
            f"--python_out={output_dir}",
            f"--plugin=protoc-gen-mypy={plugin}",
            f"--mypy_out={output_dir}",
            str(PROTO_DIR / "api.proto"),
        ]
    )
    if status != 0:
        raise SystemExit(f"protoc failed with status {status}")


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        generate(Path(scratch))
        for name in GENERATED:
            shutil.copyfile(Path(scratch) / name, OUTPUT_DIR / name)
    print(f"regenerated {', '.join(GENERATED)} in {OUTPUT_DIR.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
