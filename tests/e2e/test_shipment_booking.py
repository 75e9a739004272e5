"""Booking shipments through the gateway: quantities summed per line, bookings serialised per order,
Idempotency-Key bound to the order and body it was first used with."""

from __future__ import annotations

import asyncio
import uuid

import sqlalchemy as sa

from services.fulfilment.consumers import order_cancelled
from shared.db import create_engine_for_schema, session_factory
from shared.events import make_event
from shared.events.payloads import OrderCancelled
from tests.conftest import eventually
from tests.e2e.world import Merchant, wait_until


async def _orders(gateway, bigcommerce, *quantities: int, count: int = 1):
    """A merchant with `count` synced BigCommerce orders, each of one line per quantity.

    Returns (merchant, orders in BigCommerce id order, store hash, BigCommerce ids)."""
    merchant = await Merchant.create(gateway)
    store, account = await bigcommerce.new_store()
    products = [{"name": f"Item {i}", "sku": f"SKU-{i}", "quantity": q} for i, q in enumerate(quantities)]
    bc_ids = [(await bigcommerce.add_orders(store["store_hash"], status_id=11, emit_webhooks=False,
                                            products=products))[0] for _ in range(count)]
    connection = await merchant.connect_bigcommerce(account)
    await merchant.wait_for_sync(connection["id"])
    by_external = await merchant.orders_by_external_id(connection["id"])
    return merchant, [by_external[str(i)] for i in bc_ids], store["store_hash"], bc_ids


def _shipment(tracking: str, *lines: tuple[str, int]) -> dict:
    return {"carrier": "UPS", "tracking_number": tracking,
            "lines": [{"order_line_external_id": line, "quantity": quantity} for line, quantity in lines]}


async def test_repeated_line_ids_are_summed_against_what_is_left(gateway, bigcommerce):
    merchant, [order], _, _ = await _orders(gateway, bigcommerce, 1, 2)
    one, two = (line["external_id"] for line in order["lines"])
    path = f"/v1/orders/{order['id']}/shipments"

    five_copies = await gateway.post(path, headers=merchant.headers, json=_shipment("1Z1", *[(one, 1)] * 5))
    assert five_copies.status_code == 422, five_copies.text
    problem = five_copies.json()
    assert problem["detail"].startswith("lines.1.quantity: only 1 left to ship")
    assert problem["errors"][0]["field"] == "lines.1.quantity"

    await merchant.call("POST", path, 201, json=_shipment("1Z2", (two, 1), (two, 1)))
    over = await gateway.post(path, headers=merchant.headers, json=_shipment("1Z3", (one, 1), (two, 1)))
    assert over.status_code == 422 and over.json()["errors"][0]["field"] == "lines.1.quantity", over.text
    assert len((await merchant.call("GET", f"/v1/orders/{order['id']}"))["shipments"]) <= 1


async def test_after_a_whole_order_shipment_no_line_is_left_to_book(gateway, bigcommerce):
    merchant, [order], _, _ = await _orders(gateway, bigcommerce, 2)
    path = f"/v1/orders/{order['id']}/shipments"
    await merchant.call("POST", path, 201, json={"carrier": "UPS", "tracking_number": "1Z-ALL"})
    again = await gateway.post(path, headers=merchant.headers,
                               json=_shipment("1Z-ONE", (order["lines"][0]["external_id"], 1)))
    assert again.status_code == 422 and again.json()["detail"].startswith("lines.0.quantity: only 0 left"), again.text


async def test_two_concurrent_bookings_of_the_last_unit_book_it_once(gateway, bigcommerce):
    merchant, [order], _, _ = await _orders(gateway, bigcommerce, 1)
    line = order["lines"][0]["external_id"]
    path = f"/v1/orders/{order['id']}/shipments"
    answers = await asyncio.gather(*(gateway.post(path, headers=merchant.headers, json=_shipment(f"1Z{i}", (line, 1)))
                                     for i in range(2)))
    assert sorted(a.status_code for a in answers) == [201, 422], [a.text for a in answers]

    async def booked_in_orders():
        return (await merchant.call("GET", f"/v1/orders/{order['id']}"))["shipments"]
    assert len(await wait_until(booked_in_orders, what="shipment in the order")) == 1


