"""Calls per order: what bulk ingestion costs at each marketplace, counted by the sandboxes themselves.

Each sandbox runs in this process on a loopback port with its rate limit opened up (calls are counted,
not timed). A shop gets `orders` paid orders in two halves: the first before the connection's first
sync, the second before the next (incremental) sync, and each sync reads them through the marketplace's
`OrderSource` the way the orders service does (Allegro: the journal, plus the first sweep from the
connection time). Every ingestion call the sandbox logs over both syncs counts; webhook-triggered
single-order fetches are not part of a bulk sync. Target: at most 0.05 calls per order.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime

import httpx

from sandbox.allegro.app import create_app as allegro_app
from sandbox.allegro.state import DEFAULT_CLIENT_ID as ALLEGRO_CLIENT_ID
from sandbox.allegro.state import DEFAULT_CLIENT_SECRET as ALLEGRO_SECRET
from sandbox.bigcommerce.app import create_app as bigcommerce_app
from sandbox.etsy.app import create_app as etsy_app
from sandbox.etsy.state import DEFAULT_CLIENT_ID as ETSY_CLIENT_ID
from sandbox.etsy.state import DEFAULT_SECRET as ETSY_SECRET
from shared.marketplaces.allegro.client import AllegroClient
from shared.marketplaces.base import OrderPage, SyncWindow
from shared.marketplaces.bigcommerce.client import BigCommerceClient
from shared.marketplaces.etsy.client import EtsyClient
from shared.settings import Settings
from tests.inprocess import serve

TARGET = 0.05
OPEN_RATE = 10_000.0  # our client's token bucket, per second: calls are counted here, not timed
# One process with no database of its own: its rate budget is in memory (the shared one needs Postgres).
ONE_PROCESS = "memory"

Sync = Callable[[str | None], Awaitable[str | None]]


@contextlib.contextmanager
def _served(app, name: str) -> Iterator[str]:
    running = serve(app, name)
    try:
        yield next(running)
    finally:
        running.close()


async def _imported(pages: AsyncIterator[OrderPage], seen: set[str]) -> str | None:
    """Drain a sync's pages; returns the last checkpoint a page carried."""
    cursor = None
    async for page in pages:
        seen.update(o.external_id for o in page.orders)
        cursor = page.cursor or cursor
    return cursor


async def _measure(control: httpx.AsyncClient, prefix: str, place: Callable[[int], Awaitable[None]],
                   sync: Sync, orders: int, seen: set[str]) -> dict:
    """Place half the orders, first sync, place the rest, incremental sync; count the logged calls."""
    await control.delete("requests")
    first = orders // 2
    await place(first)
    cursor = await sync(None)
    await place(orders - first)
    await sync(cursor)
    log = (await control.get("requests", params={"path_prefix": prefix})).json()
    calls = int(log["count"])
    return {"orders": orders, "imported": len(seen), "calls": calls, "calls_per_order": calls / max(1, len(seen)),
            "target": TARGET, "pass": len(seen) == orders and calls / max(1, len(seen)) <= TARGET}


async def _etsy(orders: int) -> dict:
    with _served(etsy_app(), "Etsy sandbox") as url:
        async with httpx.AsyncClient(base_url=f"{url}/_sandbox/etsy/", timeout=60) as control:
            await control.put("settings", json={"rate_per_second": OPEN_RATE, "rate_per_day": 10_000_000})
            shop = (await control.post("shops", json={"shop_name": "BenchShop"})).json()
            token = (await control.post("tokens", json={"user_id": shop["user_id"]})).json()["access_token"]
            settings = Settings(etsy_api_url=url, etsy_client_id=ETSY_CLIENT_ID, etsy_client_secret=ETSY_SECRET,
                                etsy_rate_per_second=OPEN_RATE, marketplace_rate_storage=ONE_PROCESS)
            seen: set[str] = set()

            async def place(count: int) -> None:
                (await control.post(f"shops/{shop['shop_id']}/receipts", json={"count": count})).raise_for_status()

            async def sync(cursor: str | None) -> str | None:
                started = datetime.now(UTC)
                async with EtsyClient(settings, _static(token), shop_id=str(shop["shop_id"])) as client:
                    await _imported(client.paid_unshipped_orders(SyncWindow(cursor=cursor)), seen)
                    return client.next_cursor(started)

            return await _measure(control, "/v3/application/", place, sync, orders, seen)


