"""What the gateway costs: `GET /v1/orders?limit=10` through the gateway and straight to the orders service.

The stack is the one `make run` starts (auth, orders and the gateway as uvicorn processes from
`shared.devstack`), on the bench's own PostgreSQL and broker. A merchant with an API client (`orders:read`)
and `ORDERS` orders is seeded; then the load generator (`bench.loadgen`, its own process) runs the two
modes in alternating slices, `direct` first: straight to orders with the identity headers the gateway
would sign, and through the gateway with the client's bearer token. Alternating spreads any drift of the
machine (other work on the two shared cores) over both modes instead of charging it to one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx

from services.orders import repository as orders_repo
from shared.crypto import generate_key_spec
from shared.db import create_engine_for_schema, session_factory
from shared.devstack.processes import free_listen_port
from shared.devstack.stack import Stack, default_components

ROUTE = "/v1/orders?limit=10"
ORDERS = 50
SCOPES = ["orders:read"]
_ADMIN_ID = "bench-admin"


@contextlib.contextmanager
def stack(work: Path, database_url: str, bootstrap_servers: str) -> Iterator[tuple[Stack, dict[str, str]]]:
    """auth, orders and the gateway on free ports; yields the stack and the environment they share."""
    env = {
        "CB_ENVIRONMENT": "test",
        "CB_DATABASE_URL": database_url,
        "CB_KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
        "CB_INTERNAL_SECRET": f"bench-{uuid.uuid4().hex}",
        "CB_ENCRYPTION_KEYS": generate_key_spec(),
        "CB_BOOTSTRAP_ADMIN_CLIENT_ID": _ADMIN_ID,
        "CB_BOOTSTRAP_ADMIN_CLIENT_SECRET": uuid.uuid4().hex,
        # The limiter still runs on every request; the limit is set where the load never reaches it.
        "CB_RATE_LIMIT": "1000000/second",
        "CB_LOG_LEVEL": "INFO",  # production's level: the per-request log line is part of the cost
        "CB_ORDER_SYNC_INTERVAL_S": "3600",
    }
    wanted = {"auth", "orders", "gateway"}
    # The gateway's /readyz waits for every service; listings and fulfilment are not needed here.
    components = [replace(c, port=free_listen_port(), **({"ready_path": "/healthz"} if c.name == "gateway" else {}))
                  for c in default_components() if c.name in wanted]
    running = Stack(env=env, components=components, log_dir=work / "gateway-logs")
    running.start(timeout=120)
    try:
        yield running, env
    finally:
        running.stop()


async def seed(running: Stack, env: dict[str, str]) -> dict:
    """A merchant, its API client and token, and `ORDERS` paid orders with two lines each."""
    async with httpx.AsyncClient(base_url=running.url("gateway"), timeout=30.0) as http:
        admin = await _token(http, _ADMIN_ID, env["CB_BOOTSTRAP_ADMIN_CLIENT_SECRET"])
        headers = {"Authorization": f"Bearer {admin}"}
        merchant = (await http.post("/v1/merchants", json={"name": "Bench Merchant"}, headers=headers)
                    ).raise_for_status().json()
        client = (await http.post("/v1/clients", headers=headers, json={
            "name": "bench client", "merchant_id": merchant["id"], "scopes": SCOPES})).raise_for_status().json()
        token = await _token(http, client["client_id"], client["client_secret"])
    await _insert_orders(env["CB_DATABASE_URL"], uuid.UUID(merchant["id"]))
    return {"token": token, "identity": {"client_id": client["client_id"], "merchant_id": merchant["id"],
                                         "scopes": SCOPES}}


async def _token(http: httpx.AsyncClient, client_id: str, secret: str) -> str:
    response = await http.post("/v1/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret))
    return response.raise_for_status().json()["access_token"]


async def _insert_orders(database_url: str, merchant_id: uuid.UUID) -> None:
    engine = create_engine_for_schema(database_url, "orders", pool_size=1)
    connection_id = uuid.uuid4()
    now = datetime.now(UTC)
    rng = random.Random(8)
    try:
        async with session_factory(engine)() as session, session.begin():
            for n in range(ORDERS):
                address = {"name": f"Buyer {n}", "line1": f"{n} High Street", "city": "Leeds", "postal_code": "LS1 4AP",
                           "country_code": "GB"}
                order_id = uuid.uuid4()
                placed = now - timedelta(minutes=n)
                await orders_repo.insert_order(session, {
                    "id": order_id, "merchant_id": merchant_id, "connection_id": connection_id, "marketplace": "etsy",
                    "external_id": str(100_000 + n), "status": "paid", "marketplace_status": "paid",
                    "buyer": {"name": f"Buyer {n}", "email": f"buyer{n}@example.com"},
                    "shipping_address": address, "billing_address": address, "billing_copied_from_shipping": True,
                    "total": Decimal("41.50"), "currency": "GBP", "placed_at": placed, "paid_at": placed,
                    "marketplace_updated_at": placed, "content_hash": f"bench-{n}",
                }, [{"position": i, "external_id": f"{n}-{i}", "title": f"Hand-thrown mug {i}", "sku": f"MUG-{i}",
                     "quantity": rng.randint(1, 3), "unit_price": Decimal("13.50"), "variations": {"Colour": "Blue"}}
                    for i in range(2)])
    finally:
        await engine.dispose()


def measure(running: Stack, seeded: dict, env: dict[str, str], *, slices: int, slice_seconds: float,
            connections: int, progress) -> dict:
    """Two load-generator runs, each alternating direct and gateway slices: at one connection (latency: the
    hop's cost when nothing queues) and at `connections` (throughput: both modes saturate the two cores)."""
    args = [sys.executable, "-m", "bench.loadgen",
            "--target", f"direct={running.url('orders')}{ROUTE}", "--target", f"gateway={running.url('gateway')}{ROUTE}",
            "--identity", "direct=CB_BENCH_SECRET", "--bearer", "gateway=CB_BENCH_TOKEN",
            *(f"--pid={name}={running._procs[name].pid}" for name in ("gateway", "orders", "auth")),
            "--slices", str(slices), "--slice-seconds", str(slice_seconds), "--warmup", str(max(0.5, slice_seconds))]
    env = {**os.environ, "CB_BENCH_SECRET": env["CB_INTERNAL_SECRET"], "CB_BENCH_TOKEN": seeded["token"],
           "CB_BENCH_IDENTITY": json.dumps(seeded["identity"])}
    results = {}
    for load, n in (("latency", 1), ("throughput", connections)):
        progress(f"gateway cost: {load}, {n} connection(s), {slices} x {slice_seconds:g} s slices per mode, alternating")
        proc = subprocess.run([*args, "--connections", str(n)], env=env, capture_output=True, text=True,
                              timeout=4 * slices * slice_seconds + 120, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"load generator failed: {proc.stderr[-2000:]}")
        results[load] = json.loads(proc.stdout)
        for mode, figures in results[load].items():
            bad = {s: c for s, c in figures["statuses"].items() if s != "200"}
            if bad:
                raise RuntimeError(f"{load}, {mode}: non-200 answers {bad}; see the logs in {running.log_dir}")
            figures["connections"] = n
            figures["rate"] = figures["requests"] / figures["seconds"]
    return results


def run(work: Path, database_url: str, bootstrap_servers: str, *, slices: int, slice_seconds: float,
        connections: int, progress) -> dict:
    progress("gateway cost: starting auth, orders and the gateway")
    with stack(work, database_url, bootstrap_servers) as (running, env):
        seeded = asyncio.run(seed(running, env))
        return measure(running, seeded, env, slices=slices, slice_seconds=slice_seconds, connections=connections,
                       progress=progress)