async def test_a_booking_racing_a_cancellation_never_leaves_a_shipment_on_a_cancelled_order(gateway, bigcommerce):
    """Cancelling is the orders service's, booking fulfilment's: they cannot share a lock. A booking that lands
    while the cancellation is at the marketplace is withdrawn when `order.cancelled` reaches fulfilment, its
    tracking never pushed; the order reads cancelled with that shipment cancelled."""
    merchant, [order], store_hash, [bc_id] = await _orders(gateway, bigcommerce, 1)
    order_path = f"/stores/{store_hash}/v2/orders/{bc_id}"
    # Pushes of a booked shipment fail for now (so BigCommerce itself cannot refuse the cancellation as
    # shipped), and the marketplace takes its time over the cancellation: the booking arrives while it is
    # in flight.
    await bigcommerce.control("POST", "/faults", json={"kind": "server_error", "count": 1000,
                                                       "path_prefix": f"{order_path}/"})
    fault = await bigcommerce.control("POST", "/faults", json={"kind": "slow", "delay_s": 2.0, "path_prefix": order_path})
    cancel = asyncio.create_task(gateway.post(f"/v1/orders/{order['id']}/cancel", headers=merchant.headers, json={}))

    async def cancellation_in_flight_at_the_marketplace():  # the slow fault is taken when the request arrives
        return fault["fault_id"] not in [f["fault_id"] for f in (await bigcommerce.control("GET", "/faults"))["results"]]
    await wait_until(cancellation_in_flight_at_the_marketplace, interval=0.02, what="the cancellation reaching BigCommerce")
    booking = await gateway.post(f"/v1/orders/{order['id']}/shipments", headers=merchant.headers,
                                 json={"carrier": "UPS", "tracking_number": "1Z-RACE"})
    cancelled = await cancel

    # The orders service checked for shipments before calling the marketplace, and fulfilment learns of the
    # cancellation only from `order.cancelled`: the booking is taken, then withdrawn.
    assert (cancelled.status_code, booking.status_code) == (204, 201), (cancelled.text, booking.text)
    shipment = booking.json()

    async def withdrawn():
        return (await merchant.call("GET", f"/v1/shipments/{shipment['id']}"))["status"] == "cancelled"
    await eventually(withdrawn, timeout=30)

    async def order_reads_it_cancelled():
        read = await merchant.call("GET", f"/v1/orders/{order['id']}")
        return read["status"] == "cancelled" and [s["status"] for s in read["shipments"]] == ["cancelled"]
    await eventually(order_reads_it_cancelled, timeout=30)
    assert (await bigcommerce.control("GET", f"/stores/{store_hash}/shipments"))["results"] == []
    again = await gateway.post(f"/v1/orders/{order['id']}/shipments", headers=merchant.headers,
                               json={"carrier": "UPS", "tracking_number": "1Z-AFTER"})
    assert again.status_code == 409 and again.json()["type"].endswith("/order-cancelled"), again.text
    await bigcommerce.control("DELETE", "/faults")


async def test_an_order_whose_shipment_the_orders_service_knows_is_not_cancelled(gateway, bigcommerce):
    """The orders service decides from its projection of fulfilment's shipments: once `shipment.booked`
    has reached it, the cancellation is refused before the marketplace is asked."""
    merchant, [order], store_hash, [bc_id] = await _orders(gateway, bigcommerce, 1)
    await merchant.call("POST", f"/v1/orders/{order['id']}/shipments", 201,
                        json={"carrier": "UPS", "tracking_number": "1Z-KNOWN"})

    async def shipment_known_to_orders():
        return (await merchant.call("GET", f"/v1/orders/{order['id']}"))["shipments"] != []
    await eventually(shipment_known_to_orders)

    refused = await gateway.post(f"/v1/orders/{order['id']}/cancel", headers=merchant.headers, json={})
    assert refused.status_code == 409 and refused.json()["type"].endswith("/order-shipped"), refused.text
    assert (await bigcommerce.control("GET", f"/stores/{store_hash}/orders/{bc_id}"))["status_id"] != 5


