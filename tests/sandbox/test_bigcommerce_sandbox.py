"""Behaviour of the BigCommerce emulator over real HTTP, checked against BigCommerce's OpenAPI files.

Every `/stores/...` exchange in these tests also passes through the contract recorder (see
bigcommerce_fixtures), so a payload drifting from the spec fails whichever test produced it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import httpx
import pytest

from sandbox.bigcommerce.scopes import PROBES

# The fixture module is also registered as a plugin below; let pytest rewrite its asserts first.
pytest.register_assert_rewrite("tests.sandbox.bigcommerce_fixtures")

from tests.sandbox.bigcommerce_fixtures import ALL_SCOPES, BigCommerceHarness, Merchant, WebhookReceiver, wait_for  # noqa: E402

# Fixtures (bc, merchant, webhook_receiver, servers) live in a module of their own so the Etsy
# conftest stays untouched; registering it as a plugin makes them visible here.
pytest_plugins = ["tests.sandbox.bigcommerce_fixtures"]

MONEY = re.compile(r"^-?\d+\.\d{4}$")
RFC2822 = re.compile(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$")

# --------------------------------------------------------------------------- auth and scopes


def test_api_account_carries_what_the_merchant_pastes(bc: BigCommerceHarness, merchant: Merchant) -> None:
    assert re.fullmatch(rf"http://127\.0\.0\.1:\d+/stores/{merchant.store_hash}/v3/", merchant.api_path)
    assert len(merchant.client_id) >= 30 and merchant.client_secret and merchant.token
    info = bc.api("GET", merchant.store_hash, "/v2/store", merchant.token)
    assert info.status_code == 200
    body = info.json()
    assert body["id"] == merchant.store_hash
    assert body["store_id"] == merchant.store_id
    assert body["control_panel_base_url"] == f"https://store-{merchant.store_hash}.mybigcommerce.com"


def test_missing_unknown_or_foreign_token_is_401(bc: BigCommerceHarness, merchant: Merchant) -> None:
    other = bc.create_store(name="Other")
    other_token = bc.create_account(other["store_hash"], ALL_SCOPES)["access_token"]
    for token in (None, "not-a-token", other_token):
        response = bc.api("GET", merchant.store_hash, "/v2/orders", token)
        assert response.status_code == 401
        assert response.headers["X-Rate-Limit-Requests-Left"] == response.headers["X-Rate-Limit-Requests-Quota"]
        body = response.json()
        assert body["status"] == 401 and body["title"].startswith("Unauthorized")


def test_token_without_scope_gets_403_and_read_only_cannot_write(bc: BigCommerceHarness, merchant: Merchant) -> None:
    order = bc.create_orders(merchant.store_hash)[0]
    read_only = bc.create_account(merchant.store_hash, ["store_v2_orders_read_only"])["access_token"]
    nothing = bc.create_account(merchant.store_hash, [])["access_token"]

    assert bc.api("GET", merchant.store_hash, f"/v2/orders/{order['id']}", read_only).status_code == 200
    ship = {"order_address_id": order["shipping_addresses"][0]["id"], "items": []}
    for response in (
        bc.api("POST", merchant.store_hash, f"/v2/orders/{order['id']}/shipments", read_only, json=ship),
        bc.api("PUT", merchant.store_hash, f"/v2/orders/{order['id']}", read_only, json={"status_id": 5}),
        bc.api("GET", merchant.store_hash, "/v2/orders", nothing),
        bc.api("GET", merchant.store_hash, "/v2/store", read_only),
    ):
        assert response.status_code == 403
        assert response.json() == {
            "status": 403,
            "title": "You don't have a required scope to access the endpoint",
            "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
            "errors": {},
        }
    # Webhooks need no scope at all.
    assert bc.api("GET", merchant.store_hash, "/v3/hooks", nothing).status_code == 200


def _probe(bc: BigCommerceHarness, store_hash: str, token: str) -> dict[str, bool]:
    granted = {}
    for scope, (method, path, body) in PROBES.items():
        response = bc.api(method, store_hash, path, token, json=body) if body else bc.api(method, store_hash, path, token)
        assert response.status_code in (200, 204, 403, 404), (scope, response.status_code, response.text)
        granted[scope] = response.status_code != 403
    return granted


def test_scope_probes_reveal_granted_scopes_without_side_effects(bc: BigCommerceHarness, merchant: Merchant) -> None:
    assert all(_probe(bc, merchant.store_hash, merchant.token).values())
    narrow = bc.create_account(merchant.store_hash, ["store_v2_orders_read_only", "store_inventory_read_only"])
    assert _probe(bc, merchant.store_hash, narrow["access_token"]) == {
        "store_v2_information_read_only": False,
        "store_v2_orders_read_only": True,
        "store_v2_orders": False,
        "store_v2_products_read_only": False,
        "store_inventory_read_only": True,
    }


# --------------------------------------------------------------------------- orders


def test_order_list_is_a_bare_array_paged_by_limit_and_204_when_empty(bc: BigCommerceHarness, merchant: Merchant) -> None:
    ids = [o["id"] for o in bc.create_orders(merchant.store_hash, count=5)]
    pages = []
    for page in (1, 2, 3):
        response = bc.api("GET", merchant.store_hash, "/v2/orders", merchant.token, params={"limit": 2, "page": page})
        assert response.status_code == 200
        assert isinstance(response.json(), list)
        pages.append([o["id"] for o in response.json()])
    assert pages == [ids[:2], ids[2:4], ids[4:]]
    beyond = bc.api("GET", merchant.store_hash, "/v2/orders", merchant.token, params={"limit": 2, "page": 4})
    assert beyond.status_code == 204 and beyond.content == b""

    empty_store = bc.create_store(name="Empty")
    token = bc.create_account(empty_store["store_hash"], ALL_SCOPES)["access_token"]
    empty = bc.api("GET", empty_store["store_hash"], "/v2/orders", token)
    assert empty.status_code == 204 and empty.content == b""


def test_limit_is_capped_at_250(bc: BigCommerceHarness, merchant: Merchant) -> None:
    bc.control("POST", f"/stores/{merchant.store_hash}/orders", json={"count": 260, "emit_webhooks": False})
    response = bc.api("GET", merchant.store_hash, "/v2/orders", merchant.token, params={"limit": 500})
    assert len(response.json()) == 250


def test_status_filter_and_incomplete_orders_hidden_by_default(bc: BigCommerceHarness, merchant: Merchant) -> None:
    by_status = {s: bc.create_orders(merchant.store_hash, status_id=s)[0]["id"] for s in (11, 9, 7, 0, 1, 10)}

    def ids(**params: Any) -> list[int]:
        response = bc.api("GET", merchant.store_hash, "/v2/orders", merchant.token, params=params)
        return [] if response.status_code == 204 else [o["id"] for o in response.json()]

    assert ids(status_id=11) == [by_status[11]]
    assert ids(status_id=9) == [by_status[9]]
    assert ids(status_id=0) == [by_status[0]]
    assert ids(status_id=3) == []
    assert by_status[0] not in ids() and len(ids()) == 5
    unmodelled = bc.api("GET", merchant.store_hash, "/v2/orders", merchant.token, params={"include": "fees"})
    assert unmodelled.status_code == 400 and "include=fees" in unmodelled.json()[0]["message"]
    unstructured = bc.api("GET", merchant.store_hash, "/v2/orders", merchant.token, params={"include": "consignments"})
    assert unstructured.status_code == 400 and "consignment_structure" in unstructured.json()[0]["message"]


def test_consignments_line_items_embed_every_product_and_shipping_address(bc: BigCommerceHarness,
                                                                          merchant: Merchant) -> None:
    """`include=consignments.line_items&consignment_structure=object` answers what `/products` and
    `/shipping_addresses` would, inside each order: one shipping consignment per address holding that
    address's products, digital products as a download, gift certificates by e-mail."""
    order = bc.create_orders(merchant.store_hash, shipping_addresses=[{"city": "Austin"}, {"city": "Boston"}], products=[
        {"sku": "A", "address_index": 0}, {"sku": "B", "address_index": 1, "quantity": 2},
        {"sku": "E-BOOK", "type": "digital"}, {"sku": "GIFT", "type": "giftcertificate"}])[0]
    token, path = merchant.token, f"/v2/orders/{order['id']}"
    products = bc.api("GET", merchant.store_hash, f"{path}/products", token).json()
    addresses = bc.api("GET", merchant.store_hash, f"{path}/shipping_addresses", token).json()
    params = {"include": "consignments.line_items", "consignment_structure": "object"}
    listed = bc.api("GET", merchant.store_hash, "/v2/orders", token, params={**params, "status_id": 11}).json()
    single = bc.api("GET", merchant.store_hash, path, token, params=params).json()

    for body in (next(o for o in listed if o["id"] == order["id"]), single):
        consignments = body["consignments"]
        shipping = consignments["shipping"]
        assert [c["id"] for c in shipping] == [a["id"] for a in addresses]
        assert [c["city"] for c in shipping] == ["Austin", "Boston"]
        assert [[p["sku"] for p in c["line_items"]] for c in shipping] == [["A"], ["B"]]
        assert [p["sku"] for p in consignments["downloads"][0]["line_items"]] == ["E-BOOK"]
        assert [p["sku"] for p in consignments["email"]["gift_certificates"][0]["line_items"]] == ["GIFT"]
        assert consignments["pickups"] == []
        embedded = [p for c in (*shipping, *consignments["downloads"], *consignments["email"]["gift_certificates"])
                    for p in c["line_items"]]
        assert sorted(embedded, key=lambda p: p["id"]) == products
    links = bc.api("GET", merchant.store_hash, path, token, params={**params, "include": "consignments"}).json()
    link = links["consignments"]["shipping"][0]["line_items"][0]
    assert link["resource"] == f"/orders/{order['id']}/products/{products[0]['id']}"
    plain = bc.api("GET", merchant.store_hash, path, token).json()
    assert "consignments" not in plain


