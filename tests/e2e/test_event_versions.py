"""Every order, connection and shipment event leaves its owner with the aggregate's next version."""

from __future__ import annotations

from tests.e2e.world import EventLog, Merchant

TOPICS = ("connection.connected", "connection.disconnected", "order.paid", "order.cancelled", "order.updated",
          "shipment.booked", "order.fulfilled")


def _versions(events: EventLog, event_type: str, **data_filter) -> list[int]:
    return [envelope["aggregateversion"] for _key, envelope in events.events(event_type, **data_filter)]


async def test_owners_number_each_aggregates_events_in_the_order_they_happened(gateway, bigcommerce, broker):
    merchant = await Merchant.create(gateway)
    store, account = await bigcommerce.new_store()
    to_cancel, to_ship = await bigcommerce.add_orders(store["store_hash"], count=2, status_id=11, emit_webhooks=False)
    async with EventLog(broker.bootstrap_servers, *TOPICS) as events:
        connection = await merchant.connect_bigcommerce(account)
        await merchant.wait_for_sync(connection["id"])
        orders = await merchant.orders_by_external_id(connection["id"])
        cancelled, shipped = orders[str(to_cancel)], orders[str(to_ship)]

        await merchant.call("POST", f"/v1/orders/{cancelled['id']}/cancel", 204, json={})
        shipment = await merchant.call("POST", f"/v1/orders/{shipped['id']}/shipments", 201,
                                       json={"carrier": "UPS", "tracking_number": "1Z-V"})
        await events.wait_for("order.updated", 1, order_id=shipped["id"])  # fulfilled, then marked shipped
        await merchant.call("DELETE", f"/v1/connections/{connection['id']}", 204)
        await events.wait_for("connection.disconnected", 1, connection_id=connection["id"])

        assert _versions(events, "connection.connected", connection_id=connection["id"]) == [1]
        assert _versions(events, "connection.disconnected", connection_id=connection["id"]) == [2]
        assert _versions(events, "order.paid", order_id=cancelled["id"]) == [1]
        assert _versions(events, "order.cancelled", order_id=cancelled["id"]) == [2]
        assert _versions(events, "order.paid", order_id=shipped["id"]) == [1]
        # Marked shipped on order.fulfilled (2); the next sync may see BigCommerce's new status text (3, …).
        updated = _versions(events, "order.updated", order_id=shipped["id"])
        assert updated == list(range(2, 2 + len(updated))), updated
        assert _versions(events, "shipment.booked", shipment_id=shipment["id"]) == [1]
        assert _versions(events, "order.fulfilled", shipment_id=shipment["id"]) == [2]
