"""The reported case: a NUL in a real order's shipment carrier was a 500 (Postgres refuses U+0000 in text)."""

from __future__ import annotations

import uuid

from tests.e2e.world import Merchant


async def test_nul_in_the_carrier_of_a_real_order_is_422_and_stores_nothing(gateway, etsy):
    merchant = await Merchant.create(gateway)
    shop = await etsy.new_shop(f"nul-{uuid.uuid4().hex[:6]}")
    await etsy.add_receipts(shop["shop_id"])
    connection = await merchant.connect_etsy(etsy, shop["user_id"])
    await merchant.wait_for_sync(connection["id"])
    [order] = await merchant.orders(connection_id=connection["id"])

    response = await gateway.post(f"/v1/orders/{order['id']}/shipments", headers=merchant.headers,
                                  json={"carrier": "DHL\u0000", "tracking_number": "JJD000390007"})

    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["carrier"]
    assert (await merchant.call("GET", f"/v1/orders/{order['id']}"))["shipments"] == []
