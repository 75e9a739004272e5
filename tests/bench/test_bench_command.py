"""`make bench` at a small size: every phase runs, every measured event is applied exactly once, the gateway is
measured against the orders service reached directly in the same run, and the report carries each figure beside
its raw baseline. Figures are not asserted: speed is for `make bench`. The calls-per-order section is counted,
not timed, so its target (<= 0.05 calls per order) is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_bench_runs_every_phase_and_reports_ratios(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--events", "300", "--latency-rate", "200", "--latency-seconds", "1",
         "--ingest-orders", "400",
         "--gateway-slices", "2", "--gateway-slice-seconds", "0.3", "--gateway-connections", "4", "--json", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(out.read_text())
    tput, lat = summary["throughput"], summary["latency"]
    for phase in ("backbone", "backbone_bulk_each", "backbone_bulk_each_x2", "backbone_each_each", "raw_kafka",
                  "raw_postgres"):
        assert tput[phase]["events"] == 300, phase
    assert set(tput["ratios"]) >= {"raw_kafka", "raw_postgres", "raw_serial"}
    for phase in ("backbone", "backbone_each", "raw_kafka"):
        assert lat[phase]["samples"] == 200, phase
    assert "target backbone ≥ 30% of raw (c)" in proc.stdout
    assert "target p99 < 100 ms" in proc.stdout
    cost = summary["calls_per_order"]
    assert set(cost) == {"etsy", "bigcommerce", "allegro"}
    for marketplace, measured in cost.items():
        assert measured["imported"] == 400 and measured["calls"] > 0, marketplace
        assert measured["calls_per_order"] <= 0.05 and measured["pass"] is True, (marketplace, measured)
    assert "calls per order (bulk ingestion, target <= 0.05)" in proc.stdout
    gw = summary["gateway"]
    for load in ("latency", "throughput"):
        for mode in ("direct", "gateway"):
            assert gw[load][mode]["requests"] > 0, (load, mode)  # every answer was a 200, or the bench failed
            assert gw[load][mode]["cpu_ms_per_request"]["gateway"] >= 0
    assert gw["throughput"]["gateway"]["connections"] == 4 and gw["latency"]["gateway"]["connections"] == 1
    assert set(gw["ratios"]) >= {"added_p50_ms", "throughput_ratio"}
    assert "target added p50 < 2 ms" in proc.stdout
    assert "target gateway ≥ 70% of direct throughput" in proc.stdout