def test_min_date_modified_and_sort_by_date_modified(bc: BigCommerceHarness, merchant: Merchant) -> None:
    base = int(time.time()) - 3600
    orders = bc.create_orders(merchant.store_hash, count=3, date_created=base)
    watermark = datetime.fromtimestamp(base + 60, tz=UTC)
    bc.set_status(merchant.store_hash, orders[0]["id"], 9)  # modified now, i.e. after the watermark

    for raw in (format_datetime(watermark), watermark.isoformat()):
        params = {"min_date_modified": raw, "sort": "date_modified:asc", "status_id": 9}
        response = bc.api("GET", merchant.store_hash, "/v2/orders", merchant.token, params=params)
        assert [o["id"] for o in response.json()] == [orders[0]["id"]]

    listed = bc.api("GET", merchant.store_hash, "/v2/orders", merchant.token, params={"sort": "date_modified:desc"}).json()
    assert [o["id"] for o in listed] == [orders[0]["id"], orders[2]["id"], orders[1]["id"]]
    created_window = {"min_date_created": format_datetime(datetime.fromtimestamp(base - 1, tz=UTC)), "max_id": orders[1]["id"]}
    listed = bc.api("GET", merchant.store_hash, "/v2/orders", merchant.token, params=created_window).json()
    assert [o["id"] for o in listed] == [orders[1]["id"]]
    bad = bc.api("GET", merchant.store_hash, "/v2/orders", merchant.token, params={"min_date_modified": "yesterday"})
    assert bad.status_code == 400 and bad.json()[0]["status"] == 400


