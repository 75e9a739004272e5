"""Orders placed between connecting and the first sync all arrive, and a bulk sync stays within
0.05 marketplace calls per order, counted in each sandbox's request log (calls, not time).

The first sync is held back deterministically: the connection is created with auto import off, so the
scheduler's first run is skipped (it takes no cursor); orders are placed; then a manual sync runs.
"""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

from tests.e2e.world import Merchant

MAX_CALLS_PER_ORDER = 0.05
HELD_BACK = {"settings": {"auto_import_orders": False}}


async def _approve(merchant: Merchant, sandbox, marketplace: str, user_id) -> dict:
    """An OAuth connection with auto import off from before it becomes active."""
    pending = await merchant.call("POST", "/v1/connections", 201, json={"marketplace": marketplace,
                                                                        "merchant_id": merchant.id})
    await merchant.call("PATCH", f"/v1/connections/{pending['id']}", json=HELD_BACK)
    await sandbox.control("PUT", "/settings", json={"approving_user_id": user_id})
    approval = await sandbox.http.get(pending["authorization_url"], follow_redirects=False)
    callback = urlsplit(approval.headers["location"])
    landed = await merchant.gateway.get(callback.path, params={k: v[0] for k, v in parse_qs(callback.query).items()})
    assert landed.status_code == 200, landed.text
    await merchant.wait_for_sync(pending["id"])  # the scheduler's first run: skipped, nothing read
    assert (await merchant.sync_status(pending["id"]))["last_outcome"] == "skipped"
    return landed.json()


async def _allegro_seller(allegro) -> dict:
    return await allegro.control("POST", "/users", json={"login": f"seller-{uuid.uuid4().hex[:6]}"})


async def _allegro_forms(allegro, seller_id: str, **body) -> list[str]:
    ids: list[str] = []
    while len(ids) < body.get("count", 1):
        batch = {**body, "count": min(body.get("count", 1) - len(ids), 1000)}
        ids += (await allegro.control("POST", f"/users/{seller_id}/checkout-forms", json=batch))["ids"]
    return ids


async def _allegro_calls(allegro, seller_id: str) -> list[dict]:
    log = (await allegro.control("GET", "/requests", params={"path_prefix": "/order/"}))["requests"]
    return [e for e in log if e.get("user_id") == seller_id]


async def _calls(sandbox, prefix: str) -> list[dict]:
    return await sandbox.requests(prefix)


# --------------------------------------------------------------------------- placed before the first sync


async def test_allegro_orders_placed_between_connecting_and_the_first_sync_are_all_imported(gateway, allegro):
    merchant = await Merchant.create(gateway)
    seller = await _allegro_seller(allegro)
    before = await _allegro_forms(allegro, seller["id"])  # before connecting: history, not imported
    connection = await _approve(merchant, allegro, "allegro", seller["id"])

    placed = await _allegro_forms(allegro, seller["id"], count=5)
    state = await merchant.sync_now_and_wait(connection["id"])

    assert state["last_outcome"] == "ok", state
    orders = await merchant.orders_by_external_id(connection["id"])
    assert set(orders) == set(placed) and not set(before) & set(orders)
    assert {o["status"] for o in orders.values()} == {"paid"}

    later = await _allegro_forms(allegro, seller["id"], count=2)  # the journal carries on from there
    await merchant.sync_now_and_wait(connection["id"])
    assert set(await merchant.orders_by_external_id(connection["id"])) == {*placed, *later}


async def test_an_allegro_order_whose_journal_event_is_lost_is_found_by_a_manual_sync(gateway, allegro):
    """The sweep under the journal runs every order_sweep_interval_s, and whenever a merchant asks."""
    merchant = await Merchant.create(gateway)
    seller = await _allegro_seller(allegro)
    connection = await _approve(merchant, allegro, "allegro", seller["id"])
    await merchant.sync_now_and_wait(connection["id"])

    [lost] = await _allegro_forms(allegro, seller["id"], emitEvents=False)
    state = await merchant.sync_now_and_wait(connection["id"])

    assert state["last_outcome"] == "ok", state
    assert set(await merchant.orders_by_external_id(connection["id"])) == {lost}


