"""POST /v1/orders/{id}/cancel: done where the marketplace allows it, a clear 409 where it does not."""

from __future__ import annotations

import uuid

from tests.e2e.world import EventLog, Merchant


async def test_bigcommerce_order_is_cancelled_at_the_store_and_order_cancelled_emitted(gateway, bigcommerce, broker):
    merchant = await Merchant.create(gateway)
    store, account = await bigcommerce.new_store()
    [order_id] = await bigcommerce.add_orders(store["store_hash"], status_id=11, emit_webhooks=False)
    connection = await merchant.connect_bigcommerce(account)
    await merchant.wait_for_sync(connection["id"])
    [order] = await merchant.orders(connection_id=connection["id"])

    async with EventLog(broker.bootstrap_servers, "order.cancelled") as events:
        await merchant.call("POST", f"/v1/orders/{order['id']}/cancel", 204, json={"reason": "out of stock"})
        await events.wait_for("order.cancelled", 1, order_id=order["id"])
    assert (await bigcommerce.control("GET", f"/stores/{store['store_hash']}/orders/{order_id}"))["status_id"] == 5
    assert (await merchant.call("GET", f"/v1/orders/{order['id']}"))["status"] == "cancelled"
    refused = await gateway.post(f"/v1/orders/{order['id']}/shipments", headers=merchant.headers,
                                 json={"carrier": "UPS", "tracking_number": "1Z"})
    assert refused.status_code == 409


async def test_etsy_and_allegro_refuse_seller_cancellation_with_a_clear_reason(gateway, etsy, allegro):
    merchant = await Merchant.create(gateway)
    shop = await etsy.new_shop(f"cancel-{uuid.uuid4().hex[:6]}")
    await etsy.add_receipts(shop["shop_id"])
    etsy_connection = await merchant.connect_etsy(etsy, shop["user_id"])
    await merchant.wait_for_sync(etsy_connection["id"])
    [etsy_order] = await merchant.orders(connection_id=etsy_connection["id"])
    refused = await gateway.post(f"/v1/orders/{etsy_order['id']}/cancel", headers=merchant.headers, json={})
    assert refused.status_code == 409 and "etsy.com" in refused.json()["detail"]

    seller = await allegro.control("POST", "/users", json={"login": f"seller-{uuid.uuid4().hex[:6]}"})
    allegro_connection = await merchant.connect_allegro(allegro, seller["id"])
    await merchant.wait_for_sync(allegro_connection["id"])
    await allegro.control("POST", f"/users/{seller['id']}/checkout-forms", json={})
    await merchant.sync_now_and_wait(allegro_connection["id"])
    [allegro_order] = await merchant.orders(connection_id=allegro_connection["id"])
    refused = await gateway.post(f"/v1/orders/{allegro_order['id']}/cancel", headers=merchant.headers, json={})
    assert refused.status_code == 409 and "buyer" in refused.json()["detail"]
    assert (await merchant.call("GET", f"/v1/orders/{allegro_order['id']}"))["status"] == "paid"


async def test_cancel_answers_503_with_retry_after_when_the_store_asks_for_a_wait_longer_than_the_request_budget(
        gateway, bigcommerce):
    """BigCommerce answers the cancellation with 429 and a 100 s reset: past the 20 s request budget, so the
    merchant gets 503 with `Retry-After: 100` now (not the gateway's 504 after 30 s) and the order stays paid."""
    merchant = await Merchant.create(gateway)
    store, account = await bigcommerce.new_store()
    [order_id] = await bigcommerce.add_orders(store["store_hash"], status_id=11, emit_webhooks=False)
    connection = await merchant.connect_bigcommerce(account)
    await merchant.wait_for_sync(connection["id"])
    [order] = await merchant.orders(connection_id=connection["id"])
    await bigcommerce.control("POST", "/faults", json={
        "kind": "rate_limit", "count": 3, "reset_ms": 100_000,
        "path_prefix": f"/stores/{store['store_hash']}/v2/orders/{order_id}"})

    response = await gateway.post(f"/v1/orders/{order['id']}/cancel", headers=merchant.headers, json={})

    assert response.status_code == 503, response.text
    assert response.json()["type"].endswith("/marketplace-unavailable")
    assert response.headers["retry-after"] == "100"
    assert (await merchant.call("GET", f"/v1/orders/{order['id']}"))["status"] == "paid"
    assert (await bigcommerce.control("GET", f"/stores/{store['store_hash']}/orders/{order_id}"))["status_id"] == 11
