"""The marketplace rate budget is the app's, not the process's: replicas together stay under it.

Two orders replicas (real processes, with auth, on a database and broker of their own) sync many shops of
one Etsy app against an Etsy emulator whose limiter allows 6 requests/s; our budget for the app is 4/s.
With a bucket per process (CB_MARKETPLACE_RATE_STORAGE=memory) they sent 14 requests in one second and
earned 8 x 429.
"""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid

import httpx
import pytest
import redis.asyncio as redis
from pydantic import ValidationError

from sandbox.etsy.app import create_app
from sandbox.etsy.state import DEFAULT_CLIENT_ID, DEFAULT_SECRET, EtsyState
from shared.devstack.infra import TansuBroker
from shared.devstack.processes import free_listen_port, port_open, spawn, stop
from shared.devstack.stack import Component, Stack
from shared.marketplaces.budget import REDIS_SCHEMES, BudgetStore, RedisBudgetStore, budget_store
from shared.marketplaces.http import rate_budget
from shared.settings import Settings
from tests.auth.conftest import (
    ADMIN_IDENTITY,
    PUBLIC_BASE_URL,
    EtsySandbox,
    as_merchant,
    connect_shop,
    create_merchant,
    signed_as,
)
from tests.conftest import eventually, scratch_database, stack_env
from tests.inprocess import serve

BUDGET_PER_S = 4  # CB_ETSY_RATE_PER_SECOND: a burst of 4, then 4/s
EMULATOR_PER_S = 6  # what the emulated Etsy allows this app
SHOPS = 12


@pytest.fixture
async def own_database_url(settings):
    async with scratch_database(settings, "rate_budget") as url:
        yield url


@pytest.fixture
def etsy_emulator():
    state = EtsyState()
    state.settings.rate_per_second = EMULATOR_PER_S
    serving = serve(create_app(state), "Etsy emulator")
    yield next(serving), state
    serving.close()