async def _bigcommerce(orders: int) -> dict:
    with _served(bigcommerce_app(), "BigCommerce sandbox") as url:
        async with httpx.AsyncClient(base_url=f"{url}/_sandbox/bigcommerce/", timeout=60) as control:
            await control.put("settings", json={"rate_limit_quota": 10_000_000})
            store = (await control.post("stores", json={"name": "Bench store"})).json()
            account = (await control.post(f"stores/{store['store_hash']}/api_accounts", json={})).json()
            settings = Settings(bigcommerce_api_url=url, bigcommerce_rate_per_second=OPEN_RATE,
                                marketplace_rate_storage=ONE_PROCESS)
            seen: set[str] = set()

            async def place(count: int) -> None:
                while count > 0:
                    batch = min(count, 1000)
                    (await control.post(f"stores/{store['store_hash']}/orders",
                                        json={"count": batch, "emit_webhooks": False})).raise_for_status()
                    count -= batch

            async def sync(cursor: str | None) -> str | None:
                started = datetime.now(UTC)
                async with BigCommerceClient(settings, _static(account["access_token"]),
                                             shop_id=store["store_hash"]) as client:
                    await _imported(client.paid_unshipped_orders(SyncWindow(cursor=cursor)), seen)
                    return client.next_cursor(started)

            return await _measure(control, "/stores/", place, sync, orders, seen)


async def _allegro(orders: int) -> dict:
    with _served(allegro_app(), "Allegro sandbox") as url:
        async with httpx.AsyncClient(base_url=f"{url}/_sandbox/allegro/", timeout=60) as control:
            await control.put("settings", json={"rate_per_minute": 10_000_000})
            seller = (await control.post("users", json={"login": "bench-seller"})).json()
            token = (await control.post("tokens", json={"user_id": seller["id"]})).json()["access_token"]
            settings = Settings(allegro_api_url=url, allegro_client_id=ALLEGRO_CLIENT_ID,
                                allegro_client_secret=ALLEGRO_SECRET, allegro_rate_per_second=OPEN_RATE,
                                marketplace_rate_storage=ONE_PROCESS)
            connected_at = datetime.now(UTC)
            seen: set[str] = set()

            async def place(count: int) -> None:
                while count > 0:
                    batch = min(count, 1000)
                    (await control.post(f"users/{seller['id']}/checkout-forms", json={"count": batch})).raise_for_status()
                    count -= batch

            async def sync(cursor: str | None) -> str | None:
                async with AllegroClient(settings, _static(token), shop_id=seller["id"]) as client:
                    checkpoint = await _imported(client.paid_unshipped_orders(SyncWindow(cursor=cursor)), seen)
                    if cursor is None:  # the first sync: the sweep from the connection time (OrderSync's rule)
                        await _imported(client.recently_updated_orders(connected_at), seen)
                    return checkpoint or cursor

            return await _measure(control, "/order/", place, sync, orders, seen)


def _static(token: str):
    async def provide(_force_refresh: bool = False) -> str:
        return token
    return provide


async def calls_per_order(orders: int) -> dict[str, dict]:
    """Each marketplace's bulk-sync cost, one after the other."""
    return {"etsy": await _etsy(orders), "bigcommerce": await _bigcommerce(orders), "allegro": await _allegro(orders)}


def render(results: dict[str, dict]) -> str:
    lines = [f"calls per order (bulk ingestion, target <= {TARGET})",
             f"  {'marketplace':<12} {'orders':>7} {'calls':>6} {'calls/order':>12}  result"]
    for name, r in results.items():
        verdict = "PASS" if r["pass"] else ("FAIL" if r["imported"] == r["orders"] else "FAIL (orders missing)")
        lines.append(f"  {name:<12} {r['imported']:>7} {r['calls']:>6} {r['calls_per_order']:>12.4f}  {verdict}")
    return "\n".join(lines)
