"""A tracking push cut short by a fulfilment crash completes within about a lease of the restart, not minutes later."""

from __future__ import annotations

import uuid

from tests.e2e.world import Merchant, wait_until

LEASE_S = 15.0  # the default CB_WORK_LEASE_S; the lease used to be 120 s and not renewed


async def test_push_interrupted_by_a_killed_fulfilment_completes_within_a_lease_of_the_restart(gateway, etsy, stack):
    merchant = await Merchant.create(gateway)
    shop = await etsy.new_shop(f"lease-{uuid.uuid4().hex[:6]}")
    [receipt] = await etsy.add_receipts(shop["shop_id"])
    connection = await merchant.connect_etsy(etsy, shop["user_id"])
    await merchant.wait_for_sync(connection["id"])
    [order] = await merchant.orders(connection_id=connection["id"])

    # The first createReceiptShipment hangs at Etsy: the push is in flight when fulfilment dies.
    tracking_path = f"/v3/application/shops/{shop['shop_id']}/receipts/{receipt}/tracking"
    await etsy.fault(kind="slow", count=1, delay_s=100, path_prefix=tracking_path)
    shipment = await merchant.call("POST", f"/v1/orders/{order['id']}/shipments", 201,
                                   json={"carrier": "usps", "tracking_number": "9400111899223100002"})

    async def push_in_flight():
        return not (await etsy.control("GET", "/faults"))["results"]
    await wait_until(push_in_flight, what="push hanging at Etsy")
    stack.kill("fulfilment")
    stack.restart("fulfilment")

    async def pushed():
        return (await merchant.call("GET", f"/v1/shipments/{shipment['id']}"))["status"] == "pushed"
    # Within the lease plus the pusher's tick and some slack, well under the old 120 s lease.
    await wait_until(pushed, timeout=3 * LEASE_S, what="interrupted push completed")
