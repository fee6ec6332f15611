import sys
from pathlib import Path

from google.protobuf.internal import api_implementation

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import gen_proto  # noqa: E402


def test_generated_code_matches_the_vendored_proto(tmp_path: Path) -> None:
    gen_proto.generate(tmp_path)
    for name in gen_proto.GENERATED:
        committed = (gen_proto.OUTPUT_DIR / name).read_bytes()
        assert (tmp_path / name).read_bytes() == committed, f"{name} is stale: run `make proto`"


def test_the_vendored_proto_is_the_shared_schema_verbatim() -> None:
    shared = ROOT.parent / "shared" / "api.proto"
    if shared.exists():
        assert (ROOT / "proto" / "api.proto").read_bytes() == shared.read_bytes()


def test_protobuf_runs_on_the_fast_upb_backend() -> None:
    assert api_implementation.Type() == "upb"
