"""Behaviour of the Allegro emulator over real HTTP, checked against Allegro's OpenAPI file.

Every REST exchange also passes through the contract recorder (see allegro_fixtures), so a
payload drifting from the spec fails whichever test produced it.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from openapi_core.validation.response.exceptions import InvalidData

from sandbox.allegro.errors import MEDIA_TYPE
from tests.openapi_exchange import OpenAPIRequest, OpenAPIResponse
from tests.sandbox.allegro_contract import ALLEGRO_HOST

pytest.register_assert_rewrite("tests.sandbox.allegro_fixtures")

from tests.sandbox.allegro_fixtures import REDIRECT_URI, SCOPES, AllegroHarness, pkce_pair  # noqa: E402

# The fixtures (server, spec, harness, seller, token) live beside the Etsy conftest, not in it.
pytest_plugins = ("tests.sandbox.allegro_fixtures",)

Seller = dict[str, Any]


# Short local names; the Etsy conftest in this folder already owns a fixture called `token`.
@pytest.fixture(name="seller")
def _seller(allegro_seller: Seller) -> Seller:
    return allegro_seller


@pytest.fixture(name="token")
def _token(allegro_token: str) -> str:
    return allegro_token


def _jwt_claims(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _events(allegro: AllegroHarness, token: str, **params: Any) -> list[dict[str, Any]]:
    return allegro.get_json("/order/events", token, params=params)["events"]


def _types_for(events: list[dict[str, Any]], form_id: str) -> list[str]:
    return [e["type"] for e in events if e["order"]["checkoutForm"]["id"] == form_id]


# --------------------------------------------------------------------------- OAuth


def test_code_flow_with_basic_auth_and_pkce_identifies_the_seller(allegro: AllegroHarness, seller: Seller) -> None:
    verifier, challenge = pkce_pair()
    redirect = allegro.authorize(scope=SCOPES, state="xyz-123", code_challenge=challenge, code_challenge_method="S256")
    assert redirect.status_code == 302
    location = urlsplit(redirect.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    query = parse_qs(location.query)
    assert query["state"] == ["xyz-123"]

    response = allegro.token(
        grant_type="authorization_code", code=query["code"][0], redirect_uri=REDIRECT_URI, code_verifier=verifier
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 43199
    assert body["scope"] == SCOPES
    assert {"access_token", "refresh_token", "jti"} <= body.keys()
    claims = _jwt_claims(body["access_token"])
    assert claims["user_name"] == seller["id"] and claims["jti"] == body["jti"]
    assert body["refresh_token"].count(".") == 2

    me = allegro.get_json("/me", body["access_token"])
    assert me["id"] == seller["id"] and me["login"] == "ChannelBridgeSeller"


def test_authorization_code_rules(allegro: AllegroHarness, seller: Seller) -> None:
    verifier, challenge = pkce_pair()
    wrong_verifier, _ = pkce_pair()
    code = allegro.authorization_code(code_challenge=challenge, code_challenge_method="S256")
    bad = allegro.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI, code_verifier=wrong_verifier)
    assert bad.status_code == 400 and bad.json() == {"error": "invalid_grant", "error_description": "Invalid code_verifier"}
    missing = allegro.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI)
    assert missing.json()["error"] == "invalid_grant"
    mismatch = allegro.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI + "/x", code_verifier=verifier)
    assert mismatch.json()["error"] == "invalid_grant"
    ok = allegro.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier)
    assert ok.status_code == 200
    again = allegro.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"

    # PKCE is optional on Allegro; a form body works as well as the documented query string.
    plain_code = allegro.authorization_code()
    form = allegro.http.post(
        "/auth/oauth/token",
        data={"grant_type": "authorization_code", "code": plain_code, "redirect_uri": REDIRECT_URI},
        auth=allegro.client_auth,
    )
    assert form.status_code == 200 and form.json()["refresh_token"]


def test_token_endpoint_requires_basic_client_auth(allegro: AllegroHarness, seller: Seller) -> None:
    code = allegro.authorization_code()
    anonymous = allegro.token(auth=None, grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI)
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "unauthorized"
    wrong = allegro.token(auth=("sandbox-allegro-client-id", "nope"), grant_type="authorization_code", code=code)
    assert wrong.status_code == 400
    assert wrong.json() == {"error": "invalid_request", "error_description": "Unauthorized"}
    assert allegro.token(grant_type="password").json()["error"] == "unsupported_grant_type"


def test_authorize_redirects_errors_back_with_state(allegro: AllegroHarness, seller: Seller) -> None:
    unknown = allegro.authorize(client_id="nope")
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_client"
    bad_scope = allegro.authorize(scope="allegro:api:orders:read allegro:api:wizardry", state="s1")
    query = parse_qs(urlsplit(bad_scope.headers["location"]).query)
    assert query["error"] == ["invalid_scope"] and query["state"] == ["s1"] and "code" not in query
    allegro.settings(deny_consent=True)
    denied = parse_qs(urlsplit(allegro.authorize().headers["location"]).query)
    assert denied["error"] == ["access_denied"]


def test_approving_user_setting_chooses_who_connects(allegro: AllegroHarness, seller: Seller) -> None:
    other = allegro.create_user(login="SecondSeller")
    allegro.settings(approving_user_id=other["id"])
    tokens = allegro.connect()
    assert allegro.get_json("/me", tokens["access_token"])["login"] == "SecondSeller"


def test_refresh_rotates_pair_old_access_dies_at_once_old_refresh_lives_through_grace(
    allegro: AllegroHarness, seller: Seller
) -> None:
    first = allegro.connect()
    rotated = allegro.token(grant_type="refresh_token", refresh_token=first["refresh_token"], redirect_uri=REDIRECT_URI)
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"] and second["access_token"] != first["access_token"]

    old_access = allegro.api("GET", "/me", first["access_token"])
    assert old_access.status_code == 401 and old_access.json()["error"] == "invalid_token"
    assert allegro.api("GET", "/me", second["access_token"]).status_code == 200

    allegro.advance(59)  # a second worker that still holds the old refresh token is let through
    within_grace = allegro.token(grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert within_grace.status_code == 200
    assert within_grace.json()["refresh_token"] not in (first["refresh_token"], second["refresh_token"])

    allegro.advance(2)
    after_grace = allegro.token(grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert after_grace.status_code == 400 and after_grace.json()["error"] == "invalid_grant"
    assert allegro.token(grant_type="refresh_token", refresh_token=second["refresh_token"]).status_code == 200


def test_grace_window_is_configurable(allegro: AllegroHarness, seller: Seller) -> None:
    allegro.settings(refresh_grace_s=0)
    first = allegro.connect()
    assert allegro.token(grant_type="refresh_token", refresh_token=first["refresh_token"]).status_code == 200
    allegro.advance(1)
    assert allegro.token(grant_type="refresh_token", refresh_token=first["refresh_token"]).json()["error"] == "invalid_grant"


def test_access_token_lives_12_hours_and_refresh_token_3_months(allegro: AllegroHarness, seller: Seller) -> None:
    tokens = allegro.connect()
    allegro.advance(12 * 3600 - 10)
    assert allegro.api("GET", "/me", tokens["access_token"]).status_code == 200
    allegro.advance(11)
    expired = allegro.api("GET", "/me", tokens["access_token"])
    assert expired.status_code == 401 and expired.json()["error"] == "invalid_token"

    allegro.advance(90 * 86400)
    dead = allegro.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert dead.status_code == 400 and dead.json()["error"] == "invalid_grant"


def test_client_credentials_token_reads_carriers_but_not_user_resources(allegro: AllegroHarness, seller: Seller) -> None:
    app_token = allegro.token(grant_type="client_credentials").json()
    assert "refresh_token" not in app_token
    carriers = allegro.get_json("/order/carriers", app_token["access_token"])["carriers"]
    assert {"id": "OTHER"} in carriers and {"id": "DHL", "name": "DHL"} in carriers
    forbidden = allegro.api("GET", "/me", app_token["access_token"])
    assert forbidden.status_code == 403 and forbidden.json()["errors"][0]["code"] == "AccessDenied"


def test_bearer_and_scope_checks(allegro: AllegroHarness, seller: Seller) -> None:
    missing = allegro.api("GET", "/order/events", None)
    assert missing.status_code == 401 and missing.json()["error"] == "unauthorized"
    forged = allegro.api("GET", "/order/events", "forged.jwt.token")
    assert forged.status_code == 401 and forged.json()["error"] == "invalid_token"
    read_only = allegro.control("POST", "/tokens", json={"user_id": seller["id"], "scopes": ["allegro:api:orders:read"]})
    form = allegro.create_order(seller["id"])
    shipment = allegro.api(
        "POST",
        f"/order/checkout-forms/{form['id']}/shipments",
        read_only["access_token"],
        body={"carrierId": "DHL", "waybill": "123"},
    )
    assert shipment.status_code == 403
    assert allegro.api("GET", "/me", read_only["access_token"]).status_code == 403


# --------------------------------------------------------------------------- content negotiation


def test_requests_without_the_vendor_media_type_get_406(allegro: AllegroHarness, seller: Seller, token: str) -> None:
    for accept in ("application/json", None, "*/*"):
        response = allegro.api("GET", "/order/checkout-forms", token, accept=accept)
        assert response.status_code == 406
        [error] = response.json()["errors"]
        assert error["code"] == "NotAcceptableException" and error["userMessage"]
    ok = allegro.api("GET", "/order/checkout-forms", token, accept=f"application/json, {MEDIA_TYPE}")
    assert ok.status_code == 200
    assert ok.headers["content-type"] == MEDIA_TYPE and ok.headers["trace-id"]


def test_bodies_must_use_the_vendor_media_type(allegro: AllegroHarness, seller: Seller, token: str) -> None:
    form = allegro.create_order(seller["id"])
    response = allegro.api(
        "POST",
        f"/order/checkout-forms/{form['id']}/shipments",
        token,
        body={"carrierId": "DHL", "waybill": "123"},
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 415


def test_user_message_follows_accept_language(allegro: AllegroHarness, seller: Seller, token: str) -> None:
    response = allegro.api("GET", "/order/checkout-forms", token, params={"status": "PAID"}, headers={"accept-language": "pl-PL"})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["path"] == "status" and "niepoprawne" in error["userMessage"]


# --------------------------------------------------------------------------- journal


def test_event_stats_is_null_until_something_happens(allegro: AllegroHarness, seller: Seller, token: str) -> None:
    assert allegro.get_json("/order/event-stats", token) == {"latestEvent": None}
    allegro.create_order(seller["id"])
    events = _events(allegro, token)
    latest = allegro.get_json("/order/event-stats", token)["latestEvent"]
    assert latest == {"id": events[-1]["id"], "occurredAt": events[-1]["occurredAt"]}


def test_paid_order_writes_bought_filled_in_ready_for_processing(allegro: AllegroHarness, seller: Seller, token: str) -> None:
    form = allegro.create_order(seller["id"], lineItems=[{"offer": {"id": "777", "name": "Kubek", "external": {"id": "SKU-1"}}}])
    events = _events(allegro, token)
    assert [e["type"] for e in events] == ["BOUGHT", "FILLED_IN", "READY_FOR_PROCESSING"]
    assert [int(e["id"]) for e in events] == sorted(int(e["id"]) for e in events)
    ready = events[-1]
    assert ready["order"]["checkoutForm"] == {"id": form["id"], "revision": form["revision"]}
    assert ready["order"]["seller"] == {"id": seller["id"]}
    assert ready["order"]["lineItems"][0]["offer"] == {"id": "777", "name": "Kubek", "external": {"id": "SKU-1"}}
    assert ready["order"]["buyer"]["login"] == form["buyer"]["login"]


def test_journal_pages_with_exclusive_from_and_limit(allegro: AllegroHarness, seller: Seller, token: str) -> None:
    allegro.create_orders(seller["id"], count=5)  # 15 events
    everything = _events(allegro, token, limit=1000)
    assert len(everything) == 15
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 4}
        if cursor is not None:
            params["from"] = cursor
        page = _events(allegro, token, **params)
        if not page:
            break
        seen += [e["id"] for e in page]
        cursor = page[-1]["id"]
    assert seen == [e["id"] for e in everything]
    assert _events(allegro, token, **{"from": everything[-1]["id"]}) == []
    for bad in ({"limit": 0}, {"limit": 1001}, {"type": "PAID"}, {"from": "abc"}):
        response = allegro.api("GET", "/order/events", token, params=bad)
        assert response.status_code == 422, bad


def test_type_filter_is_repeatable(allegro: AllegroHarness, seller: Seller, token: str) -> None:
    allegro.create_orders(seller["id"], count=2)
    allegro.create_order(seller["id"], status="CANCELLED", cancellation={"type": "BUYER_CANCELLED"})
    events = _events(allegro, token, type=["READY_FOR_PROCESSING", "BUYER_CANCELLED"])
    assert [e["type"] for e in events] == ["READY_FOR_PROCESSING", "READY_FOR_PROCESSING", "BUYER_CANCELLED"]
    requested = allegro.control("GET", "/requests", params={"path_prefix": "/order/events"})["requests"][-1]
    assert requested["params"]["type"] == ["READY_FOR_PROCESSING", "BUYER_CANCELLED"]


def test_duplicate_ready_for_processing_events(allegro: AllegroHarness, seller: Seller, token: str) -> None:
    doubled = allegro.create_order(seller["id"], duplicateReadyForProcessing=1)
    replayed = allegro.create_order(seller["id"])
    allegro.control("POST", f"/checkout-forms/{replayed['id']}/events", json={"type": "READY_FOR_PROCESSING"})
    allegro.settings(duplicate_ready_for_processing=True)
    flagged = allegro.create_order(seller["id"])

    events = _events(allegro, token, type="READY_FOR_PROCESSING")
    for form in (doubled, replayed, flagged):
        dupes = [e for e in events if e["order"]["checkoutForm"]["id"] == form["id"]]
        assert len(dupes) == 2
        assert dupes[0]["id"] != dupes[1]["id"]
        assert dupes[0]["order"]["checkoutForm"] == dupes[1]["order"]["checkoutForm"]


def test_cancellation_before_payment(allegro: AllegroHarness, seller: Seller, token: str) -> None:
    by_buyer = allegro.create_order(seller["id"], status="CANCELLED", cancellation={"type": "BUYER_CANCELLED"})
    unpaid = allegro.create_order(seller["id"], status="FILLED_IN")
    cancelled = allegro.control("POST", f"/checkout-forms/{unpaid['id']}/cancel", json={"type": "AUTO_CANCELLED"})
    assert cancelled["status"] == "CANCELLED" and "finishedAt" not in cancelled["payment"]

    events = _events(allegro, token)
    assert _types_for(events, by_buyer["id"]) == ["BOUGHT", "BUYER_CANCELLED"]
    assert _types_for(events, unpaid["id"]) == ["BOUGHT", "FILLED_IN", "AUTO_CANCELLED"]
    assert allegro.get_json(f"/order/checkout-forms/{by_buyer['id']}", token)["status"] == "CANCELLED"


def test_cancellation_after_payment(allegro: AllegroHarness, seller: Seller, token: str) -> None:
    created = allegro.create_order(
        seller["id"], status="CANCELLED", cancellation={"type": "BUYER_CANCELLED", "afterPayment": True}
    )
    paid = allegro.create_order(seller["id"])
    allegro.control("POST", f"/checkout-forms/{paid['id']}/cancel", json={"type": "BUYER_CANCELLED"})

    events = _events(allegro, token)
    for form in (created, paid):
        assert _types_for(events, form["id"]) == ["BOUGHT", "FILLED_IN", "READY_FOR_PROCESSING", "BUYER_CANCELLED"]
        fetched = allegro.get_json(f"/order/checkout-forms/{form['id']}", token)
        assert fetched["status"] == "CANCELLED" and fetched["payment"]["paidAmount"]["amount"] == "62.98"


def test_buyer_cannot_cancel_once_the_seller_started_or_auto_cancel_a_paid_order(
    allegro: AllegroHarness, seller: Seller, token: str
) -> None:
    processing = allegro.create_order(seller["id"], fulfillmentStatus="PROCESSING")
    refused = allegro.http.post(f"/_sandbox/allegro/checkout-forms/{processing['id']}/cancel", json={"type": "BUYER_CANCELLED"})
    assert refused.status_code == 409
    paid = allegro.create_order(seller["id"])
    auto = allegro.http.post(f"/_sandbox/allegro/checkout-forms/{paid['id']}/cancel", json={"type": "AUTO_CANCELLED"})
    assert auto.status_code == 409
    forced = allegro.control(
        "POST", f"/checkout-forms/{processing['id']}/cancel", json={"type": "BUYER_CANCELLED", "force": True}
    )
    assert forced["status"] == "CANCELLED"


def test_buyer_modification_bumps_revision_and_is_journalled(allegro: AllegroHarness, seller: Seller, token: str) -> None:
    form = allegro.create_order(seller["id"])
    modified = allegro.control(
        "POST",
        f"/checkout-forms/{form['id']}/modify",
        json={"delivery": {"address": {"street": "Nowa 1", "city": "Kraków", "zipCode": "30-001"}}},
    )
    assert modified["revision"] != form["revision"] and modified["updatedAt"] > form["updatedAt"]
    assert modified["delivery"]["address"]["street"] == "Nowa 1"
    assert (
        modified["delivery"]["method"] == form["delivery"]["method"] and modified["delivery"]["cost"] == form["delivery"]["cost"]
    )
    [event] = _events(allegro, token, type="BUYER_MODIFIED")
    assert event["order"]["checkoutForm"] == {"id": form["id"], "revision": modified["revision"]}


def test_journal_retention_drops_old_events(allegro: AllegroHarness, seller: Seller, token: str) -> None:
    old = allegro.create_order(seller["id"])
    allegro.advance(59 * 86400)
    recent = allegro.create_order(seller["id"])
    allegro.advance(2 * 86400)
    token = allegro.control("POST", "/tokens", json={"user_id": seller["id"]})["access_token"]
    events = _events(allegro, token)
    assert {e["order"]["checkoutForm"]["id"] for e in events} == {recent["id"]}
    assert _events(allegro, token, **{"from": "1"})[0]["id"] == events[0]["id"]  # oldest retained event
    assert old["id"] in {e["order"]["checkoutForm"]["id"] for e in allegro.control("GET", "/events")["events"]}
    allegro.advance(60 * 86400)
    token = allegro.control("POST", "/tokens", json={"user_id": seller["id"]})["access_token"]
    assert allegro.get_json("/order/event-stats", token) == {"latestEvent": None}


def test_journal_is_per_seller(allegro: AllegroHarness, seller: Seller, token: str) -> None:
    other = allegro.create_user()
    allegro.create_order(other["id"])
    assert _events(allegro, token) == []


# --------------------------------------------------------------------------- checkout forms


def test_checkout_form_carries_every_field_the_integration_reads(allegro: AllegroHarness, seller: Seller, token: str) -> None:
    created = allegro.create_order(
        seller["id"],
        buyer={"login": "Klient_PL", "email": "klient@allegromail.pl", "companyName": "Udix"},
        lineItems=[
            {"offer": {"id": "101", "name": "Koszulka M", "external": {"id": "TS-RED-M"}}, "quantity": 2, "price": "49.99"},
            {"offer": {"id": "102", "name": "Kubek"}, "price": "10.50", "originalPrice": "12.00"},
        ],
        delivery={
            "method": {"id": "inpost-locker", "name": "Allegro Paczkomaty InPost"},
            "pickupPoint": {"id": "POZ08A", "name": "Paczkomat POZ08A", "description": "Stacja paliw BP"},
            "cost": "8.99",
            "smart": True,
        },
        invoice={
            "required": True,
            "address": {
                "street": "Grunwaldzka 182",
                "city": "Poznań",
                "zipCode": "60-166",
                "company": {"name": "Udix Sp. z o.o.", "taxId": "5252674798", "ids": [{"type": "PL_NIP", "value": "5252674798"}]},
            },
        },
        messageToSeller="Proszę o szybką wysyłkę",
        note="VIP",
    )
    form = allegro.get_json(f"/order/checkout-forms/{created['id']}", token)
    assert form == created
    assert form["buyer"]["login"] == "Klient_PL" and form["buyer"]["guest"] is False
    assert form["status"] == "READY_FOR_PROCESSING"
    assert form["fulfillment"] == {"status": "NEW", "shipmentSummary": {"lineItemsSent": "NONE"}, "provider": {"id": "SELLER"}}
    assert form["payment"]["type"] == "ONLINE" and form["payment"]["provider"] == "P24"
    assert form["payment"]["paidAmount"] == {"amount": "119.47", "currency": "PLN"}
    assert form["summary"]["totalToPay"] == {"amount": "119.47", "currency": "PLN"}
    assert form["delivery"]["pickupPoint"]["address"]["countryCode"] == "PL"
    assert form["delivery"]["cost"] == {"amount": "8.99", "currency": "PLN"} and form["delivery"]["smart"] is True
    assert form["delivery"]["address"]["zipCode"] and form["delivery"]["calculatedNumberOfPackages"] == 1
    assert form["invoice"]["address"]["company"]["taxId"] == "5252674798"
    first, second = form["lineItems"]
    assert first["offer"]["external"] == {"id": "TS-RED-M"} and first["quantity"] == 2
    assert second["originalPrice"] == {"amount": "12.00", "currency": "PLN"} and "external" not in second["offer"]
    assert form["messageToSeller"] == "Proszę o szybką wysyłkę" and form["note"] == {"text": "VIP"}
    assert form["surcharges"] == [] and form["marketplace"] == {"id": "allegro-pl"}


def test_unpaid_forms_have_no_payment_yet(allegro: AllegroHarness, seller: Seller, token: str) -> None:
    bought = allegro.create_order(seller["id"], status="BOUGHT")
    assert "payment" not in bought and bought["status"] == "BOUGHT"
    filled = allegro.control("POST", f"/checkout-forms/{bought['id']}/fill-in")
    assert filled["status"] == "FILLED_IN" and "paidAmount" not in filled["payment"]
    paid = allegro.control("POST", f"/checkout-forms/{bought['id']}/pay")
    assert paid["status"] == "READY_FOR_PROCESSING" and paid["payment"]["finishedAt"]
    assert paid["payment"]["id"] == filled["payment"]["id"]
    cod = allegro.create_order(seller["id"], payment={"type": "CASH_ON_DELIVERY", "provider": "OFFLINE"})
    assert cod["status"] == "READY_FOR_PROCESSING" and "paidAmount" not in cod["payment"]


def test_checkout_form_list_filters_and_paging(allegro: AllegroHarness, seller: Seller, token: str) -> None:
    long_ago = (datetime.now(UTC) - timedelta(days=10)).isoformat().replace("+00:00", "Z")
    old = allegro.create_order(seller["id"], lineItems=[{"boughtAt": long_ago}], buyer={"login": "Stary"})
    allegro.create_orders(seller["id"], count=3)
    allegro.create_order(seller["id"], status="FILLED_IN")
    allegro.create_order(seller["id"], fulfillmentStatus="SENT")
    allegro.advance(5)  # the sandbox clock runs 5 s ahead from here on
    cutoff = (datetime.now(UTC) + timedelta(seconds=2)).isoformat().replace("+00:00", "Z")
    changed = allegro.control("POST", f"/checkout-forms/{old['id']}/modify", json={"messageToSeller": "hi"})

    def listing(**params: Any) -> dict[str, Any]:
        return allegro.get_json("/order/checkout-forms", token, params=params)

    everything = listing()
    assert everything["count"] == everything["totalCount"] == 6
    assert everything["checkoutForms"][-1]["id"] == old["id"]  # default: newest purchase first
    assert listing(status="FILLED_IN")["totalCount"] == 1
    new_paid = listing(**{"status": "READY_FOR_PROCESSING", "fulfillment.status": "NEW"})
    assert new_paid["totalCount"] == 4
    updated = listing(**{"updatedAt.gte": cutoff})
    assert [f["id"] for f in updated["checkoutForms"]] == [changed["id"]]
    echoed = listing(**{"updatedAt.gte": changed["updatedAt"], "updatedAt.lte": changed["updatedAt"]})
    assert [f["id"] for f in echoed["checkoutForms"]] == [changed["id"]]  # a rendered time round-trips
    recent = listing(**{"lineItems.boughtAt.gte": (datetime.now(UTC) - timedelta(days=1)).isoformat()})
    assert recent["totalCount"] == 5
    assert listing(**{"lineItems.boughtAt.lte": recent["checkoutForms"][0]["lineItems"][0]["boughtAt"]})["totalCount"] == 6
    assert listing(**{"buyer.login": "Stary"})["checkoutForms"][0]["id"] == old["id"]
    by_update = listing(sort="-updatedAt")["checkoutForms"]
    assert by_update[0]["id"] == old["id"]
    assert [f["updatedAt"] for f in by_update] == sorted((f["updatedAt"] for f in by_update), reverse=True)

    page = listing(offset=4, limit=4, sort="lineItems.boughtAt")
    assert page["count"] == 2 and page["totalCount"] == 6
    assert listing(status="CANCELLED") == {"checkoutForms": [], "count": 0, "totalCount": 0}

    for params, status in (({"limit": 101}, 422), ({"offset": -1}, 422), ({"status": "PAID"}, 400), ({"sort": "id"}, 400)):
        assert allegro.api("GET", "/order/checkout-forms", token, params=params).status_code == status, params
    bad_date = allegro.api("GET", "/order/checkout-forms", token, params={"updatedAt.gte": "yesterday"})
    assert bad_date.status_code == 400 and bad_date.json()["errors"][0]["path"] == "updatedAt.gte"


def test_other_sellers_forms_are_404_and_malformed_ids_422(allegro: AllegroHarness, seller: Seller, token: str) -> None:
    other = allegro.create_user()
    foreign = allegro.create_order(other["id"])
    assert allegro.api("GET", f"/order/checkout-forms/{foreign['id']}", token).status_code == 404
    assert allegro.api("GET", "/order/checkout-forms/not-a-uuid", token).status_code == 422
    assert allegro.get_json("/order/checkout-forms", token)["totalCount"] == 0


# --------------------------------------------------------------------------- fulfilment


def test_shipments_whole_order_partial_and_other_carrier(allegro: AllegroHarness, seller: Seller, token: str) -> None:
    form = allegro.create_order(seller["id"], lineItems=[{"offer": {"name": "A"}}, {"offer": {"name": "B"}}])
    first_item, second_item = (item["id"] for item in form["lineItems"])
    path = f"/order/checkout-forms/{form['id']}/shipments"

    partial = allegro.api("POST", path, token, body={"carrierId": "DHL", "waybill": "DHL123", "lineItems": [{"id": first_item}]})
    assert partial.status_code == 201
    created = partial.json()
    assert created["carrierId"] == "DHL" and created["lineItems"] == [{"id": first_item}] and created["id"]
    assert "carrierName" not in created
    after_partial = allegro.get_json(f"/order/checkout-forms/{form['id']}", token)
    assert after_partial["fulfillment"]["shipmentSummary"]["lineItemsSent"] == "SOME"
    assert after_partial["revision"] != form["revision"]

    other = allegro.api(
        "POST", path, token, body={"carrierId": "OTHER", "carrierName": "Kurier Lokalny", "waybill": "LOC-1", "lineItems": []}
    )
    assert other.status_code == 201
    assert other.json()["carrierName"] == "Kurier Lokalny"
    assert other.json()["lineItems"] == [{"id": first_item}, {"id": second_item}]
    after_all = allegro.get_json(f"/order/checkout-forms/{form['id']}", token)
    assert after_all["fulfillment"]["shipmentSummary"]["lineItemsSent"] == "ALL"

    listed = allegro.get_json(path, token)["shipments"]
    assert [s["waybill"] for s in listed] == ["DHL123", "LOC-1"]
    recorded = allegro.control("GET", "/shipments", params={"checkout_form_id": form["id"]})
    assert recorded["count"] == 2 and recorded["shipments"][1]["source"] == "api"
    sent = allegro.get_json("/order/checkout-forms", token, params={"fulfillment.shipmentSummary.lineItemsSent": "ALL"})
    assert sent["totalCount"] == 1


def test_shipment_validation(allegro: AllegroHarness, seller: Seller, token: str) -> None:
    form = allegro.create_order(seller["id"])
    other_form = allegro.create_order(seller["id"])
    path = f"/order/checkout-forms/{form['id']}/shipments"
    cases = [
        ({"carrierId": "TELEPORT", "waybill": "1"}, 400, "carrierId"),
        ({"carrierId": "DHL", "waybill": "x" * 65}, 400, "waybill"),
        ({"carrierId": "DHL"}, 400, "waybill"),
        ({"waybill": "1"}, 400, "carrierId"),
        ({"carrierId": "OTHER", "waybill": "1"}, 400, "carrierName"),
        ({"carrierId": "OTHER", "waybill": "1", "carrierName": "x" * 31}, 400, "carrierName"),
        ({"carrierId": "DHL", "waybill": "1", "lineItems": [{"id": other_form["lineItems"][0]["id"]}]}, 422, "lineItems"),
    ]
    for body, status, field in cases:
        response = allegro.api("POST", path, token, body=body)
        assert response.status_code == status, body
        assert response.json()["errors"][0]["path"] == field
    assert (
        allegro.api("POST", "/order/checkout-forms/00000000-0000-0000-0000-000000000000/shipments", token, body={}).status_code
        == 404
    )


def test_waybill_reused_on_too_many_orders_is_409(allegro: AllegroHarness, seller: Seller, token: str) -> None:
    allegro.settings(waybill_max_orders=2)
    forms = allegro.create_orders(seller["id"], count=3)
    statuses = [
        allegro.api(
            "POST", f"/order/checkout-forms/{f['id']}/shipments", token, body={"carrierId": "DPD", "waybill": "SAME"}
        ).status_code
        for f in forms
    ]
    assert statuses == [201, 201, 409]


def test_fulfillment_put_with_current_revision_then_stale_revision(allegro: AllegroHarness, seller: Seller, token: str) -> None:
    form = allegro.create_order(seller["id"])
    path = f"/order/checkout-forms/{form['id']}/fulfillment"
    ok = allegro.api("PUT", path, token, body={"status": "PROCESSING"}, params={"checkoutForm.revision": form["revision"]})
    assert ok.status_code == 204 and ok.content == b""
    fetched = allegro.get_json(f"/order/checkout-forms/{form['id']}", token)
    assert fetched["fulfillment"]["status"] == "PROCESSING" and fetched["revision"] != form["revision"]

    stale = allegro.api("PUT", path, token, body={"status": "SENT"}, params={"checkoutForm.revision": form["revision"]})
    assert stale.status_code == 409
    assert stale.json()["errors"][0]["path"] == "checkoutForm.revision"

    [event] = _events(allegro, token, type="FULFILLMENT_STATUS_CHANGED")
    assert event["order"]["checkoutForm"] == {"id": form["id"], "revision": fetched["revision"]}
    changes = allegro.control("GET", "/fulfillment-changes", params={"checkout_form_id": form["id"]})["changes"]
    assert [(c["previous"], c["status"], c["source"]) for c in changes] == [("NEW", "PROCESSING", "api")]

    unconditional = allegro.api("PUT", path, token, body={"status": "SENT"})
    assert unconditional.status_code == 204
    returned = allegro.api("PUT", path, token, body={"status": "RETURNED"})
    assert returned.status_code == 422 and returned.json()["errors"][0]["path"] == "status"
    assert allegro.api("PUT", path, token, body={"status": "SHIPPED"}).status_code == 422


def test_stale_revision_fault_gives_one_409(allegro: AllegroHarness, seller: Seller, token: str) -> None:
    form = allegro.create_order(seller["id"])
    allegro.fault(kind="stale_revision", checkout_form_id=form["id"])
    path = f"/order/checkout-forms/{form['id']}/fulfillment"
    first = allegro.api("PUT", path, token, body={"status": "SENT"}, params={"checkoutForm.revision": form["revision"]})
    assert first.status_code == 409
    fresh = allegro.get_json(f"/order/checkout-forms/{form['id']}", token)["revision"]
    assert fresh != form["revision"]
    retry = allegro.api("PUT", path, token, body={"status": "SENT"}, params={"checkoutForm.revision": fresh})
    assert retry.status_code == 204


def test_auto_sent_on_tracking_setting(allegro: AllegroHarness, seller: Seller, token: str) -> None:
    allegro.settings(auto_sent_on_tracking=True)
    form = allegro.create_order(seller["id"])
    allegro.api("POST", f"/order/checkout-forms/{form['id']}/shipments", token, body={"carrierId": "INPOST", "waybill": "6200"})
    assert allegro.get_json(f"/order/checkout-forms/{form['id']}", token)["fulfillment"]["status"] == "SENT"
    assert _types_for(_events(allegro, token), form["id"])[-1] == "FULFILLMENT_STATUS_CHANGED"


# --------------------------------------------------------------------------- rate limit and faults


def test_rate_limit_per_client_id_answers_429_with_retry_after(allegro: AllegroHarness, seller: Seller, token: str) -> None:
    allegro.settings(rate_per_minute=3)
    assert [allegro.api("GET", "/me", token).status_code for _ in range(3)] == [200, 200, 200]
    limited = allegro.api("GET", "/me", token)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.json()["errors"][0]["code"] == "TooManyRequestsException"
    other_seller = allegro.create_user()
    shared = allegro.control("POST", "/tokens", json={"user_id": other_seller["id"]})["access_token"]
    assert allegro.api("GET", "/me", shared).status_code == 429  # the limit is the app's, not the seller's
    allegro.advance(61)
    assert allegro.api("GET", "/me", token).status_code == 200
    allegro.settings(retry_after_header=False, rate_per_minute=1)
    bare = allegro.api("GET", "/me", token)
    assert bare.status_code == 429 and "retry-after" not in bare.headers


def test_fault_burst_429_and_server_errors(allegro: AllegroHarness, seller: Seller, token: str) -> None:
    allegro.fault(kind="rate_limit", count=2, retry_after=7)
    burst = [allegro.api("GET", "/order/events", token) for _ in range(3)]
    assert [r.status_code for r in burst] == [429, 429, 200]
    assert burst[0].headers["retry-after"] == "7"
    allegro.fault(kind="server_error", status=503)
    assert allegro.api("GET", "/order/checkout-forms", token).status_code == 503
    log = allegro.control("GET", "/requests", params={"path_prefix": "/order"})["requests"]
    assert [e["fault"] for e in log] == ["rate_limit", "rate_limit", None, "server_error"]


def test_token_faults_expire_revoke_and_5xx(allegro: AllegroHarness, seller: Seller) -> None:
    tokens = allegro.connect()
    allegro.fault(kind="expire_tokens")
    assert allegro.api("GET", "/me", tokens["access_token"]).status_code == 401
    allegro.fault(kind="token_server_error")
    failing = allegro.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert failing.status_code == 503 and failing.json()["error"] == "server_error"
    refreshed = allegro.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"]).json()
    allegro.fault(kind="revoke_grant", user_id=seller["id"])
    assert allegro.api("GET", "/me", refreshed["access_token"]).status_code == 401
    revoked = allegro.token(grant_type="refresh_token", refresh_token=refreshed["refresh_token"])
    assert revoked.status_code == 400 and revoked.json()["error"] == "invalid_grant"


def test_slow_fault_and_reset(allegro: AllegroHarness, seller: Seller, token: str) -> None:
    allegro.fault(kind="slow", delay_s=0.3, path_prefix="/me")
    with pytest.raises(httpx.ReadTimeout):
        allegro.api("GET", "/me", token, timeout=0.1)
    allegro.control("POST", "/reset")
    assert allegro.control("GET", "/users")["users"] == []
    assert allegro.control("GET", "/faults")["faults"] == []
    assert allegro.api("GET", "/me", token).status_code == 401


# --------------------------------------------------------------------------- contract


def test_contract_checks_ran_and_catch_drift(allegro: AllegroHarness, seller: Seller, token: str) -> None:
    """The recorder validated real traffic, and rejects a response that drifts from the spec."""
    form = allegro.create_order(seller["id"], delivery={"pickupPoint": {}}, invoice={"required": False})
    allegro.api("POST", f"/order/checkout-forms/{form['id']}/shipments", token, body={"carrierId": "DHL", "waybill": "1"})
    for path in ("/me", "/order/event-stats", "/order/events", "/order/checkout-forms", "/order/carriers"):
        allegro.get_json(path, token)
    good = allegro.api("GET", f"/order/checkout-forms/{form['id']}", token)
    allegro.get_json(f"/order/checkout-forms/{form['id']}/shipments", token)
    assert allegro.contract.validated == 8
    assert not allegro.contract.violations

    drifted = [
        {**good.json(), "status": "PAID"},
        {**good.json(), "summary": {"totalToPay": {"amount": 62.98, "currency": "PLN"}}},
        {**good.json(), "lineItems": [{**good.json()["lineItems"][0], "id": "not-a-uuid"}]},
    ]
    for body in drifted:
        response = OpenAPIResponse(200, {"content-type": MEDIA_TYPE}, json.dumps(body).encode())
        with pytest.raises(InvalidData):
            allegro.contract.openapi.validate_response(OpenAPIRequest(good.request, ALLEGRO_HOST), response)