def test_order_fields_are_strings_rfc2822_and_linked_sub_resources(bc: BigCommerceHarness, merchant: Merchant) -> None:
    order = bc.create_orders(
        merchant.store_hash,
        products=[
            {
                "name": "Tee",
                "sku": "TS-RED-M",
                "quantity": 2,
                "price_ex_tax": "12.5",
                "options": [{"display_name": "Size", "display_value": "M"}, {"display_name": "Color", "display_value": "Red"}],
            },
            {"name": "Custom engraving", "sku": "", "custom": True, "price_ex_tax": "3"},
        ],
        shipping_cost_ex_tax="4.99",
        billing_address=None,
    )[0]
    got = bc.api("GET", merchant.store_hash, f"/v2/orders/{order['id']}", merchant.token).json()
    assert got["status_id"] == 11 and got["status"] == "Awaiting Fulfillment"
    assert got["subtotal_ex_tax"] == "28.0000" and got["total_inc_tax"] == "32.9900"
    assert all(MONEY.match(got[k]) for k in ("subtotal_inc_tax", "shipping_cost_ex_tax", "total_tax", "discount_amount"))
    assert RFC2822.match(got["date_created"]) and RFC2822.match(got["date_modified"]) and got["date_shipped"] == ""
    assert got["billing_address"]["zip"] == "" and got["billing_address"]["email"] == ""
    assert got["products"]["resource"] == f"/orders/{order['id']}/products"
    assert got["products"]["url"].endswith(f"/stores/{merchant.store_hash}/v2/orders/{order['id']}/products")
    assert got["items_total"] == 3 and got["items_shipped"] == 0

    products = bc.api("GET", merchant.store_hash, f"/v2/orders/{order['id']}/products", merchant.token).json()
    tee, engraving = products
    assert tee["sku"] == "TS-RED-M" and tee["price_ex_tax"] == "12.5000" and tee["quantity"] == 2
    assert [(o["display_name"], o["display_value"]) for o in tee["product_options"]] == [("Size", "M"), ("Color", "Red")]
    assert "variant_id" in tee and "variant_id" not in engraving and engraving["product_id"] == 0
    addresses = bc.api("GET", merchant.store_hash, f"/v2/orders/{order['id']}/shipping_addresses", merchant.token).json()
    assert [a["id"] for a in addresses] == [tee["order_address_id"]]
    missing = bc.api("GET", merchant.store_hash, "/v2/orders/999999", merchant.token)
    assert missing.status_code == 404
    assert missing.json() == [{"status": 404, "message": "The requested resource was not found."}]


