"""`channelbridge run` (what `make run` starts) on a fresh dev dir: everything up, demo seeded, clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import psutil

from shared.devstack.processes import free_listen_port


def _wait_for_line(proc: subprocess.Popen, marker: str, timeout: float) -> list[str]:
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        lines.append(line)
        if marker in line:
            return lines
    raise AssertionError(f"{marker!r} never printed:\n{''.join(lines)}")


def test_run_starts_everything_seeds_the_demo_and_stops_without_orphans(tmp_path):
    port = free_listen_port(span=14)  # make run lays the services out at gateway + 1…4 and the sandboxes at + 11…13
    env = {k: v for k, v in os.environ.items() if not k.startswith("CB_")}
    env.update(CB_DEV_DIR=str(tmp_path / "dev"), CB_GATEWAY_PORT=str(port), CB_ORDER_SYNC_INTERVAL_S="5")
    proc = subprocess.Popen([sys.executable, "-m", "shared.cli", "run"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        output = "".join(_wait_for_line(proc, "Ctrl-C stops everything.", timeout=120))
        assert f"http://127.0.0.1:{port}" in output and "Demo client:" in output
        assert all(f"{m} shop:" in output for m in ("Etsy", "Bigcommerce", "Allegro")), output
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 9  # tansu, 3 sandboxes, 4 services, gateway

        demo_line = next(line for line in output.splitlines() if line.startswith("Demo client:"))
        client_id, client_secret = demo_line.split(":", 1)[1].strip().split(" / ")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            assert http.get("/readyz").status_code == 200
            token = http.post("/v1/oauth/token", data={"grant_type": "client_credentials"},
                              auth=(client_id, client_secret)).json()["access_token"]
            deadline = time.monotonic() + 60
            while True:
                orders = http.get("/v1/orders", headers={"Authorization": f"Bearer {token}"}).json()["items"]
                if len(orders) >= 8 or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            by_marketplace = {m: sum(o["marketplace"] == m for o in orders) for m in ("etsy", "bigcommerce", "allegro")}
            assert by_marketplace == {"etsy": 3, "bigcommerce": 3, "allegro": 2}, by_marketplace

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        _, alive = psutil.wait_procs(children, timeout=15)
        assert not alive, f"orphans left behind: {[p.pid for p in alive]}"
    finally:
        if proc.poll() is None:
            proc.kill()
