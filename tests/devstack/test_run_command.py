"""`channelbridge run` (what `make run` starts) on a fresh dev dir: everything up, demo seeded, clean stop; and
run with the user's own marketplace settings, which win over the sandboxes'."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time

import httpx
import psutil
import pytest

from shared.devstack.processes import free_listen_port
from shared.devstack.stack import MARKETPLACES, SANDBOX_EXPORTS
from tests.conftest import ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET
from tests.e2e.world import AllegroSandbox, BigCommerceSandbox, EtsySandbox, Merchant
from tests.inprocess import serve


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


def _emulator_app(marketplace: str):
    module = importlib.import_module(f"sandbox.{marketplace}.app")
    return module.create_app()


async def _connect_a_shop_and_place_orders(marketplace: str, merchant: Merchant, emulator: httpx.AsyncClient):
    """Connect a shop at the separate emulator through the gateway, place two paid orders there → their ids."""
    if marketplace == "etsy":
        etsy = EtsySandbox(emulator)
        shop = await etsy.new_shop("ElsewhereCrafts")
        connection = await merchant.connect_etsy(etsy, shop["user_id"])
        placed = await etsy.add_receipts(shop["shop_id"], count=2)
    elif marketplace == "bigcommerce":
        bigcommerce = BigCommerceSandbox(emulator)
        store, account = await bigcommerce.new_store()
        connection = await merchant.connect_bigcommerce(account)
        placed = await bigcommerce.add_orders(store["store_hash"], count=2, status_id=11, emit_webhooks=False)
    else:
        allegro = AllegroSandbox(emulator)
        seller = await allegro.control("POST", "/users", json={"login": "ElsewhereSklep"})
        connection = await merchant.connect_allegro(allegro, seller["id"])
        await merchant.wait_for_sync(connection["id"])  # the journal starts at the first sync
        placed = (await allegro.control("POST", f"/users/{seller['id']}/checkout-forms", json={"count": 2}))["ids"]
    assert connection["status"] == "active", connection
    return connection, [str(external_id) for external_id in placed]


@pytest.mark.parametrize("pointed", [("allegro",), ("etsy", "bigcommerce")], ids="+".join)
async def test_run_syncs_marketplaces_the_user_pointed_at_other_emulators(tmp_path, pointed):
    """The user's settings win over `make run`'s sandboxes: the stack connects and syncs at the emulators they
    name (started separately, as a merchant's real shop would be); their demo shops are skipped with a line,
    the other marketplaces keep theirs. Two runs cover every marketplace (a run costs ~20 s of CI)."""
    servers = {m: serve(_emulator_app(m), f"separate {m} emulator") for m in pointed}
    urls = {m: next(server) for m, server in servers.items()}
    try:
        port = free_listen_port(span=14)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CB_")}
        env.update(CB_DEV_DIR=str(tmp_path / "dev"), CB_GATEWAY_PORT=str(port), CB_ORDER_SYNC_INTERVAL_S="5",
                   CB_BOOTSTRAP_ADMIN_CLIENT_ID=ADMIN_CLIENT_ID, CB_BOOTSTRAP_ADMIN_CLIENT_SECRET=ADMIN_CLIENT_SECRET)
        for marketplace, url in urls.items():  # what a user pointing at their own test double would set
            env.update({name: template.format(url=url) for name, template in SANDBOX_EXPORTS[marketplace].items()})
        proc = subprocess.Popen([sys.executable, "-m", "shared.cli", "run"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        try:
            output = "".join(_wait_for_line(proc, "Ctrl-C stops everything.", timeout=120))
            for marketplace, url in urls.items():
                assert f"no demo shop: CB_{marketplace.upper()}_API_URL points at {url}" in output, output
                assert f"{marketplace}-sandbox" not in output, "the unused sandbox is not started"
            for other in set(MARKETPLACES) - set(pointed):
                [shop_line] = [line for line in output.splitlines() if line.startswith(f"{other.capitalize()} shop:")]
                assert f"{other}-sandbox" in output and "connection" in shop_line and "no demo" not in shop_line

            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as gateway:
                merchant = await Merchant.create(gateway)
                for marketplace, url in urls.items():
                    async with httpx.AsyncClient(base_url=url, timeout=30) as emulator:
                        connection, placed = await _connect_a_shop_and_place_orders(marketplace, merchant, emulator)
                    await merchant.wait_for_sync(connection["id"])  # orders knows the connection once it synced
                    state = await merchant.sync_now_and_wait(connection["id"])
                    assert state["last_outcome"] == "ok", state
                    orders = await merchant.orders_by_external_id(connection["id"])
                    assert set(placed) <= set(orders), (marketplace, placed, sorted(orders))
                    assert {orders[external_id]["marketplace"] for external_id in placed} == {marketplace}

            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    finally:
        for server in servers.values():
            server.close()