def test_digital_order_has_no_shipping_addresses(bc: BigCommerceHarness, merchant: Merchant) -> None:
    order = bc.create_orders(merchant.store_hash, status_id=10, shipping_addresses=[], products=[{"type": "digital"}])[0]
    response = bc.api("GET", merchant.store_hash, f"/v2/orders/{order['id']}/shipping_addresses", merchant.token)
    assert response.status_code == 204 and response.content == b""


def test_order_statuses_are_the_fifteen_fixed_ids_with_custom_labels(bc: BigCommerceHarness, merchant: Merchant) -> None:
    bc.settings(status_custom_labels={"11": "Ready to pack"})
    statuses = bc.api("GET", merchant.store_hash, "/v2/order_statuses", merchant.token).json()
    assert [s["id"] for s in statuses] == list(range(15))
    assert statuses[11]["name"] == "Awaiting Fulfillment" and statuses[11]["custom_label"] == "Ready to pack"
    assert statuses[5]["name"] == "Cancelled" and statuses[0]["name"] == "Incomplete"


# --------------------------------------------------------------------------- shipments and cancel


def _two_line_order(bc: BigCommerceHarness, merchant: Merchant) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
    order = bc.create_orders(merchant.store_hash, products=[{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1}])[0]
    products = bc.api("GET", merchant.store_hash, f"/v2/orders/{order['id']}/products", merchant.token).json()
    return order, products, order["shipping_addresses"][0]["id"]


