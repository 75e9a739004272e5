"""BigCommerce deliveries hand-made with the hook's real secrets: the signature is required, and
deduplication is by delivery id (`webhook-id`), not by the payload's hash."""

from __future__ import annotations

import json
import time

from shared.marketplaces.bigcommerce.webhooks import SECRET_HEADER, sign
from tests.e2e.world import Merchant


async def _connected_store_without_live_hooks(gateway, bigcommerce):
    """A connected store whose hooks are registered (we read their secret) but switched off at the sandbox,
    so every delivery in the test is one we send."""
    merchant = await Merchant.create(gateway)
    store, account = await bigcommerce.new_store()
    connection = await merchant.connect_bigcommerce(account)
    await merchant.wait_for_sync(connection["id"])
    hooks = (await bigcommerce.control("GET", f"/stores/{store['store_hash']}/hooks"))["results"]
    assert hooks
    for hook in hooks:
        response = await bigcommerce.http.put(f"{account['api_path']}hooks/{hook['id']}", json={"is_active": False},
                                              headers={"X-Auth-Token": account["access_token"]})
        assert response.status_code == 200, response.text
    return merchant, store, account, connection, hooks[0]["headers"][SECRET_HEADER]


def _body(store_hash: str, order_id: int) -> bytes:
    return json.dumps({"scope": "store/order/updated", "store_id": "1", "producer": f"stores/{store_hash}",
                       "data": {"type": "order", "id": order_id}, "hash": "same-payload-digest",
                       "created_at": 1767225600}).encode()


def _signed(body: bytes, custom_secret: str, client_secret: str, webhook_id: str) -> dict[str, str]:
    now = int(time.time())
    return {SECRET_HEADER: custom_secret, "content-type": "application/json", "webhook-id": webhook_id,
            "webhook-timestamp": str(now), "webhook-signature": sign(body, client_secret, webhook_id, now)}


async def test_unsigned_delivery_is_refused_when_the_connection_has_a_signing_secret(gateway, bigcommerce):
    merchant, store, _, connection, custom_secret = await _connected_store_without_live_hooks(gateway, bigcommerce)
    [order_id] = await bigcommerce.add_orders(store["store_hash"], status_id=11, emit_webhooks=False)

    unsigned = await gateway.post(f"/v1/webhooks/bigcommerce/{connection['id']}",
                                  headers={SECRET_HEADER: custom_secret, "content-type": "application/json"},
                                  content=_body(store["store_hash"], order_id))
    assert unsigned.status_code == 401, unsigned.text
    assert unsigned.headers["content-type"].startswith("application/problem+json")
    assert "must be signed" in unsigned.json()["detail"]
    assert [o for o in await merchant.orders(connection_id=connection["id"]) if o["external_id"] == str(order_id)] == []


async def test_replayed_delivery_applies_once_and_a_new_delivery_with_an_equal_payload_applies(gateway, bigcommerce):
    merchant, store, account, connection, custom_secret = await _connected_store_without_live_hooks(gateway, bigcommerce)
    [order_id] = await bigcommerce.add_orders(store["store_hash"], status_id=11, emit_webhooks=False)
    body = _body(store["store_hash"], order_id)
    url = f"/v1/webhooks/bigcommerce/{connection['id']}"

    first = _signed(body, custom_secret, account["client_secret"], "msg_first")
    assert (await gateway.post(url, headers=first, content=body)).json() == {"status": "created"}
    replayed = await gateway.post(url, headers=first, content=body)
    assert replayed.status_code == 200 and replayed.json() == {"status": "duplicate"}

    # The order is cancelled at BigCommerce; the event that says so happens to carry the same payload.
    await bigcommerce.control("PUT", f"/stores/{store['store_hash']}/orders/{order_id}/status", json={"status_id": 5})
    second = _signed(body, custom_secret, account["client_secret"], "msg_second")
    assert (await gateway.post(url, headers=second, content=body)).json() == {"status": "cancelled"}
    assert (await merchant.orders_by_external_id(connection["id"]))[str(order_id)]["status"] == "cancelled"
