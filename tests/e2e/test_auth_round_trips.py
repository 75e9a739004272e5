"""A sync page or a tracking push costs no token round trip to auth in the common case: the orders and
fulfilment processes keep each connection's token until shortly before it expires.

Round trips are counted in auth's request log per connection (the access-token route carries the
connection id in its path; the session stack serves other tests' connections too).
"""

from __future__ import annotations

import json
import uuid

from tests.e2e.world import Merchant, wait_until


def _token_round_trips(stack, connection_id: str) -> int:
    path = f"/internal/connections/{connection_id}/access-token"
    lines = (stack.log_dir / "auth.log").read_text(errors="replace").splitlines()
    return sum(1 for line in lines if path in line and json.loads(line).get("path") == path)


async def _settle_at(stack, connection_id: str, expected: int) -> None:
    """Auth logs a request just after answering it, so a real round trip may show a moment late; one too
    many never settles back to `expected`."""
    async def settled() -> bool:
        return _token_round_trips(stack, connection_id) == expected
    await wait_until(settled, timeout=10.0, what=f"{expected} token round trips")


async def _receipt_pages(etsy, shop_id) -> int:
    return len(await etsy.requests(f"/v3/application/shops/{shop_id}/receipts"))


async def test_multi_page_syncs_and_tracking_pushes_ask_auth_for_a_token_once_per_process(gateway, etsy, stack):
    merchant = await Merchant.create(gateway)
    shop = await etsy.new_shop(f"tokens-{uuid.uuid4().hex[:6]}")
    await etsy.add_receipts(shop["shop_id"], count=120)
    connection = await merchant.connect_etsy(etsy, shop["user_id"])
    first = await merchant.wait_for_sync(connection["id"])
    assert first["last_outcome"] == "ok", first
    await _settle_at(stack, connection["id"], 1)  # the orders process's first token for this connection

    await etsy.add_receipts(shop["shop_id"], count=250)
    pages_before = await _receipt_pages(etsy, shop["shop_id"])
    again = await merchant.sync_now_and_wait(connection["id"])
    assert again["last_outcome"] == "ok" and again["last_counts"]["created"] == 250, again
    assert await _receipt_pages(etsy, shop["shop_id"]) - pages_before >= 3  # several pages, each with a token
    await _settle_at(stack, connection["id"], 1)  # … and none of them asked auth

    orders = await merchant.orders(connection_id=connection["id"])
    shipments = []
    for n, order in enumerate(orders[:3]):
        shipments.append(await merchant.call("POST", f"/v1/orders/{order['id']}/shipments", 201, json={
            "carrier": "usps", "tracking_number": f"94001118992231000{n:02d}"}))

        async def pushed(shipment_id=shipments[-1]["id"]) -> bool:
            return (await merchant.call("GET", f"/v1/shipments/{shipment_id}"))["status"] == "pushed"
        await wait_until(pushed, what=f"shipment {n} pushed")
    await _settle_at(stack, connection["id"], 2)  # the fulfilment process's first token; later pushes reuse it
