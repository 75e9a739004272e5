"""Behaviour of the Etsy emulator over real HTTP, checked against Etsy's OpenAPI file.

Every v3 exchange in these tests also passes through the contract recorder (see conftest), so
a payload drifting from the spec fails whichever test produced it.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from openapi_core.validation.response.exceptions import InvalidData

from tests.openapi_exchange import OpenAPIResponse
from tests.sandbox.conftest import REDIRECT_URI, EtsyHarness, pkce_pair

# --------------------------------------------------------------------------- OAuth / PKCE


def test_pkce_flow_issues_user_prefixed_tokens_and_getme_works(etsy: EtsyHarness, shop: dict[str, Any]) -> None:
    verifier, challenge = pkce_pair()
    redirect = etsy.authorize(challenge, state="xyz-123")
    assert redirect.status_code == 302
    location = urlsplit(redirect.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    query = parse_qs(location.query)
    assert query["state"] == ["xyz-123"]

    response = etsy.token(
        grant_type="authorization_code", redirect_uri=REDIRECT_URI, code=query["code"][0], code_verifier=verifier
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["access_token"].startswith(f"{shop['user_id']}.")
    assert body["refresh_token"].startswith(f"{shop['user_id']}.")

    me = etsy.api("GET", "/users/me", token=body["access_token"])
    assert me.status_code == 200
    assert me.json() == {"user_id": shop["user_id"], "shop_id": shop["shop_id"]}


def test_wrong_code_verifier_is_invalid_grant(etsy: EtsyHarness, shop: dict[str, Any]) -> None:
    _, challenge = pkce_pair()
    other_verifier, _ = pkce_pair()
    code = etsy.authorization_code(challenge)
    response = etsy.token(
        grant_type="authorization_code", redirect_uri=REDIRECT_URI, code=code, code_verifier=other_verifier
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "code_verifier" in response.json()["error_description"]


def test_authorization_code_is_single_use(etsy: EtsyHarness, shop: dict[str, Any]) -> None:
    verifier, challenge = pkce_pair()
    code = etsy.authorization_code(challenge)
    form = {"grant_type": "authorization_code", "redirect_uri": REDIRECT_URI, "code": code, "code_verifier": verifier}
    assert etsy.token(**form).status_code == 200
    again = etsy.token(**form)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_redirect_uri_must_match_and_codes_expire(etsy: EtsyHarness, shop: dict[str, Any]) -> None:
    verifier, challenge = pkce_pair()
    code = etsy.authorization_code(challenge)
    mismatch = etsy.token(
        grant_type="authorization_code", redirect_uri=REDIRECT_URI + "/other", code=code, code_verifier=verifier
    )
    assert mismatch.status_code == 400
    assert mismatch.json()["error"] == "invalid_grant"

    etsy.control("POST", "/clock", json={"advance_s": 601})
    expired = etsy.token(grant_type="authorization_code", redirect_uri=REDIRECT_URI, code=code, code_verifier=verifier)
    assert expired.status_code == 400
    assert expired.json() == {"error": "invalid_grant", "error_description": "code is expired"}


def test_connect_rejects_bad_requests(etsy: EtsyHarness, shop: dict[str, Any]) -> None:
    _, challenge = pkce_pair()
    unknown_client = etsy.authorize(challenge, client_id="nope")
    assert unknown_client.status_code == 400
    assert unknown_client.json()["error"] == "invalid_client"

    plain = etsy.authorize(challenge, code_challenge_method="plain", state="s1")
    assert plain.status_code == 302
    query = parse_qs(urlsplit(plain.headers["location"]).query)
    assert query["error"] == ["invalid_request"] and query["state"] == ["s1"]
    assert "code" not in query

    bad_scope = etsy.authorize(challenge, scope="transactions_r wizardry")
    assert parse_qs(urlsplit(bad_scope.headers["location"]).query)["error"] == ["invalid_scope"]

    etsy.settings(deny_consent=True)
    denied = etsy.authorize(challenge)
    assert parse_qs(urlsplit(denied.headers["location"]).query)["error"] == ["access_denied"]


def test_registered_redirect_uris_are_enforced(etsy: EtsyHarness, shop: dict[str, Any]) -> None:
    app = etsy.control("POST", "/apps", json={"redirect_uris": [REDIRECT_URI]})
    _, challenge = pkce_pair()
    assert etsy.authorize(challenge, client_id=app["client_id"]).status_code == 302
    wrong = etsy.authorize(challenge, client_id=app["client_id"], redirect_uri="https://evil.example/cb")
    assert wrong.status_code == 400


def test_approving_user_setting_chooses_who_connects(etsy: EtsyHarness, shop: dict[str, Any]) -> None:
    second = etsy.create_shop(shop_name="SecondShop")
    etsy.settings(approving_user_id=second["user_id"])
    tokens = etsy.connect()
    assert tokens["access_token"].startswith(f"{second['user_id']}.")
    me = etsy.api("GET", "/users/me", token=tokens["access_token"]).json()
    assert me["shop_id"] == second["shop_id"]


def test_refresh_rotates_and_old_refresh_token_dies(etsy: EtsyHarness, shop: dict[str, Any]) -> None:
    first = etsy.connect()
    rotated = etsy.token(grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert etsy.api("GET", "/users/me", token=second["access_token"]).status_code == 200

    reused = etsy.token(grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"

    third = etsy.token(grant_type="refresh_token", refresh_token=second["refresh_token"])
    assert third.status_code == 200


def test_refresh_token_expires_after_90_days(etsy: EtsyHarness, shop: dict[str, Any]) -> None:
    tokens = etsy.connect()
    etsy.control("POST", "/clock", json={"advance_s": 90 * 86400 + 1})
    response = etsy.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": "refresh_token is expired"}


def test_token_endpoint_errors(etsy: EtsyHarness, shop: dict[str, Any]) -> None:
    assert etsy.token(grant_type="password").json()["error"] == "unsupported_grant_type"
    unknown = etsy.http.post(
        "/v3/public/oauth/token", data={"grant_type": "refresh_token", "client_id": "x", "refresh_token": "1.a"}
    )
    assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_client"
    garbage = etsy.token(grant_type="refresh_token", refresh_token="123.garbage")
    assert garbage.status_code == 400 and garbage.json()["error"] == "invalid_grant"


def test_expired_access_token_is_401_invalid_token(etsy: EtsyHarness, shop: dict[str, Any]) -> None:
    etsy.settings(access_token_ttl_s=60)
    tokens = etsy.connect()
    assert tokens["expires_in"] == 60
    assert etsy.api("GET", "/users/me", token=tokens["access_token"]).status_code == 200
    etsy.control("POST", "/clock", json={"advance_s": 61})
    response = etsy.api("GET", f"/shops/{shop['shop_id']}/receipts", token=tokens["access_token"])
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_token", "error_description": "access token is expired"}
    refreshed = etsy.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"]).json()
    assert etsy.api("GET", f"/shops/{shop['shop_id']}/receipts", token=refreshed["access_token"]).status_code == 200


# --------------------------------------------------------------------------- headers / auth


def test_api_key_checks(etsy: EtsyHarness, shop: dict[str, Any], token: str) -> None:
    path = f"/v3/application/shops/{shop['shop_id']}/receipts"
    bearer = {"authorization": f"Bearer {token}"}

    missing = etsy.http.get(path, headers=bearer)
    assert missing.status_code == 403 and "error" in missing.json()

    bare = etsy.http.get(path, headers={**bearer, "x-api-key": "sandbox-etsy-keystring"})
    assert bare.status_code == 403
    assert bare.json() == {"error": "Shared secret is required in x-api-key header."}

    wrong_secret = etsy.http.get(path, headers={**bearer, "x-api-key": "sandbox-etsy-keystring:nope"})
    assert wrong_secret.status_code == 403 and wrong_secret.json() == {"error": "Invalid API key"}

    etsy.settings(require_shared_secret=False)
    assert etsy.http.get(path, headers={**bearer, "x-api-key": "sandbox-etsy-keystring"}).status_code == 200


def test_bearer_and_scope_checks(etsy: EtsyHarness, shop: dict[str, Any]) -> None:
    no_token = etsy.api("GET", f"/shops/{shop['shop_id']}/receipts")
    assert no_token.status_code == 401 and no_token.json()["error"] == "invalid_token"
    forged = etsy.api("GET", "/users/me", token=f"{shop['user_id']}.forged")
    assert forged.status_code == 401

    read_only = etsy.control("POST", "/tokens", json={"user_id": shop["user_id"], "scopes": ["transactions_r"]})
    [receipt] = etsy.create_receipts(shop["shop_id"])
    listing = etsy.api("GET", f"/shops/{shop['shop_id']}/receipts", token=read_only["access_token"])
    assert listing.status_code == 200
    ship = etsy.api(
        "POST",
        f"/shops/{shop['shop_id']}/receipts/{receipt['receipt_id']}/tracking",
        token=read_only["access_token"],
        data={"tracking_code": "1Z999AA10123456784", "carrier_name": "ups"},
    )
    assert ship.status_code == 403 and ship.json()["error"] == "insufficient_scope"


def test_public_shop_endpoints_need_only_the_api_key(etsy: EtsyHarness, shop: dict[str, Any]) -> None:
    by_id = etsy.api("GET", f"/shops/{shop['shop_id']}")
    assert by_id.status_code == 200
    assert by_id.json()["shop_name"] == "ChannelBridgeTestShop"
    by_owner = etsy.api("GET", f"/users/{shop['user_id']}/shops")
    assert by_owner.json()["shop_id"] == shop["shop_id"]
    assert etsy.api("GET", "/shops/999").status_code == 404
    assert etsy.api("GET", "/users/1/shops").status_code == 404


def test_other_users_shop_is_403_and_unknown_ids_404(etsy: EtsyHarness, shop: dict[str, Any], token: str) -> None:
    other = etsy.create_shop(shop_name="SomeoneElse")
    [foreign] = etsy.create_receipts(other["shop_id"])
    forbidden = etsy.api("GET", f"/shops/{other['shop_id']}/receipts", token=token)
    assert forbidden.status_code == 403 and "error" in forbidden.json()
    assert (
        etsy.api("GET", f"/shops/{other['shop_id']}/receipts/{foreign['receipt_id']}", token=token).status_code == 403
    )
    assert etsy.api("GET", "/shops/12345/receipts", token=token).status_code == 404
    assert etsy.api("GET", f"/shops/{shop['shop_id']}/receipts/{foreign['receipt_id']}", token=token).status_code == 404
    bad_id = etsy.api("GET", f"/shops/{shop['shop_id']}/receipts/abc", token=token)
    assert bad_id.status_code == 400 and "receipt_id" in bad_id.json()["error"]


# --------------------------------------------------------------------------- receipts


def _all_pages(etsy: EtsyHarness, shop_id: int, token: str, **params: Any) -> tuple[list[int], list[dict[str, Any]]]:
    counts, results = [], []
    offset = 0
    while True:
        page = etsy.api("GET", f"/shops/{shop_id}/receipts", token=token, params={**params, "offset": offset})
        assert page.status_code == 200, page.text
        body = page.json()
        counts.append(body["count"])
        results.extend(body["results"])
        if len(body["results"]) < params.get("limit", 25):
            return counts, results
        offset += len(body["results"])


def test_pagination_over_250_receipts_with_filters(etsy: EtsyHarness, shop: dict[str, Any], token: str) -> None:
    sid = shop["shop_id"]
    base = int(time.time()) - 10_000
    unshipped = etsy.create_receipts(sid, count=150, create_timestamp=base)
    shipped = etsy.create_receipts(sid, count=60, is_shipped=True, create_timestamp=base + 1000)
    unpaid = etsy.create_receipts(sid, count=40, is_paid=False, create_timestamp=base + 2000)
    assert {r["status"] for r in unshipped} == {"paid"}
    assert {r["status"] for r in shipped} == {"completed"}
    assert {r["status"] for r in unpaid} == {"open"}

    counts, results = _all_pages(
        etsy, sid, token, was_paid="true", was_shipped="false", limit=100, sort_on="created", sort_order="asc"
    )
    assert counts == [150, 150]
    assert [r["receipt_id"] for r in results] == [r["receipt_id"] for r in unshipped]
    assert all(r["is_paid"] and not r["is_shipped"] for r in results)

    page = etsy.api("GET", f"/shops/{sid}/receipts", token=token, params={"was_paid": "true", "offset": 140}).json()
    assert page["count"] == 210 and len(page["results"]) == 25

    default = etsy.api("GET", f"/shops/{sid}/receipts", token=token).json()
    assert default["count"] == 250 and len(default["results"]) == 25
    assert default["results"][0]["receipt_id"] == unpaid[-1]["receipt_id"]  # created desc by default

    assert etsy.api("GET", f"/shops/{sid}/receipts", token=token, params={"was_paid": "false"}).json()["count"] == 40
    shipped_ids = {r["receipt_id"] for r in _all_pages(etsy, sid, token, was_shipped="true", limit=25)[1]}
    assert shipped_ids == {r["receipt_id"] for r in shipped}
    past_end = etsy.api("GET", f"/shops/{sid}/receipts", token=token, params={"offset": 250}).json()
    assert past_end == {"count": 250, "results": []}


def test_sort_and_created_window(etsy: EtsyHarness, shop: dict[str, Any], token: str) -> None:
    sid = shop["shop_id"]
    base = int(time.time()) - 5_000
    made = etsy.create_receipts(sid, count=10, create_timestamp=base)
    ids = [r["receipt_id"] for r in made]
    for order, expected in (("up", ids), ("down", ids[::-1]), ("ascending", ids), ("descending", ids[::-1])):
        page = etsy.api(
            "GET", f"/shops/{sid}/receipts", token=token, params={"sort_on": "receipt_id", "sort_order": order}
        )
        assert [r["receipt_id"] for r in page.json()["results"]] == expected
    window = etsy.api(
        "GET", f"/shops/{sid}/receipts", token=token, params={"min_created": base - 5, "max_created": base - 2}
    ).json()
    assert window["count"] == 4  # created base-9 .. base, one second apart


def test_min_last_modified_sees_only_changed_receipts(etsy: EtsyHarness, shop: dict[str, Any], token: str) -> None:
    sid = shop["shop_id"]
    old = int(time.time()) - 86_400
    made = etsy.create_receipts(sid, count=6, create_timestamp=old)
    watermark = int(time.time()) - 60
    assert etsy.api("GET", f"/shops/{sid}/receipts", token=token, params={"min_last_modified": watermark}).json() == {
        "count": 0,
        "results": [],
    }
    cancelled = etsy.control("PATCH", f"/shops/{sid}/receipts/{made[1]['receipt_id']}", json={"status": "canceled"})
    assert cancelled["update_timestamp"] >= watermark
    delivered = etsy.control("PATCH", f"/shops/{sid}/receipts/{made[4]['receipt_id']}", json={"is_delivered": True})
    changed = etsy.api(
        "GET",
        f"/shops/{sid}/receipts",
        token=token,
        params={"min_last_modified": watermark, "sort_on": "updated", "sort_order": "asc"},
    ).json()
    assert [r["receipt_id"] for r in changed["results"]] == [cancelled["receipt_id"], delivered["receipt_id"]]
    assert changed["results"][0]["status"] == "canceled"
    assert etsy.api("GET", f"/shops/{sid}/receipts", token=token, params={"was_canceled": "true"}).json()["count"] == 1
    assert etsy.api("GET", f"/shops/{sid}/receipts", token=token, params={"was_delivered": "true"}).json()["count"] == 1
    older = etsy.api("GET", f"/shops/{sid}/receipts", token=token, params={"max_last_modified": watermark}).json()
    assert older["count"] == 4


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": -1}, "offset"),
        ({"sort_on": "price"}, "sort_on"),
        ({"sort_order": "sideways"}, "sort_order"),
        ({"min_created": 5}, "min_created"),
        ({"was_paid": "maybe"}, "was_paid"),
    ],
)
def test_receipt_query_validation(
    etsy: EtsyHarness, shop: dict[str, Any], token: str, params: dict[str, Any], name: str
) -> None:
    response = etsy.api("GET", f"/shops/{shop['shop_id']}/receipts", token=token, params=params)
    assert response.status_code == 400
    assert set(response.json()) == {"error"}
    assert f"'{name}'" in response.json()["error"]


def test_receipt_payload_carries_every_spec_field(
    etsy: EtsyHarness, shop: dict[str, Any], token: str, etsy_spec: Any
) -> None:
    _, raw = etsy_spec
    schemas = raw["components"]["schemas"]
    [made] = etsy.create_receipts(
        shop["shop_id"],
        buyer_email=None,
        shipping_cost="4.99",
        tax_cost="1.20",
        discount="2.00",
        transactions=[
            {
                "title": "Mug",
                "sku": "MUG-RED-L",
                "quantity": 2,
                "price": "12.50",
                "variations": [
                    {"formatted_name": "Colour", "formatted_value": "Red"},
                    {"formatted_name": "Size", "formatted_value": "L"},
                ],
            },
            {"title": "Sticker", "sku": None, "quantity": 1, "price": "3.00"},
        ],
    )
    receipt = etsy.api("GET", f"/shops/{shop['shop_id']}/receipts/{made['receipt_id']}", token=token).json()
    assert set(receipt) == set(schemas["ShopReceipt"]["properties"])
    assert set(receipt["transactions"][0]) == set(schemas["ShopReceiptTransaction"]["properties"])
    assert receipt["buyer_email"] is None
    assert receipt["total_price"] == {"amount": 2800, "divisor": 100, "currency_code": "USD"}
    assert receipt["subtotal"]["amount"] == 2600
    assert receipt["grandtotal"]["amount"] == 2800 - 200 + 499 + 120
    first, second = receipt["transactions"]
    assert first["sku"] == "MUG-RED-L" and second["sku"] is None
    assert first["price"] == {"amount": 1250, "divisor": 100, "currency_code": "USD"}
    assert [(v["formatted_name"], v["formatted_value"]) for v in first["variations"]] == [
        ("Colour", "Red"),
        ("Size", "L"),
    ]
    shop_json = etsy.api("GET", f"/shops/{shop['shop_id']}").json()
    assert set(shop_json) == set(schemas["Shop"]["properties"])


# --------------------------------------------------------------------------- fulfilment


def test_create_receipt_shipment_marks_shipped(etsy: EtsyHarness, shop: dict[str, Any], token: str) -> None:
    sid = shop["shop_id"]
    [made] = etsy.create_receipts(sid, create_timestamp=int(time.time()) - 3600)
    rid = made["receipt_id"]
    response = etsy.api(
        "POST",
        f"/shops/{sid}/receipts/{rid}/tracking",
        token=token,
        data={"tracking_code": "1Z999AA10123456784", "carrier_name": "ups", "send_bcc": "true", "note_to_buyer": "Hi"},
    )
    assert response.status_code == 200, response.text
    receipt = response.json()
    assert receipt["is_shipped"] is True
    assert receipt["status"] == "completed"
    assert receipt["update_timestamp"] > made["update_timestamp"]
    assert [(s["carrier_name"], s["tracking_code"]) for s in receipt["shipments"]] == [("ups", "1Z999AA10123456784")]
    assert receipt["transactions"][0]["shipped_timestamp"] is not None

    recorded = etsy.control("GET", f"/shops/{sid}/receipts/{rid}/shipments")
    assert recorded["count"] == 1
    assert recorded["results"][0]["send_bcc"] is True
    assert recorded["results"][0]["note_to_buyer"] == "Hi"
    assert etsy.control("GET", "/tracking")["results"][0]["receipt_id"] == rid

    unshipped = etsy.api("GET", f"/shops/{sid}/receipts", token=token, params={"was_shipped": "false"}).json()
    assert unshipped["count"] == 0

    again = etsy.api(
        "POST",
        f"/shops/{sid}/receipts/{rid}/tracking",
        token=token,
        data={"tracking_code": "RR123", "carrier_name": "other"},
    )
    assert len(again.json()["shipments"]) == 2  # not idempotent, as on Etsy


def test_create_receipt_shipment_accepts_json_body(etsy: EtsyHarness, shop: dict[str, Any], token: str) -> None:
    [made] = etsy.create_receipts(shop["shop_id"])
    with etsy.contract.off_spec_request():
        response = etsy.api(
            "POST",
            f"/shops/{shop['shop_id']}/receipts/{made['receipt_id']}/tracking",
            token=token,
            json={"tracking_code": "9400111899223197428490", "carrier_name": "USPS", "send_bcc": False},
        )
    assert response.status_code == 200
    assert response.json()["shipments"][0]["carrier_name"] == "USPS"


def test_create_receipt_shipment_validation(etsy: EtsyHarness, shop: dict[str, Any], token: str) -> None:
    sid = shop["shop_id"]
    [us_order] = etsy.create_receipts(sid)  # US, $10 + nothing = not over $10
    [big_us] = etsy.create_receipts(sid, transactions=[{"price": "25.00"}])
    [german] = etsy.create_receipts(sid, country_iso="DE", currency_code="EUR", transactions=[{"price": "40.00"}])
    [cancelled] = etsy.create_receipts(sid, status="Canceled")

    def ship(receipt: dict[str, Any], **form: str) -> httpx.Response:
        return etsy.api("POST", f"/shops/{sid}/receipts/{receipt['receipt_id']}/tracking", token=token, data=form)

    only_code = ship(big_us, tracking_code="1Z999AA10123456784")
    assert only_code.status_code == 400 and "'carrier_name'" in only_code.json()["error"]
    only_carrier = ship(big_us, carrier_name="ups")
    assert only_carrier.status_code == 400 and "'tracking_code'" in only_carrier.json()["error"]
    unknown_carrier = ship(big_us, tracking_code="1Z999AA10123456784", carrier_name="Pigeon Express")
    assert unknown_carrier.status_code == 400 and "'carrier_name'" in unknown_carrier.json()["error"]
    bad_code = ship(big_us, tracking_code="not a code!", carrier_name="ups")
    assert bad_code.status_code == 400 and "'tracking_code'" in bad_code.json()["error"]
    needs_tracking = ship(big_us)
    assert needs_tracking.status_code == 400 and "tracking_code" in needs_tracking.json()["error"]
    assert ship(cancelled, tracking_code="1Z999AA10123456784", carrier_name="ups").status_code == 409

    marked = ship(german)
    assert marked.status_code == 200
    assert marked.json()["is_shipped"] is True and marked.json()["shipments"] == []
    assert ship(us_order).status_code == 200  # exactly $10 is not "over $10"

    log = etsy.requests_log(f"/v3/application/shops/{sid}/receipts/{big_us['receipt_id']}/tracking")
    assert [e["status"] for e in log] == [400, 400, 400, 400, 400]
    state = etsy.api("GET", f"/shops/{sid}/receipts/{big_us['receipt_id']}", token=token).json()
    assert state["is_shipped"] is False and state["shipments"] == []


def test_refunds_and_payment_via_control_api(etsy: EtsyHarness, shop: dict[str, Any], token: str) -> None:
    sid = shop["shop_id"]
    [unpaid] = etsy.create_receipts(sid, is_paid=False, status="payment processing", transactions=[{"price": "20.00"}])
    paid = etsy.control("PATCH", f"/shops/{sid}/receipts/{unpaid['receipt_id']}", json={"is_paid": True})
    assert paid["status"] == "paid" and paid["transactions"][0]["paid_timestamp"] is not None
    partial = etsy.control(
        "PATCH",
        f"/shops/{sid}/receipts/{unpaid['receipt_id']}",
        json={"add_refund": {"amount": "5.00", "reason": "late"}},
    )
    assert partial["status"] == "partially refunded"
    assert partial["refunds"][0]["amount"] == {"amount": 500, "divisor": 100, "currency_code": "USD"}
    full = etsy.control("PATCH", f"/shops/{sid}/receipts/{unpaid['receipt_id']}", json={"add_refund": {"amount": "15"}})
    assert full["status"] == "fully refunded"
    via_api = etsy.api("GET", f"/shops/{sid}/receipts/{unpaid['receipt_id']}", token=token).json()
    assert len(via_api["refunds"]) == 2


# --------------------------------------------------------------------------- rate limits


def test_burst_gets_429_with_retry_after_and_limit_headers(etsy: EtsyHarness, shop: dict[str, Any]) -> None:
    etsy.settings(rate_per_second=5, rate_per_day=1000)
    responses = [etsy.api("GET", f"/shops/{shop['shop_id']}") for _ in range(12)]
    statuses = [r.status_code for r in responses]
    assert statuses.count(429) >= 5 and statuses[0] == 200
    ok, limited = responses[0], next(r for r in responses if r.status_code == 429)
    assert ok.headers["x-limit-per-second"] == "5"
    assert ok.headers["x-limit-per-day"] == "1000"
    assert int(ok.headers["x-remaining-this-second"]) == 4
    assert int(ok.headers["x-remaining-today"]) == 999
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["x-remaining-this-second"] == "0"
    assert "error" in limited.json()
    time.sleep(float(limited.headers["retry-after"]) + 0.1)
    assert etsy.api("GET", f"/shops/{shop['shop_id']}").status_code == 200


def test_daily_budget_is_enforced(etsy: EtsyHarness, shop: dict[str, Any]) -> None:
    etsy.settings(rate_per_day=3)
    statuses = [etsy.api("GET", f"/shops/{shop['shop_id']}").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    blocked = etsy.api("GET", f"/shops/{shop['shop_id']}")
    assert blocked.headers["x-remaining-today"] == "0"
    assert int(blocked.headers["retry-after"]) > 80_000


# --------------------------------------------------------------------------- faults


def test_fault_rate_limit(etsy: EtsyHarness, shop: dict[str, Any], token: str) -> None:
    etsy.fault(kind="rate_limit", count=2, retry_after=7)
    first, second, third = (etsy.api("GET", "/users/me", token=token) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert first.headers["retry-after"] == "7"
    assert [e["fault"] for e in etsy.requests_log("/v3/application/users/me")] == ["rate_limit", "rate_limit", None]


def test_fault_server_error(etsy: EtsyHarness, shop: dict[str, Any], token: str) -> None:
    etsy.fault(kind="server_error", count=3, status=503)
    statuses = [etsy.api("GET", "/users/me", token=token).status_code for _ in range(4)]
    assert statuses == [503, 503, 503, 200]
    etsy.fault(kind="server_error")
    failed = etsy.api("GET", "/users/me", token=token)
    assert failed.status_code == 500 and failed.json() == {"error": "Internal Server Error"}


def test_fault_slow(etsy: EtsyHarness, shop: dict[str, Any], token: str) -> None:
    etsy.fault(kind="slow", count=1, delay_s=0.6)
    started = time.monotonic()
    assert etsy.api("GET", "/users/me", token=token).status_code == 200
    assert time.monotonic() - started >= 0.6
    started = time.monotonic()
    etsy.api("GET", "/users/me", token=token)
    assert time.monotonic() - started < 0.5
    etsy.fault(kind="slow", delay_s=1)
    with pytest.raises(httpx.ReadTimeout):
        etsy.http.get("/v3/application/users/me", timeout=0.3)
    # Let the abandoned request finish server-side so it cannot leak into the next test's log.
    deadline = time.monotonic() + 5
    while len(etsy.requests_log("/v3/application/users/me")) < 3:
        assert time.monotonic() < deadline, "slow request never completed"
        time.sleep(0.05)


def test_fault_path_prefix_and_clear(etsy: EtsyHarness, shop: dict[str, Any], token: str) -> None:
    etsy.fault(kind="server_error", count=5, path_prefix=f"/v3/application/shops/{shop['shop_id']}/receipts")
    assert etsy.api("GET", "/users/me", token=token).status_code == 200
    assert etsy.api("GET", f"/shops/{shop['shop_id']}/receipts", token=token).status_code == 500
    assert etsy.control("GET", "/faults")["results"][0]["remaining"] == 4
    etsy.control("DELETE", "/faults")
    assert etsy.api("GET", f"/shops/{shop['shop_id']}/receipts", token=token).status_code == 200


def test_fault_expire_tokens(etsy: EtsyHarness, shop: dict[str, Any]) -> None:
    tokens = etsy.connect()
    assert etsy.fault(kind="expire_tokens")["affected"] == 1
    expired = etsy.api("GET", "/users/me", token=tokens["access_token"])
    assert expired.status_code == 401
    assert expired.json()["error_description"] == "access token is expired"
    fresh = etsy.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert fresh.status_code == 200
    assert etsy.api("GET", "/users/me", token=fresh.json()["access_token"]).status_code == 200


def test_fault_revoke_grant(etsy: EtsyHarness, shop: dict[str, Any]) -> None:
    tokens = etsy.connect()
    other = etsy.create_shop(shop_name="Bystander")
    bystander = etsy.control("POST", "/tokens", json={"user_id": other["user_id"]})
    etsy.fault(kind="revoke_grant", user_id=shop["user_id"])
    revoked = etsy.api("GET", "/users/me", token=tokens["access_token"])
    assert revoked.status_code == 401
    assert revoked.json() == {"error": "invalid_token", "error_description": "access token is revoked"}
    refresh = etsy.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refresh.status_code == 400
    assert refresh.json() == {"error": "invalid_grant", "error_description": "refresh_token is revoked"}
    assert etsy.api("GET", "/users/me", token=bystander["access_token"]).status_code == 200


def test_fault_token_server_error(etsy: EtsyHarness, shop: dict[str, Any]) -> None:
    tokens = etsy.connect()
    etsy.fault(kind="token_server_error", count=2)
    first = etsy.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    second = etsy.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert (first.status_code, second.status_code) == (503, 503)
    third = etsy.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert third.status_code == 200  # failed attempts did not consume the refresh token


def test_request_log_and_reset(etsy: EtsyHarness, shop: dict[str, Any], token: str) -> None:
    etsy.control("DELETE", "/requests")
    etsy.api("GET", f"/shops/{shop['shop_id']}/receipts", token=token, params={"limit": 500})
    [entry] = etsy.requests_log()
    assert entry["method"] == "GET"
    assert entry["status"] == 400
    assert entry["params"] == {"limit": "500"} and entry["query"] == "limit=500"
    etsy.control("POST", "/reset")
    assert etsy.control("GET", "/shops")["results"] == []
    assert etsy.requests_log() == []
    assert etsy.api("GET", "/users/me", token=token).status_code == 401


# --------------------------------------------------------------------------- contract


def test_contract_checks_ran_and_catch_drift(etsy: EtsyHarness, shop: dict[str, Any], token: str) -> None:
    """The recorder validated real traffic, and rejects a response that drifts from the spec."""
    sid = shop["shop_id"]
    [made] = etsy.create_receipts(sid)
    for path in ("/users/me", f"/shops/{sid}", f"/users/{shop['user_id']}/shops", f"/shops/{sid}/receipts"):
        assert etsy.api("GET", path, token=token).status_code == 200
    good = etsy.api("GET", f"/shops/{sid}/receipts/{made['receipt_id']}", token=token)
    assert etsy.api("GET", "/shops/99/receipts/1", token=token).status_code == 404
    assert etsy.contract.validated == 6

    drifted = [
        {**good.json(), "status": "Paid"},
        {**good.json(), "grandtotal": {"amount": "28.00", "divisor": 100, "currency_code": "USD"}},
        {**good.json(), "gift_message": None},
    ]
    for body in drifted:
        response = OpenAPIResponse(200, {"content-type": "application/json"}, httpx.Response(200, json=body).content)
        with pytest.raises(InvalidData):
            etsy.contract.check_response(good.request, response)