async def test_etsy_orders_placed_between_connecting_and_the_first_sync_are_all_imported(gateway, etsy):
    merchant = await Merchant.create(gateway)
    shop = await etsy.new_shop(f"window-{uuid.uuid4().hex[:6]}")
    connection = await _approve(merchant, etsy, "etsy", shop["user_id"])

    placed = await etsy.add_receipts(shop["shop_id"], count=5)
    state = await merchant.sync_now_and_wait(connection["id"])

    assert state["last_outcome"] == "ok", state
    assert set(await merchant.orders_by_external_id(connection["id"])) == {str(r) for r in placed}


async def test_bigcommerce_orders_placed_between_connecting_and_the_first_sync_are_all_imported(gateway, bigcommerce):
    merchant = await Merchant.create(gateway)
    store, account = await bigcommerce.new_store()
    connection = await merchant.connect_bigcommerce(account)  # active at once: no pending step to hold it
    await merchant.call("PATCH", f"/v1/connections/{connection['id']}", json=HELD_BACK)
    await merchant.wait_for_sync(connection["id"])  # usually skipped; if it ran first, the window is after it

    placed = await bigcommerce.add_orders(store["store_hash"], count=5, emit_webhooks=False)
    state = await merchant.sync_now_and_wait(connection["id"])

    assert state["last_outcome"] == "ok", state
    assert set(await merchant.orders_by_external_id(connection["id"])) == {str(o) for o in placed}


# --------------------------------------------------------------------------- calls per order


async def test_allegro_bulk_sync_costs_at_most_005_calls_per_order_first_sweep_and_journal(gateway, allegro):
    merchant = await Merchant.create(gateway)
    seller = await _allegro_seller(allegro)
    connection = await _approve(merchant, allegro, "allegro", seller["id"])

    first = await _allegro_forms(allegro, seller["id"], count=500)
    spent_before = len(await _allegro_calls(allegro, seller["id"]))
    await merchant.sync_now_and_wait(connection["id"])  # journal head + the sweep from connecting
    first_run = len(await _allegro_calls(allegro, seller["id"])) - spent_before

    second = await _allegro_forms(allegro, seller["id"], count=500)  # now through the journal
    await merchant.sync_now_and_wait(connection["id"])
    second_run = len(await _allegro_calls(allegro, seller["id"])) - spent_before - first_run

    orders = await merchant.orders_by_external_id(connection["id"])
    assert set(orders) == {*first, *second}
    assert first_run / 500 <= MAX_CALLS_PER_ORDER, first_run
    assert second_run / 500 <= MAX_CALLS_PER_ORDER, second_run


async def test_etsy_bulk_sync_costs_at_most_005_calls_per_order(gateway, etsy):
    merchant = await Merchant.create(gateway)
    shop = await etsy.new_shop(f"bulk-{uuid.uuid4().hex[:6]}")
    connection = await _approve(merchant, etsy, "etsy", shop["user_id"])
    prefix = f"/v3/application/shops/{shop['shop_id']}/receipts"
    placed = await etsy.add_receipts(shop["shop_id"], count=500)
    spent_before = len(await _calls(etsy, prefix))

    await merchant.sync_now_and_wait(connection["id"])

    assert len(await merchant.orders_by_external_id(connection["id"])) == len(placed) == 500
    spent = len(await _calls(etsy, prefix)) - spent_before
    assert spent / 500 <= MAX_CALLS_PER_ORDER, spent


async def test_bigcommerce_bulk_sync_costs_at_most_005_calls_per_order(gateway, bigcommerce):
    merchant = await Merchant.create(gateway)
    store, account = await bigcommerce.new_store()
    connection = await merchant.connect_bigcommerce(account)
    await merchant.call("PATCH", f"/v1/connections/{connection['id']}", json=HELD_BACK)
    await merchant.wait_for_sync(connection["id"])  # usually skipped; if it ran first, the window is after it
    prefix = f"/stores/{store['store_hash']}/v2/orders"
    placed = await bigcommerce.add_orders(store["store_hash"], count=500, emit_webhooks=False)
    spent_before = len(await _calls(bigcommerce, prefix))

    await merchant.sync_now_and_wait(connection["id"])

    assert len(await merchant.orders_by_external_id(connection["id"])) == len(placed) == 500
    spent = len(await _calls(bigcommerce, prefix)) - spent_before
    assert spent / 500 <= MAX_CALLS_PER_ORDER, spent