def test_shipments_move_order_11_to_3_to_2(bc: BigCommerceHarness, merchant: Merchant) -> None:
    order, (a, b), address_id = _two_line_order(bc, merchant)
    path = f"/v2/orders/{order['id']}/shipments"
    assert bc.api("GET", merchant.store_hash, path, merchant.token).status_code == 204

    first = bc.api(
        "POST",
        merchant.store_hash,
        path,
        merchant.token,
        json={
            "order_address_id": address_id,
            "items": [{"order_product_id": a["id"], "quantity": 1}],
            "tracking_number": "EJ958083578US",
            "shipping_provider": "usps",
        },
    )
    assert first.status_code == 201
    shipment = first.json()
    assert shipment["order_id"] == order["id"] and shipment["shipping_provider_display_name"] == "USPS"
    assert shipment["generated_tracking_link"].endswith("EJ958083578US") and shipment["tracking_link"] == ""
    assert shipment["items"] == [{"order_product_id": a["id"], "product_id": a["product_id"], "quantity": 1}]
    partial = bc.api("GET", merchant.store_hash, f"/v2/orders/{order['id']}", merchant.token).json()
    assert (partial["status_id"], partial["status"], partial["items_shipped"]) == (3, "Partially Shipped", 1)

    second = bc.api(
        "POST",
        merchant.store_hash,
        path,
        merchant.token,
        json={
            "order_address_id": address_id,
            "items": [{"order_product_id": a["id"], "quantity": 1}, {"order_product_id": b["id"], "quantity": 1}],
            "tracking_number": "00340434161094042557",
            "tracking_carrier": "dhl",
        },
    )
    assert second.status_code == 201
    assert second.json()["generated_tracking_link"] == "https://track.aftership.com/dhl/00340434161094042557"
    shipped = bc.api("GET", merchant.store_hash, f"/v2/orders/{order['id']}", merchant.token).json()
    assert (shipped["status_id"], shipped["status"], shipped["items_shipped"]) == (2, "Shipped", 3)
    assert RFC2822.match(shipped["date_shipped"])
    assert parsedate_to_datetime(shipped["date_modified"]) > parsedate_to_datetime(order["date_modified"])
    listed = bc.api("GET", merchant.store_hash, path, merchant.token).json()
    assert [s["id"] for s in listed] == [shipment["id"], second.json()["id"]]
    products = bc.api("GET", merchant.store_hash, f"/v2/orders/{order['id']}/products", merchant.token).json()
    assert [p["quantity_shipped"] for p in products] == [2, 1]
    recorded = bc.control("GET", f"/stores/{merchant.store_hash}/shipments")
    assert recorded["count"] == 2 and recorded["results"][0]["created_by_client_id"] == merchant.client_id


def test_invalid_shipments_are_400_in_v2_shape(bc: BigCommerceHarness, merchant: Merchant) -> None:
    order, (a, _), address_id = _two_line_order(bc, merchant)
    path = f"/v2/orders/{order['id']}/shipments"
    item = {"order_product_id": a["id"], "quantity": 1}
    cases = [
        {"order_address_id": address_id, "items": [{"order_product_id": a["id"], "quantity": 3}]},  # over-shipping
        {"items": [item]},
        {"order_address_id": address_id + 999, "items": [item]},
        {"order_address_id": address_id, "items": []},
        {"order_address_id": address_id, "items": [{"order_product_id": 424242, "quantity": 1}]},
        {"order_address_id": address_id, "items": [item], "tracking_number": "X" * 51},
        {"order_address_id": address_id, "items": [item], "shipping_provider": "pigeon"},
        {"order_address_id": address_id, "items": [item], "tracking_link": "https://t.example/" + "x" * 500},
    ]
    for body in cases:
        response = bc.api("POST", merchant.store_hash, path, merchant.token, json=body)
        assert response.status_code == 400, body
        assert response.json()[0]["status"] == 400 and response.json()[0]["message"]
    assert bc.api("GET", merchant.store_hash, path, merchant.token).status_code == 204
    custom = {"order_address_id": address_id, "items": [item], "shipping_provider": "carrier_1234567"}
    assert bc.api("POST", merchant.store_hash, path, merchant.token, json=custom).status_code == 201


def test_put_status_5_cancels_and_bad_updates_are_400(bc: BigCommerceHarness, merchant: Merchant) -> None:
    order = bc.create_orders(merchant.store_hash)[0]
    path = f"/v2/orders/{order['id']}"
    cancelled = bc.api("PUT", merchant.store_hash, path, merchant.token, json={"status_id": 5})
    assert cancelled.status_code == 200
    assert (cancelled.json()["status_id"], cancelled.json()["status"]) == (5, "Cancelled")
    for body in ({"status_id": 99}, {"status_id": "5"}, {"products": []}, {}):
        response = bc.api("PUT", merchant.store_hash, path, merchant.token, json=body)
        assert response.status_code == 400, body
        assert response.json()[0]["status"] == 400
    assert bc.api("PUT", merchant.store_hash, "/v2/orders/0", merchant.token, json={"status_id": 5}).status_code == 404


# --------------------------------------------------------------------------- rate limits and faults