async def test_a_booking_waits_for_an_order_cancelled_being_applied_and_is_refused(gateway, bigcommerce, settings):
    merchant, [order], _, _ = await _orders(gateway, bigcommerce, 1)
    cancelled = OrderCancelled(order_id=order["id"], merchant_id=order["merchant_id"],
                               connection_id=order["connection_id"], marketplace="bigcommerce",
                               external_id=order["external_id"], reason="cancelled at the store")
    event = make_event("test", cancelled, subject=order["id"], tenant_id=order["merchant_id"], aggregate_version=2)
    engine = create_engine_for_schema(settings.database_url, "fulfilment", pool_size=2)
    try:
        async with session_factory(engine)() as consumer:
            # The fulfilment consumer applying order.cancelled, caught before its commit.
            await order_cancelled(consumer, event, cancelled)
            consumer_pid = await consumer.scalar(sa.text("SELECT pg_backend_pid()"))
            booking = asyncio.create_task(gateway.post(
                f"/v1/orders/{order['id']}/shipments", headers=merchant.headers,
                json={"carrier": "UPS", "tracking_number": f"1Z-{uuid.uuid4().hex[:6]}"}))

            async def booking_waits_for_the_cancellation():
                async with engine.connect() as conn:
                    return await conn.scalar(sa.text(
                        "SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"),
                        {"pid": consumer_pid}) > 0
            await eventually(booking_waits_for_the_cancellation, timeout=15)
            await consumer.commit()
        answer = await booking
    finally:
        await engine.dispose()
    assert answer.status_code == 409 and answer.json()["type"].endswith("/order-cancelled"), answer.text


async def test_idempotency_key_replays_the_same_request_and_refuses_another(gateway, bigcommerce):
    merchant, [order, second], _, _ = await _orders(gateway, bigcommerce, 3, count=2)
    line = order["lines"][0]["external_id"]
    path = f"/v1/orders/{order['id']}/shipments"
    key = {"Idempotency-Key": f"ship-{order['id']}"}

    first = await merchant.call("POST", path, 201, headers=key, json=_shipment("1Z1", (line, 1)))
    # The same request again, its body spelled differently (key order, spacing): the first answer, no new shipment.
    again = await merchant.call("POST", path, 200, headers={**key, "content-type": "application/json"},
                                content=f'{{"lines": [{{"quantity": 1, "order_line_external_id": "{line}"}}], '
                                        f'"tracking_number": "1Z1",   "carrier": "UPS"}}')
    assert again["id"] == first["id"]

    other_body = await gateway.post(path, headers={**merchant.headers, **key}, json=_shipment("1Z2", (line, 1)))
    assert other_body.status_code == 422, other_body.text
    assert other_body.json()["detail"].startswith("Idempotency-Key:")
    assert other_body.json()["errors"][0] == {"field": "Idempotency-Key", "location": "header",
                                              "message": other_body.json()["errors"][0]["message"]}
    other_order = await gateway.post(f"/v1/orders/{second['id']}/shipments", headers={**merchant.headers, **key},
                                     json=_shipment("1Z1", (second["lines"][0]["external_id"], 1)))
    assert other_order.status_code == 422 and other_order.json()["errors"][0]["field"] == "Idempotency-Key"

    # Neither refused request booked anything: the two units the first left are still there to ship.
    await merchant.call("POST", path, 201, json=_shipment("1Z3", (line, 2)))


async def test_a_blank_idempotency_key_is_refused_not_matched_to_another_booking(gateway, bigcommerce):
    """Found by schemathesis: an empty key was stored and a second empty key replayed the first shipment."""
    merchant, [order], _, _ = await _orders(gateway, bigcommerce, 3)
    line = order["lines"][0]["external_id"]
    path = f"/v1/orders/{order['id']}/shipments"
    for _ in range(2):  # a header of only spaces reaches the service empty too (HTTP strips surrounding space)
        refused = await gateway.post(path, headers={**merchant.headers, "Idempotency-Key": ""},
                                     json=_shipment("1Z9", (line, 1)))
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"].lower().endswith("idempotency-key"), refused.text
    # Nothing was booked: all three units are still there to ship.
    await merchant.call("POST", path, 201, json=_shipment("1Z8", (line, 3)))
