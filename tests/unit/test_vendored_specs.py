"""The vendored specs are the upstream blobs named in PROVENANCE.md, byte for byte."""

import hashlib
import re

from tests.specs import SPEC_DIR

ROW = re.compile(r"^\| `(?P<file>[^`]+)` \|.*\| `(?P<sha>[0-9a-f]{64})` \|$", re.MULTILINE)


def test_every_vendored_spec_matches_its_recorded_checksum():
    recorded = {m["file"]: m["sha"] for m in ROW.finditer((SPEC_DIR / "PROVENANCE.md").read_text())}
    present = {p.name for p in SPEC_DIR.iterdir() if p.suffix in {".json", ".yml", ".yaml"}}
    assert present == set(recorded), "every vendored spec needs a provenance row, and every row a file"
    for name, sha in recorded.items():
        assert hashlib.sha256((SPEC_DIR / name).read_bytes()).hexdigest() == sha, f"{name} differs from upstream"