def test_rate_limit_headers_on_every_response_and_429_when_exhausted(bc: BigCommerceHarness, merchant: Merchant) -> None:
    bc.settings(rate_limit_quota=3, rate_limit_window_ms=1500)
    lefts = []
    for _ in range(3):
        response = bc.api("GET", merchant.store_hash, "/v2/orders", merchant.token)
        assert response.headers["X-Rate-Limit-Requests-Quota"] == "3"
        assert response.headers["X-Rate-Limit-Time-Window-Ms"] == "1500"
        assert 0 < int(response.headers["X-Rate-Limit-Time-Reset-Ms"]) <= 1500
        lefts.append(int(response.headers["X-Rate-Limit-Requests-Left"]))
    assert lefts == [2, 1, 0]
    limited = bc.api("GET", merchant.store_hash, "/v2/orders", merchant.token)
    assert limited.status_code == 429
    assert limited.headers["X-Rate-Limit-Requests-Left"] == "0"
    time.sleep(int(limited.headers["X-Rate-Limit-Time-Reset-Ms"]) / 1000 + 0.05)
    again = bc.api("GET", merchant.store_hash, "/v2/orders", merchant.token)
    assert again.status_code == 204 and again.headers["X-Rate-Limit-Requests-Left"] == "2"


def test_rate_limit_fault_sends_429_with_only_the_reset_header(bc: BigCommerceHarness, merchant: Merchant) -> None:
    bc.fault(kind="rate_limit", count=2, reset_ms=250)
    for _ in range(2):
        response = bc.api("GET", merchant.store_hash, "/v2/orders", merchant.token)
        assert response.status_code == 429
        assert response.headers["X-Rate-Limit-Time-Reset-Ms"] == "250"
        assert "X-Rate-Limit-Requests-Left" not in response.headers
    assert bc.api("GET", merchant.store_hash, "/v2/orders", merchant.token).status_code == 204


def test_server_error_slow_and_revoked_token_faults(
    bc: BigCommerceHarness, merchant: Merchant, webhook_receiver: WebhookReceiver
) -> None:
    bc.fault(kind="server_error", status=503)
    failed = bc.api("GET", merchant.store_hash, "/v2/orders", merchant.token)
    assert failed.status_code == 503 and failed.json() == [{"status": 503, "message": "Service Unavailable"}]

    bc.fault(kind="slow", delay_s=0.4)
    started = time.monotonic()
    assert bc.api("GET", merchant.store_hash, "/v2/orders", merchant.token).status_code == 204
    assert time.monotonic() - started >= 0.4

    hook = {"scope": "store/order/*", "destination": webhook_receiver.url()}
    assert bc.api("POST", merchant.store_hash, "/v3/hooks", merchant.token, json=hook).status_code == 200
    revoked = bc.fault(kind="revoke_token", access_token=merchant.token)
    assert revoked["hooks_removed"] == 1
    assert bc.api("GET", merchant.store_hash, "/v2/orders", merchant.token).status_code == 401
    assert bc.control("GET", f"/stores/{merchant.store_hash}/hooks")["results"] == []
    log = bc.control("GET", "/requests", params={"path_prefix": f"/stores/{merchant.store_hash}/v2/orders"})["results"]
    assert [e["status"] for e in log] == [503, 204, 401]
    assert [e["fault"] for e in log] == ["server_error", "slow", None]


# --------------------------------------------------------------------------- webhooks


