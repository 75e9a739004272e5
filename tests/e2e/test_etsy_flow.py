"""Etsy end to end through the gateway: real services, real Postgres and broker, the Etsy sandbox over HTTP."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

from tests.e2e.world import EventLog, Merchant, wait_until


async def _shop(etsy, name: str) -> dict:
    return await etsy.new_shop(f"{name}-{uuid.uuid4().hex[:6]}")


async def test_connect_ingest_publish_and_ship_through_the_gateway(gateway, etsy, broker):
    merchant = await Merchant.create(gateway)
    shop = await _shop(etsy, "flow")
    paid = await etsy.add_receipts(shop["shop_id"], name="Zoë Ætherington", buyer_email="zoe@example.com",
                                   transactions=[{"title": "Mug", "sku": "MUG-1", "quantity": 2, "price": "12.50",
                                                  "variations": [{"formatted_name": "Colour",
                                                                  "formatted_value": "Blue"}]}])
    await etsy.add_receipts(shop["shop_id"], is_paid=False)
    await etsy.add_receipts(shop["shop_id"], is_paid=True, is_shipped=True, status="completed")

    async with EventLog(broker.bootstrap_servers, "order.paid", "shipment.booked", "order.fulfilled") as events:
        connection = await merchant.connect_etsy(etsy, shop["user_id"])
        assert connection["status"] == "active" and connection["shop_id"] == str(shop["shop_id"])
        assert connection["shop_name"] == shop["shop_name"]
        listed = await merchant.call("GET", "/v1/connections")
        assert [c["status"] for c in listed["items"] if c["id"] == connection["id"]] == ["active"]

        await merchant.wait_for_sync(connection["id"])
        orders = await merchant.orders(connection_id=connection["id"])
        assert [o["external_id"] for o in orders] == [str(paid[0])]
        order = orders[0]
        assert order["status"] == "paid"
        assert (order["buyer"]["name"], order["buyer"]["email"]) == ("Zoë Ætherington", "zoe@example.com")
        assert order["billing_copied_from_shipping"] is True
        assert order["billing_address"] == order["shipping_address"]
        assert order["lines"][0]["sku"] == "MUG-1" and order["lines"][0]["quantity"] == 2
        assert Decimal(order["lines"][0]["unit_price"]) == Decimal("12.50")
        assert order["lines"][0]["variations"] == {"Colour": "Blue"}
        assert (await merchant.call("GET", f"/v1/orders/{order['id']}"))["id"] == order["id"]

        [(key, envelope)] = await events.wait_for("order.paid", 1, connection_id=connection["id"])
        assert key == order["id"].encode()
        assert envelope["specversion"] == "1.0" and envelope["subject"] == order["id"]
        assert envelope["tenantid"] == merchant.id and envelope["source"] and envelope["id"] and envelope["time"]
        assert envelope["data"]["buyer"]["email"] == "zoe@example.com"

        shipment = await merchant.call("POST", f"/v1/orders/{order['id']}/shipments", 201,
                                       json={"carrier": "Acme Parcel Co", "tracking_number": "9400111899223100001"})
        await events.wait_for("shipment.booked", 1, order_id=order["id"])
        await events.wait_for("order.fulfilled", 1, order_id=order["id"])

    pushed = await merchant.call("GET", f"/v1/shipments/{shipment['id']}")
    assert pushed["status"] == "pushed" and pushed["carrier_sent"] == "other"  # unknown carrier: not dropped
    tracking = await etsy.control("GET", f"/shops/{shop['shop_id']}/receipts/{paid[0]}/shipments")
    assert [(t["tracking_code"], t["carrier_name"]) for t in tracking["results"]] == [("9400111899223100001", "other")]
    assert "Acme Parcel Co" in tracking["results"][0]["note_to_buyer"]

    async def shipped():
        return (await merchant.call("GET", f"/v1/orders/{order['id']}"))["status"] == "shipped"
    await wait_until(shipped, what="order shipped")
    assert (await merchant.call("GET", f"/v1/orders/{order['id']}"))["shipments"][0]["tracking_number"] == \
        "9400111899223100001"


async def test_exactly_500_paid_unshipped_receipts_after_repeat_and_killed_syncs(gateway, etsy, broker, stack):
    merchant = await Merchant.create(gateway)
    shop = await _shop(etsy, "bulk")
    await etsy.add_receipts(shop["shop_id"], count=500)
    await etsy.add_receipts(shop["shop_id"], count=7, is_paid=False)
    await etsy.add_receipts(shop["shop_id"], count=5, is_shipped=True, status="completed")
    await etsy.add_receipts(shop["shop_id"], count=3, status="canceled", is_paid=False)
    await etsy.add_receipts(shop["shop_id"], count=2, status="completed", is_paid=False)  # completed but unpaid

    connection = await merchant.connect_etsy(etsy, shop["user_id"])
    first = await merchant.wait_for_sync(connection["id"], timeout=120)
    assert first["last_outcome"] == "ok", first
    assert len(await merchant.orders(connection_id=connection["id"])) == 500

    for _ in range(2):
        again = await merchant.sync_now_and_wait(connection["id"])
        assert again["last_outcome"] == "ok" and again["last_counts"].get("created", 0) == 0, again

    # A sync killed midway: slow every receipts page down, kill the orders service mid-run, restart it.
    await etsy.add_receipts(shop["shop_id"], count=150)
    await etsy.fault(kind="slow", count=3, delay_s=1.5, path_prefix=f"/v3/application/shops/{shop['shop_id']}/receipts")
    runs = (await merchant.sync_status(connection["id"]))["runs"]
    await merchant.call("POST", f"/v1/connections/{connection['id']}/sync", 202)

    async def running():
        state = await merchant.sync_status(connection["id"])
        return state["runs"] > runs and state["last_outcome"] == "running" and state["running"]
    await wait_until(running, what="sync running")
    await asyncio.sleep(1.0)
    stack.kill("orders")
    stack.restart("orders")
    interrupted = await merchant.sync_status(connection["id"])
    assert interrupted["last_outcome"] == "interrupted" and not interrupted["running"], interrupted
    await merchant.call("POST", f"/v1/connections/{connection['id']}/sync", 202)
    resumed = await merchant.wait_for_sync(connection["id"], after_runs=runs + 1, timeout=120)
    assert resumed["last_outcome"] == "ok", resumed

    orders = await merchant.orders(connection_id=connection["id"])
    assert len(orders) == 650 and len({o["external_id"] for o in orders}) == 650
    async with EventLog(broker.bootstrap_servers, "order.paid") as events:
        paid = await events.wait_for("order.paid", 650, timeout=120, connection_id=connection["id"])
        await asyncio.sleep(2.0)
        await events.poll()
        assert len(events.events("order.paid", connection_id=connection["id"])) == 650
    assert {key.decode() for key, _ in paid} == {o["id"] for o in orders}


async def test_expired_access_token_mid_sync_is_refreshed(gateway, etsy):
    merchant = await Merchant.create(gateway)
    shop = await _shop(etsy, "expiry")
    await etsy.add_receipts(shop["shop_id"], count=120)
    connection = await merchant.connect_etsy(etsy, shop["user_id"])
    await merchant.wait_for_sync(connection["id"])

    await etsy.add_receipts(shop["shop_id"], count=130)
    await etsy.fault(kind="expire_tokens")
    done = await merchant.sync_now_and_wait(connection["id"])
    assert done["last_outcome"] == "ok", done
    assert len(await merchant.orders(connection_id=connection["id"])) == 250
    token_calls = [r for r in await etsy.requests("/v3/public/oauth/token") if r["status"] == 200]
    assert token_calls, "the access token should have been refreshed"


async def test_revoked_grant_moves_connection_to_needs_reauth_without_crash_loop(gateway, etsy, broker):
    merchant = await Merchant.create(gateway)
    shop = await _shop(etsy, "revoked")
    await etsy.add_receipts(shop["shop_id"], count=3)
    connection = await merchant.connect_etsy(etsy, shop["user_id"])
    await merchant.wait_for_sync(connection["id"])

    async with EventLog(broker.bootstrap_servers, "connection.needs_reauth") as events:
        await etsy.fault(kind="revoke_grant", user_id=shop["user_id"])
        state = await merchant.sync_now_and_wait(connection["id"])
        assert state["last_outcome"] == "needs_reauth", state
        await events.wait_for("connection.needs_reauth", 1, connection_id=connection["id"])

        async def marked():
            conn = await merchant.call("GET", f"/v1/connections/{connection['id']}")
            sync = await merchant.sync_status(connection["id"])
            return conn["status"] == "needs_reauth" and sync["connection_status"] == "needs_reauth"
        await wait_until(marked, what="needs_reauth everywhere")
        calls_before = len(await etsy.requests(f"/v3/application/shops/{shop['shop_id']}"))
        await asyncio.sleep(3.0)
        assert len(await etsy.requests(f"/v3/application/shops/{shop['shop_id']}")) == calls_before
        await merchant.call("POST", f"/v1/connections/{connection['id']}/sync", 409)
        await events.poll()
        assert len(events.events("connection.needs_reauth", connection_id=connection["id"])) == 1
    assert len(await merchant.orders(connection_id=connection["id"])) == 3  # kept


async def test_rate_limit_bursts_and_server_errors_lose_no_receipt(gateway, etsy):
    merchant = await Merchant.create(gateway)
    shop = await _shop(etsy, "faults")
    await etsy.add_receipts(shop["shop_id"], count=260)
    prefix = f"/v3/application/shops/{shop['shop_id']}/receipts"
    await etsy.fault(kind="rate_limit", count=4, retry_after=1, path_prefix=prefix)
    await etsy.fault(kind="server_error", count=3, status=503, path_prefix=prefix)
    connection = await merchant.connect_etsy(etsy, shop["user_id"])
    state = await merchant.wait_for_sync(connection["id"], timeout=120)
    assert state["last_outcome"] == "ok", state
    assert len(await merchant.orders(connection_id=connection["id"])) == 260
    statuses = [r["status"] for r in await etsy.requests(prefix)]
    assert statuses.count(429) == 4 and statuses.count(503) == 3


async def test_changed_and_cancelled_receipts_emit_updated_and_cancelled_once(gateway, etsy, broker):
    merchant = await Merchant.create(gateway)
    shop = await _shop(etsy, "changes")
    changed, cancelled = await etsy.add_receipts(shop["shop_id"], count=2)
    connection = await merchant.connect_etsy(etsy, shop["user_id"])
    await merchant.wait_for_sync(connection["id"])

    await etsy.control("PATCH", f"/shops/{shop['shop_id']}/receipts/{changed}", json={"buyer_email": "new@example.com"})
    await etsy.control("PATCH", f"/shops/{shop['shop_id']}/receipts/{cancelled}", json={"status": "canceled"})
    await merchant.sync_now_and_wait(connection["id"])
    await merchant.sync_now_and_wait(connection["id"])

    by_external = await merchant.orders_by_external_id(connection["id"])
    assert by_external[str(changed)]["buyer"]["email"] == "new@example.com"
    assert by_external[str(cancelled)]["status"] == "cancelled"
    async with EventLog(broker.bootstrap_servers, "order.updated", "order.cancelled") as events:
        await events.wait_for("order.updated", 1, order_id=by_external[str(changed)]["id"])
        await events.wait_for("order.cancelled", 1, order_id=by_external[str(cancelled)]["id"])
        await events.settle()
        assert len(events.events("order.updated", order_id=by_external[str(changed)]["id"])) == 1
        assert len(events.events("order.cancelled", order_id=by_external[str(cancelled)]["id"])) == 1


async def test_receipt_the_seller_ships_on_etsy_becomes_shipped_with_one_update(gateway, etsy, broker):
    merchant = await Merchant.create(gateway)
    shop = await _shop(etsy, "shipped-elsewhere")
    shipped, waiting = await etsy.add_receipts(shop["shop_id"], count=2)
    connection = await merchant.connect_etsy(etsy, shop["user_id"])
    await merchant.wait_for_sync(connection["id"])

    # The seller marks it shipped on etsy.com, not through us.
    await etsy.control("PATCH", f"/shops/{shop['shop_id']}/receipts/{shipped}",
                       json={"is_shipped": True, "status": "completed"})
    await merchant.sync_now_and_wait(connection["id"])
    await merchant.sync_now_and_wait(connection["id"])

    by_external = await merchant.orders_by_external_id(connection["id"])
    assert by_external[str(shipped)]["status"] == "shipped"
    assert by_external[str(waiting)]["status"] == "paid"
    order_id = by_external[str(shipped)]["id"]
    async with EventLog(broker.bootstrap_servers, "order.updated") as events:
        await events.wait_for("order.updated", 1, order_id=order_id)
        await events.settle()
        updates = events.events("order.updated", order_id=order_id)
    assert len(updates) == 1 and updates[0][1]["data"]["status"] == "shipped", updates
    assert not events.events("order.updated", order_id=by_external[str(waiting)]["id"])


async def test_disconnect_destroys_access_keeps_orders_and_stops_syncing(gateway, etsy, broker):
    merchant = await Merchant.create(gateway)
    shop = await _shop(etsy, "bye")
    await etsy.add_receipts(shop["shop_id"], count=2)
    connection = await merchant.connect_etsy(etsy, shop["user_id"])
    await merchant.wait_for_sync(connection["id"])
    async with EventLog(broker.bootstrap_servers, "connection.disconnected") as events:
        await merchant.call("DELETE", f"/v1/connections/{connection['id']}", 204)
        await events.wait_for("connection.disconnected", 1, connection_id=connection["id"])
    assert (await merchant.call("GET", f"/v1/connections/{connection['id']}"))["status"] == "disconnected"

    async def sync_stopped():
        return (await merchant.sync_status(connection["id"]))["connection_status"] == "disconnected"
    await wait_until(sync_stopped, what="orders learned of the disconnect")
    await merchant.call("POST", f"/v1/connections/{connection['id']}/sync", 409)
    assert len(await merchant.orders(connection_id=connection["id"])) == 2


async def test_push_rejected_by_etsy_is_failed_with_reason_and_transient_errors_are_retried(gateway, etsy):
    merchant = await Merchant.create(gateway)
    shop = await _shop(etsy, "push")
    retried, rejected = await etsy.add_receipts(shop["shop_id"], count=2)
    connection = await merchant.connect_etsy(etsy, shop["user_id"])
    await merchant.wait_for_sync(connection["id"])
    by_external = await merchant.orders_by_external_id(connection["id"])

    await etsy.fault(kind="server_error", count=2, status=502,
                     path_prefix=f"/v3/application/shops/{shop['shop_id']}/receipts/{retried}/tracking")
    ok = await merchant.call("POST", f"/v1/orders/{by_external[str(retried)]['id']}/shipments", 201,
                             json={"carrier": "Royal Mail", "tracking_number": "RM123456789GB"})
    # Cancelled at Etsy after we imported it, before our next sync: Etsy refuses the tracking.
    await etsy.control("PATCH", f"/shops/{shop['shop_id']}/receipts/{rejected}", json={"status": "canceled"})
    bad = await merchant.call("POST", f"/v1/orders/{by_external[str(rejected)]['id']}/shipments", 201,
                              json={"carrier": "Acme Parcel Co", "tracking_number": "ACME-1"})

    async def settled():
        a = await merchant.call("GET", f"/v1/shipments/{ok['id']}")
        b = await merchant.call("GET", f"/v1/shipments/{bad['id']}")
        return (a, b) if a["status"] == "pushed" and b["status"] == "failed" else None
    _, failed = await wait_until(settled, timeout=90, what="pushes settled")
    tracking_path = f"/v3/application/shops/{shop['shop_id']}/receipts/{retried}/tracking"
    assert [r["status"] for r in await etsy.requests(tracking_path)] == [502, 502, 200]
    assert "cancel" in failed["failure_reason"].lower(), failed
    rejected_posts = await etsy.requests(f"/v3/application/shops/{shop['shop_id']}/receipts/{rejected}/tracking")
    assert [r["status"] for r in rejected_posts] == [409], "a rejection is never retried"