def _max_in_window(times: list[float], window_s: float) -> int:
    times, best, start = sorted(times), 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= window_s:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_two_orders_replicas_syncing_one_app_stay_under_its_rate(settings, own_database_url, etsy_emulator,
                                                                       tmp_path):
    emulator_url, emulator = etsy_emulator
    broker = TansuBroker(log_path=tmp_path / "tansu.log")
    broker.start()
    own = settings.model_copy(update={"database_url": own_database_url,
                                      "kafka_bootstrap_servers": broker.bootstrap_servers})
    env = {**stack_env(own), "CB_PUBLIC_BASE_URL": PUBLIC_BASE_URL, "CB_ORDER_SYNC_INTERVAL_S": "600",
           "CB_ETSY_API_URL": emulator_url, "CB_ETSY_AUTHORIZE_URL": f"{emulator_url}/oauth/connect",
           "CB_ETSY_TOKEN_URL": f"{emulator_url}/v3/public/oauth/token", "CB_ETSY_CLIENT_ID": DEFAULT_CLIENT_ID,
           "CB_ETSY_CLIENT_SECRET": DEFAULT_SECRET, "CB_ETSY_RATE_PER_SECOND": str(BUDGET_PER_S)}
    replicas = ["orders-1", "orders-2"]
    stack = Stack(env=env, log_dir=tmp_path / "logs", components=[
        Component("auth", "services.auth.main:app", free_listen_port(), {"CB_AUTH_URL": "{url}"}),
        *(Component(name, "services.orders.main:app", free_listen_port()) for name in replicas)])
    try:
        stack.start()
        async with (httpx.AsyncClient(base_url=stack.url("auth"), timeout=30) as auth,
                    httpx.AsyncClient(base_url=emulator_url, timeout=30) as etsy_http):
            etsy = EtsySandbox(etsy_http)
            merchant = await create_merchant(auth, lambda: signed_as(own, ADMIN_IDENTITY), "Budget Crafts")
            connections = []
            for i in range(SHOPS):
                shop = await etsy.create_shop(f"BudgetShop{i}")
                await etsy.control("POST", f"/shops/{shop['shop_id']}/receipts", json={"count": 3})
                connections.append((await connect_shop(auth, etsy, own, merchant["id"]))["id"])
            as_owner = as_merchant(own, merchant["id"])  # signs each request with its own method and path

            async def runs(replica: str, connection_id: str) -> int:
                async with httpx.AsyncClient(base_url=stack.url(replica), timeout=30) as orders:
                    response = await orders.get(f"/v1/connections/{connection_id}/sync", auth=as_owner)
                state = response.json() if response.status_code == 200 else {}
                return state.get("runs", 0) if state.get("last_outcome") == "ok" else 0

            async def all_synced(times: int):
                counts = await asyncio.gather(*(runs("orders-1", c) for c in connections))
                return all(count >= times for count in counts)

            await eventually(lambda: all_synced(1), timeout=120, interval=0.5)  # first syncs, on connect
            # Every shop at once, half asked of each replica: both spend the app's budget together.
            for i, connection_id in enumerate(connections):
                async with httpx.AsyncClient(base_url=stack.url(replicas[i % 2]), timeout=30) as orders:
                    response = await orders.post(f"/v1/connections/{connection_id}/sync", auth=as_owner)
                assert response.status_code == 202, response.text
            await eventually(lambda: all_synced(2), timeout=120, interval=0.5)

        calls = [r for r in emulator.request_log if r["path"].startswith("/v3/application")]
        assert len(calls) >= 3 * SHOPS
        assert [r for r in calls if r["status"] == 429] == []
        # A bucket of 4 refilled at 4/s grants at most 4 + 4 in any second (+1 for network jitter).
        assert _max_in_window([r["at"] for r in calls], 1.0) <= 2 * BUDGET_PER_S + 1
    finally:
        stack.stop()
        broker.stop()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A Redis server of our own, where one is installed (redis-server on PATH); skipped otherwise."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_listen_port()
    proc = spawn([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                 log_path=tmp_path_factory.mktemp("redis") / "redis.log")
    deadline = time.monotonic() + 10
    while not port_open("127.0.0.1", port):
        assert proc.poll() is None and time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    stop(proc)


@pytest.mark.parametrize("backend", ["postgres", "redis"])
async def test_the_bucket_refills_by_elapsed_time_and_queues_takers(settings, request, backend):
    """Two stores (two pools, as two replicas) on one key: the burst is shared, then each taker is told to
    wait for its own slot in order."""
    uri = settings.database_url if backend == "postgres" else request.getfixturevalue("redis_url")
    replica_a, replica_b = budget_store_for(uri), budget_store_for(uri)
    key = f"test:{uuid.uuid4().hex}"
    try:
        waits = [await store.take(key, rate_per_second=0.5, burst=2) for store in (replica_a, replica_b) * 3]
    finally:
        await replica_a.dispose()
        await replica_b.dispose()
    assert waits[:2] == [0.0, 0.0]  # the burst, whichever replica takes it
    # Then one slot (2 s at 0.5/s) each, queued behind the previous taker; the statements' own time refills a bit.
    assert waits[2:] == pytest.approx([2.0, 4.0, 6.0, 8.0], abs=0.5)


async def test_a_redis_storage_setting_puts_the_budget_in_redis(settings, redis_url):
    """CB_MARKETPLACE_RATE_STORAGE=redis://… → the clients' budget is the Redis bucket (the replicas test above
    runs on the default, Postgres; both stores share one algorithm, checked by the bucket test)."""
    budget = rate_budget(settings.model_copy(update={"marketplace_rate_storage": redis_url}), "etsy", "app-r", 5)
    await budget.acquire()
    client = redis.from_url(redis_url)
    try:
        assert await client.hget("cb:ratelimit:etsy:app-r", "tokens") == b"4"
    finally:
        await client.aclose()
        await budget_store(redis_url).dispose()


def test_an_unknown_rate_storage_is_refused_naming_the_setting():
    with pytest.raises(ValidationError, match="marketplace_rate_storage"):
        Settings(marketplace_rate_storage="mysql://db")


def budget_store_for(uri: str) -> BudgetStore | RedisBudgetStore:
    """A store of its own (not the per-loop cached one), as a second replica would have."""
    return RedisBudgetStore(uri) if uri.startswith(REDIS_SCHEMES) else BudgetStore(uri)