def test_hooks_crud_is_per_api_account(bc: BigCommerceHarness, merchant: Merchant) -> None:
    other = bc.create_account(merchant.store_hash, ["store_v2_orders_read_only"])["access_token"]
    empty = bc.api("GET", merchant.store_hash, "/v3/hooks", merchant.token)
    assert empty.status_code == 200 and empty.json()["data"] == []

    body = {"scope": "store/order/created", "destination": "https://cb.example/hooks", "headers": {"X-Secret": "s3"}}
    created = bc.api("POST", merchant.store_hash, "/v3/hooks", merchant.token, json=body)
    assert created.status_code == 200
    hook = created.json()["data"]
    assert hook["is_active"] is True and hook["client_id"] == merchant.client_id and hook["store_hash"] == merchant.store_hash
    assert hook["headers"] == {"X-Secret": "s3"}

    listed = bc.api("GET", merchant.store_hash, "/v3/hooks", merchant.token).json()
    assert [h["id"] for h in listed["data"]] == [hook["id"]] and listed["meta"]["pagination"]["total"] == 1
    assert bc.api("GET", merchant.store_hash, "/v3/hooks", other).json()["data"] == []
    assert bc.api("GET", merchant.store_hash, f"/v3/hooks/{hook['id']}", other).status_code == 404

    updated = bc.api("PUT", merchant.store_hash, f"/v3/hooks/{hook['id']}", merchant.token, json={"is_active": False})
    assert updated.status_code == 200 and updated.json()["data"]["is_active"] is False
    inactive = bc.api("GET", merchant.store_hash, "/v3/hooks", merchant.token, params={"is_active": "false"}).json()
    assert len(inactive["data"]) == 1

    for bad in ({"destination": "https://cb.example/x"}, {"scope": "store/order/teleported", "destination": "https://x.example"}):
        rejected = bc.api("POST", merchant.store_hash, "/v3/hooks", merchant.token, json=bad)
        assert rejected.status_code == 422 and rejected.json()["status"] == 422 and rejected.json()["errors"]

    deleted = bc.api("DELETE", merchant.store_hash, f"/v3/hooks/{hook['id']}", merchant.token)
    assert deleted.status_code == 200 and deleted.json()["data"]["id"] == hook["id"]
    missing = bc.api("GET", merchant.store_hash, f"/v3/hooks/{hook['id']}", merchant.token)
    assert missing.status_code == 404 and missing.json()["title"] == f"Webhook with id [{hook['id']}] not found"


def _create_hook(bc: BigCommerceHarness, merchant: Merchant, scope: str, url: str, **extra: Any) -> dict[str, Any]:
    body = {"scope": scope, "destination": url, "is_active": True, **extra}
    response = bc.api("POST", merchant.store_hash, "/v3/hooks", merchant.token, json=body)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def _verify_standard_webhook(secret: str, call: Any) -> None:
    signed = f"{call.headers['webhook-id']}.{call.headers['webhook-timestamp']}.".encode() + call.raw
    expected = base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha256).digest()).decode()
    assert call.headers["webhook-signature"] == f"v1,{expected}"


def test_order_events_reach_the_destination_with_custom_headers_and_signature(
    bc: BigCommerceHarness, merchant: Merchant, webhook_receiver: WebhookReceiver
) -> None:
    _create_hook(bc, merchant, "store/order/created", webhook_receiver.url(), headers={"X-Channelbridge-Key": "k-123"})
    _create_hook(bc, merchant, "store/order/statusUpdated", webhook_receiver.url())
    order = bc.create_orders(merchant.store_hash)[0]
    created = wait_for(lambda: webhook_receiver.received("store/order/created"), what="order created webhook")[0]
    assert created.headers["x-channelbridge-key"] == "k-123"
    assert created.headers["content-type"] == "application/json"
    body = created.json
    assert body["data"] == {"type": "order", "id": order["id"]}
    assert body["store_id"] == str(merchant.store_id) and body["producer"] == f"stores/{merchant.store_hash}"
    assert re.fullmatch(r"[0-9a-f]{40}", body["hash"]) and isinstance(body["created_at"], int)
    _verify_standard_webhook(merchant.client_secret, created)

    bc.set_status(merchant.store_hash, order["id"], 9)
    updated = wait_for(lambda: webhook_receiver.received("store/order/statusUpdated"), what="statusUpdated")[0]
    assert updated.json["data"] == {"type": "order", "id": order["id"], "status": {"previous_status_id": 11, "new_status_id": 9}}
    assert "x-channelbridge-key" not in updated.headers
    _verify_standard_webhook(merchant.client_secret, updated)

    # A shipment through the API moves the status and is reported too.
    products = bc.api("GET", merchant.store_hash, f"/v2/orders/{order['id']}/products", merchant.token).json()
    ship = {
        "order_address_id": products[0]["order_address_id"],
        "items": [{"order_product_id": products[0]["id"], "quantity": 1}],
    }
    assert (
        bc.api("POST", merchant.store_hash, f"/v2/orders/{order['id']}/shipments", merchant.token, json=ship).status_code == 201
    )
    shipped = wait_for(
        lambda: (
            len(webhook_receiver.received("store/order/statusUpdated")) == 2
            and webhook_receiver.received("store/order/statusUpdated")
        )
    )
    assert shipped[1].json["data"]["status"] == {"previous_status_id": 9, "new_status_id": 2}


