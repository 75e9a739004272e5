"""BigCommerce end to end through the gateway: API-account connect, ingest, webhooks, partial shipments."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from tests.e2e.world import EventLog, Merchant, wait_until

PAID_UNSHIPPED = (11, 9)
OTHER_STATUSES = (0, 1, 7, 2, 5, 10, 4)  # incomplete, pending, awaiting payment, shipped, cancelled, completed, refunded


async def test_connect_ingest_exactly_the_paid_unshipped_orders_and_ship_partially(gateway, bigcommerce, broker):
    merchant = await Merchant.create(gateway)
    store, account = await bigcommerce.new_store()
    paid = []
    # The test stack pages BigCommerce 50 at a time (CB_BIGCOMMERCE_PAGE_SIZE): several pages per status.
    paid += await bigcommerce.add_orders(store["store_hash"], count=70, status_id=11, emit_webhooks=False)
    paid += await bigcommerce.add_orders(store["store_hash"], count=55, status_id=9, emit_webhooks=False)
    for status in OTHER_STATUSES:
        await bigcommerce.add_orders(store["store_hash"], status_id=status, emit_webhooks=False)
    [two_lines] = await bigcommerce.add_orders(store["store_hash"], status_id=11, emit_webhooks=False, billing_address=None,
                                               products=[{"name": "Mug", "sku": "MUG", "quantity": 2, "price_ex_tax": "9.50",
                                                          "options": [{"display_name": "Colour", "display_value": "Red"}]},
                                                         {"name": "Plate", "sku": "PLATE", "quantity": 1}])
    paid.append(two_lines)

    connection = await merchant.connect_bigcommerce(account)
    assert connection["status"] == "active" and connection["shop_id"] == store["store_hash"]
    assert connection["missing_scopes"] == [] and len(connection["granted_scopes"]) >= 4

    state = await merchant.wait_for_sync(connection["id"], timeout=180)
    assert state["last_outcome"] == "ok", state
    orders = await merchant.orders_by_external_id(connection["id"])
    assert set(orders) == {str(i) for i in paid}

    order = orders[str(two_lines)]
    assert order["billing_copied_from_shipping"] is True and order["billing_address"] == order["shipping_address"]
    assert [(line["sku"], line["quantity"]) for line in order["lines"]] == [("MUG", 2), ("PLATE", 1)]
    assert order["lines"][0]["variations"] == {"Colour": "Red"}
    assert Decimal(order["lines"][0]["unit_price"]) == Decimal("9.50")
    with_billing = orders[str(paid[0])]
    assert with_billing["billing_copied_from_shipping"] is False

    async with EventLog(broker.bootstrap_servers, "order.paid", "order.fulfilled") as events:
        await events.wait_for("order.paid", len(paid), timeout=120, connection_id=connection["id"])
        mug = order["lines"][0]["external_id"]
        first = await merchant.call("POST", f"/v1/orders/{order['id']}/shipments", 201, json={
            "carrier": "UPS", "tracking_number": "1Z999", "lines": [{"order_line_external_id": mug, "quantity": 1}]})
        [(_, partial)] = await events.wait_for("order.fulfilled", 1, order_id=order["id"])
        assert partial["data"]["fully_shipped"] is False
        bc_order = await bigcommerce.control("GET", f"/stores/{store['store_hash']}/orders/{two_lines}")
        assert bc_order["status_id"] == 3 and len(bc_order["shipments"]) == 1
        assert (await merchant.call("GET", f"/v1/orders/{order['id']}"))["status"] == "paid"

        over = await gateway.post(f"/v1/orders/{order['id']}/shipments", headers=merchant.headers, json={
            "carrier": "UPS", "tracking_number": "1Z998", "lines": [{"order_line_external_id": mug, "quantity": 2}]})
        assert over.status_code == 422 and "quantity" in over.json()["detail"]

        await merchant.call("POST", f"/v1/orders/{order['id']}/shipments", 201, json={
            "carrier": "UPS", "tracking_number": "1Z997", "lines": [
                {"order_line_external_id": mug, "quantity": 1},
                {"order_line_external_id": order["lines"][1]["external_id"], "quantity": 1}]})
        fulfilled = await events.wait_for("order.fulfilled", 2, order_id=order["id"])
        assert fulfilled[-1][1]["data"]["fully_shipped"] is True
    bc_order = await bigcommerce.control("GET", f"/stores/{store['store_hash']}/orders/{two_lines}")
    assert bc_order["status_id"] == 2 and len(bc_order["shipments"]) == 2
    assert first["id"]

    async def shipped():
        return (await merchant.call("GET", f"/v1/orders/{order['id']}"))["status"] == "shipped"
    await wait_until(shipped, what="order shipped")


async def test_missing_scopes_give_needs_attention_with_the_list(gateway, bigcommerce):
    merchant = await Merchant.create(gateway)
    _, account = await bigcommerce.new_store(scopes=["store_v2_orders", "store_v2_information_read_only"])
    connection = await merchant.connect_bigcommerce(account)
    assert connection["status"] == "needs_attention"
    assert set(connection["missing_scopes"]) >= {"store_v2_products", "store_inventory"}
    assert "store_v2_products" in connection["status_reason"]


async def test_malformed_api_path_and_refused_token_store_nothing(gateway, bigcommerce):
    merchant = await Merchant.create(gateway)
    _, account = await bigcommerce.new_store()
    bad_path = await gateway.post("/v1/connections", headers=merchant.headers, json={
        "marketplace": "bigcommerce", "merchant_id": merchant.id,
        "credentials": {**{k: account[k] for k in ("client_id", "client_secret", "access_token")},
                        "api_path": "https://api.bigcommerce.com/not-a-store/"}})
    assert bad_path.status_code == 422 and "credentials.api_path" in bad_path.json()["detail"]
    wrong_token = await gateway.post("/v1/connections", headers=merchant.headers, json={
        "marketplace": "bigcommerce", "merchant_id": merchant.id,
        "credentials": {**{k: account[k] for k in ("api_path", "client_id", "client_secret")}, "access_token": "nope"}})
    assert wrong_token.status_code == 422 and "credentials.access_token" in wrong_token.json()["detail"]
    assert (await merchant.call("GET", "/v1/connections"))["items"] == []


async def test_webhooks_bring_new_orders_duplicates_give_one_order_and_forgeries_are_rejected(gateway, bigcommerce, broker):
    merchant = await Merchant.create(gateway)
    store, account = await bigcommerce.new_store()
    connection = await merchant.connect_bigcommerce(account)
    await merchant.wait_for_sync(connection["id"])
    hooks = await bigcommerce.control("GET", f"/stores/{store['store_hash']}/hooks")
    assert {h["scope"] for h in hooks["results"]} >= {"store/order/created", "store/order/statusUpdated"}

    [order_id] = await bigcommerce.add_orders(store["store_hash"], status_id=11)  # delivered as store/order/created

    async def arrived():
        return [o for o in await merchant.orders(connection_id=connection["id"]) if o["external_id"] == str(order_id)]
    await wait_until(arrived, timeout=30, what="order delivered by webhook")

    deliveries = (await bigcommerce.control("GET", "/deliveries", params={"scope": "store/order/created"}))["results"]
    mine = [d for d in deliveries if d["destination"].endswith(connection["id"]) and d["body"]["data"]["id"] == order_id]
    assert mine and mine[0]["status"] == "delivered", mine
    for _ in range(2):
        await bigcommerce.control("POST", f"/deliveries/{mine[0]['delivery_id']}/replay")
    await asyncio.sleep(1.5)
    assert len(await arrived()) == 1
    async with EventLog(broker.bootstrap_servers, "order.paid") as events:
        await events.wait_for("order.paid", 1, connection_id=connection["id"])
        await events.settle()
        assert len(events.events("order.paid", connection_id=connection["id"])) == 1

    forged = await gateway.post(f"/v1/webhooks/bigcommerce/{connection['id']}",
                                headers={"X-ChannelBridge-Webhook-Secret": "guess"},
                                content=b'{"scope": "store/order/created", "data": {"type": "order", "id": 1}, "hash": "x"}')
    assert forged.status_code == 401

    await merchant.call("DELETE", f"/v1/connections/{connection['id']}", 204)
    hooks = await bigcommerce.control("GET", f"/stores/{store['store_hash']}/hooks")
    assert [h for h in hooks["results"] if h["destination"].endswith(connection["id"])] == [], "hooks removed on disconnect"


async def test_rate_limit_reset_is_respected_and_a_revoked_token_needs_reauth(gateway, bigcommerce):
    merchant = await Merchant.create(gateway)
    store, account = await bigcommerce.new_store()
    await bigcommerce.add_orders(store["store_hash"], count=3, status_id=11, emit_webhooks=False)
    connection = await merchant.connect_bigcommerce(account)
    await merchant.wait_for_sync(connection["id"])

    await bigcommerce.control("DELETE", "/requests")
    await bigcommerce.fault(kind="rate_limit", count=1, reset_ms=1500, path_prefix=f"/stores/{store['store_hash']}/v2/orders")
    state = await merchant.sync_now_and_wait(connection["id"])
    assert state["last_outcome"] == "ok", state
    log = (await bigcommerce.control("GET", "/requests"))["results"]
    limited = [i for i, r in enumerate(log) if r["status"] == 429]
    assert len(limited) == 1, "one 429, then a wait for the reset: never a storm"
    assert log[limited[0] + 1]["at"] - log[limited[0]]["at"] >= 1.4

    await bigcommerce.fault(kind="revoke_token", access_token=account["access_token"])
    state = await merchant.sync_now_and_wait(connection["id"])
    assert state["last_outcome"] == "needs_reauth", state

    async def needs_reauth():
        return (await merchant.call("GET", f"/v1/connections/{connection['id']}"))["status"] == "needs_reauth"
    await wait_until(needs_reauth, what="connection needs_reauth")


async def test_a_webhook_whose_order_fetch_is_rate_limited_for_long_answers_503_at_once(gateway, bigcommerce):
    """The order fetch behind a delivery gets a 429 with a 100 s reset: past the request budget, so the
    delivery is answered 503 at once (BigCommerce retries it later) instead of outliving BigCommerce's timeout."""
    merchant = await Merchant.create(gateway)
    store, account = await bigcommerce.new_store()
    connection = await merchant.connect_bigcommerce(account)
    await merchant.wait_for_sync(connection["id"])
    await bigcommerce.control("POST", "/faults", json={
        "kind": "rate_limit", "count": 1, "reset_ms": 100_000, "path_prefix": f"/stores/{store['store_hash']}/v2/orders/"})

    [order_id] = await bigcommerce.add_orders(store["store_hash"], status_id=11)  # delivered as store/order/created

    async def first_attempt():
        deliveries = (await bigcommerce.control("GET", "/deliveries", params={"scope": "store/order/created"}))["results"]
        mine = [d for d in deliveries if d["destination"].endswith(connection["id"]) and d["body"]["data"]["id"] == order_id]
        return mine[0]["attempts"][0] if mine and mine[0]["attempts"] else None
    attempt = await wait_until(first_attempt, timeout=30, what="the first delivery attempt")
    assert attempt["status"] == 503, attempt
