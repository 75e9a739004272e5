"""Paging `GET /v1/orders` with the shared cursor codec."""

from __future__ import annotations

from tests.e2e.world import Merchant


async def test_orders_page_by_cursor_and_a_foreign_cursor_is_422_naming_it(gateway, bigcommerce):
    merchant = await Merchant.create(gateway)
    store, account = await bigcommerce.new_store()
    for _ in range(3):
        await bigcommerce.add_orders(store["store_hash"], status_id=11, emit_webhooks=False)
    connection = await merchant.connect_bigcommerce(account)
    await merchant.wait_for_sync(connection["id"])

    seen, cursor = [], None
    while True:
        page = await merchant.call("GET", "/v1/orders", params={"connection_id": connection["id"], "limit": 1,
                                                                **({"cursor": cursor} if cursor else {})})
        seen += [order["id"] for order in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert len(seen) == len(set(seen)) == 3

    refused = await gateway.get("/v1/orders", params={"cursor": "not-a-cursor"}, headers=merchant.headers)
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["cursor"]