def test_failed_deliveries_are_retried_with_the_same_event(
    bc: BigCommerceHarness, merchant: Merchant, webhook_receiver: WebhookReceiver
) -> None:
    bc.settings(webhook_retry_delays_s=[0.2, 0.2, 0.2])
    hook = _create_hook(bc, merchant, "store/order/created", webhook_receiver.url())
    webhook_receiver.fail_next(2, status=503)
    bc.create_orders(merchant.store_hash)
    deliveries = wait_for(
        lambda: (d := bc.deliveries(hook_id=hook["id"])) and d[0]["status"] == "delivered" and d, what="retries"
    )
    assert [a["status"] for a in deliveries[0]["attempts"]] == [503, 503, 200]
    calls = webhook_receiver.received()
    assert len(calls) == 3
    assert len({c.raw for c in calls}) == 1 and len({c.headers["webhook-id"] for c in calls}) == 1


def test_exhausted_retries_deactivate_the_hook(
    bc: BigCommerceHarness, merchant: Merchant, webhook_receiver: WebhookReceiver
) -> None:
    bc.settings(webhook_retry_delays_s=[0.1, 0.1])
    hook = _create_hook(bc, merchant, "store/order/*", webhook_receiver.url())
    webhook_receiver.fail_next(3, status=500)
    bc.create_orders(merchant.store_hash)
    wait_for(lambda: bc.deliveries(hook_id=hook["id"], status="failed"), what="delivery to fail")
    got = bc.api("GET", merchant.store_hash, f"/v3/hooks/{hook['id']}", merchant.token).json()["data"]
    assert got["is_active"] is False
    bc.create_orders(merchant.store_hash)  # an inactive hook receives nothing
    time.sleep(0.3)
    assert len(webhook_receiver.received()) == 3


def test_replay_delivers_an_identical_duplicate(
    bc: BigCommerceHarness, merchant: Merchant, webhook_receiver: WebhookReceiver
) -> None:
    hook = _create_hook(bc, merchant, "store/order/created", webhook_receiver.url())
    bc.create_orders(merchant.store_hash)
    first = wait_for(lambda: bc.deliveries(hook_id=hook["id"], status="delivered"), what="first delivery")[0]
    replay = bc.control("POST", f"/deliveries/{first['delivery_id']}/replay")
    assert replay["replay_of"] == first["delivery_id"] and replay["hash"] == first["hash"]
    calls = wait_for(lambda: len(webhook_receiver.received()) == 2 and webhook_receiver.received(), what="replay")
    assert calls[0].raw == calls[1].raw and calls[0].headers["webhook-id"] == calls[1].headers["webhook-id"]
    _verify_standard_webhook(merchant.client_secret, calls[1])


# --------------------------------------------------------------------------- contract


def test_contract_recorder_validates_traffic_and_catches_drift(bc: BigCommerceHarness, merchant: Merchant) -> None:
    order = bc.create_orders(merchant.store_hash)[0]
    before = bc.contract.validated
    for path in (f"/v2/orders/{order['id']}", f"/v2/orders/{order['id']}/products", "/v2/order_statuses", "/v2/store"):
        assert bc.api("GET", merchant.store_hash, path, merchant.token).status_code == 200
    assert bc.api("GET", merchant.store_hash, "/v3/catalog/products", merchant.token).status_code == 200
    assert bc.api("GET", merchant.store_hash, "/v3/inventory/items", merchant.token).status_code == 200
    assert bc.contract.validated - before == 6

    request = httpx.Request(
        "GET",
        f"http://sandbox/stores/{merchant.store_hash}/v2/orders/{order['id']}/products",
        headers={"Accept": "application/json", "Content-Type": "application/json", "X-Auth-Token": merchant.token},
    )
    drifted = httpx.Response(200, json=[{"id": "not-an-int", "surprise": True}], request=request)
    probe = type(bc.contract)(bc.contract.specs)
    probe(drifted)
    assert probe.violations and "response invalid" in probe.violations[0]
