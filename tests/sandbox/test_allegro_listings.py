"""Offers on the Allegro emulator over real HTTP: one offer per variant, 202 operations, required
category parameters, title limits, stock and publication commands, zero stock ending an offer.

Every REST exchange passes through the contract recorder against Allegro's OpenAPI file.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

pytest.register_assert_rewrite("tests.sandbox.allegro_fixtures")

from tests.sandbox.allegro_fixtures import REDIRECT_URI, AllegroHarness, pkce_pair  # noqa: E402

pytest_plugins = ("tests.sandbox.allegro_fixtures",)

Seller = dict[str, Any]
SALE_SCOPES = (
    "allegro:api:profile:read allegro:api:sale:offers:read allegro:api:sale:offers:write "
    "allegro:api:sale:settings:read allegro:api:sale:settings:write"
)
LEAF = "257929"  # Koszulki: needs parameter 11323 (Rozmiar)


def connect(allegro: AllegroHarness) -> str:
    verifier, challenge = pkce_pair()
    code = allegro.authorization_code(scope=SALE_SCOPES, code_challenge=challenge, code_challenge_method="S256")
    response = allegro.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.fixture(name="token")
def _token(allegro: AllegroHarness, allegro_seller: Seller) -> str:
    return connect(allegro)


def offer_body(sku: str = "TS-RED-M", size: str = "11323_2", available: int = 10, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Koszulka bawełniana czerwona M",
        "category": {"id": LEAF},
        "parameters": [{"id": "11323", "valuesIds": [size]}],
        "sellingMode": {"format": "BUY_NOW", "price": {"amount": "49.99", "currency": "PLN"}},
        "stock": {"available": available, "unit": "UNIT"},
        "images": ["https://a.allegroimg.com/original/11/abc"],
        "delivery": {"handlingTime": "PT24H"},
        "external": {"id": sku},
        "publication": {"status": "ACTIVE"},
    }
    body.update(overrides)
    return body


def create_offer(allegro: AllegroHarness, token: str, **kwargs: Any) -> dict[str, Any]:
    """Create and poll the operation to its 303, as a client must."""
    response = allegro.api("POST", "/sale/product-offers", token, offer_body(**kwargs))
    assert response.status_code == 202, response.text
    location = response.headers["location"]
    for _ in range(10):
        poll = allegro.api("GET", location, token)
        if poll.status_code == 303:
            break
        assert poll.status_code == 202, poll.text
    assert poll.status_code == 303
    return allegro.get_json(poll.headers["location"], token)


def publication(allegro: AllegroHarness, token: str, action: str, *offer_ids: str) -> dict[str, Any]:
    command_id = str(uuid.uuid4())
    criteria = [{"type": "CONTAINS_OFFERS", "offers": [{"id": i} for i in offer_ids]}]
    body = {"publication": {"action": action}, "offerCriteria": criteria}
    response = allegro.api("PUT", f"/sale/offer-publication-commands/{command_id}", token, body)
    assert response.status_code == 201, response.text
    tasks = allegro.get_json(f"/sale/offer-publication-commands/{command_id}/tasks", token)["tasks"]
    return {"report": response.json(), "tasks": tasks}


def quantity(allegro: AllegroHarness, token: str, change: str, value: int, *offer_ids: str, command_id: str | None = None):
    command_id = command_id or str(uuid.uuid4())
    body = {
        "modification": {"changeType": change, "value": value},
        "offerCriteria": [{"type": "CONTAINS_OFFERS", "offers": [{"id": i} for i in offer_ids]}],
    }
    return allegro.api("PUT", f"/sale/offer-quantity-change-commands/{command_id}", token, body)


def errors_of(response: Any) -> list[dict[str, Any]]:
    body = response.json()
    assert set(body) == {"errors"}
    for error in body["errors"]:
        assert {"code", "message", "path", "userMessage"} <= error.keys()
    return body["errors"]


# --------------------------------------------------------------------------- creation


def test_create_answers_202_with_an_operation_polled_to_303_then_the_offer_is_active(allegro: AllegroHarness, token: str) -> None:
    response = allegro.api("POST", "/sale/product-offers", token, offer_body())
    assert response.status_code == 202
    assert response.headers["content-type"].startswith("application/vnd.allegro.public.v1+json")
    assert int(response.headers["retry-after"]) >= 0
    offer_id = response.json()["id"]
    location = response.headers["location"]
    assert location.startswith(f"/sale/product-offers/{offer_id}/operations/")
    # Readable while processing, as ACTIVATING.
    assert allegro.get_json(f"/sale/product-offers/{offer_id}", token)["publication"]["status"] == "ACTIVATING"

    first = allegro.api("GET", location, token)
    assert first.status_code == 202 and first.json()["operation"]["status"] == "IN_PROGRESS"
    done = allegro.api("GET", location, token)
    assert done.status_code == 303 and done.headers["location"] == f"/sale/product-offers/{offer_id}"
    offer = allegro.get_json(done.headers["location"], token)
    assert offer["publication"]["status"] == "ACTIVE"
    assert offer["external"] == {"id": "TS-RED-M"} and offer["stock"]["available"] == 10
    assert offer["delivery"]["handlingTime"] == "PT24H"

    stored = allegro.control("GET", f"/offers/{offer_id}")
    sent = offer_body()
    assert {k: stored["offer"][k] for k in sent} == {**sent, "publication": {"status": "ACTIVE"}}


def test_synchronous_creation_answers_201(allegro: AllegroHarness, token: str) -> None:
    allegro.control("PUT", "/offer-settings", json={"operation_polls": 0})
    response = allegro.api("POST", "/sale/product-offers", token, offer_body())
    assert response.status_code == 201 and "location" not in response.headers
    assert response.json()["publication"]["status"] == "ACTIVE"


def test_missing_required_category_parameter_is_refused_and_nothing_stored(allegro: AllegroHarness, token: str) -> None:
    response = allegro.api("POST", "/sale/product-offers", token, offer_body(parameters=[]))
    assert response.status_code == 422
    [error] = errors_of(response)
    assert error["path"] == "parameters[id=11323]" and "Rozmiar" in error["message"]
    bad_value = allegro.api("POST", "/sale/product-offers", token, offer_body(size="nope"))
    assert bad_value.status_code == 422 and errors_of(bad_value)[0]["path"] == "parameters[id=11323].valuesIds"
    assert allegro.control("GET", "/offers")["offers"] == []


@pytest.mark.parametrize(
    "name",
    [
        "Short one x",  # 11 characters
        "Koszulka " * 8 + "xyzw",  # 76 characters
        "Koszulka bawełniana",  # two words
        "Koszulka " + "b" * 31 + " czerwona",  # a word over 30 characters
    ],
)
def test_title_limits(allegro: AllegroHarness, token: str, name: str) -> None:
    response = allegro.api("POST", "/sale/product-offers", token, offer_body(name=name))
    assert response.status_code == 422
    assert errors_of(response)[0]["path"] == "name"


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        ({"delivery": {"handlingTime": "PT12H"}}, "delivery.handlingTime"),
        ({"delivery": {"shippingRates": {"id": str(uuid.uuid4())}}}, "delivery.shippingRates.id"),
        ({"category": {"id": "1429"}}, "category.id"),
        ({"stock": {"available": 0}}, "stock.available"),
        ({"sellingMode": {"price": {"amount": 49.99, "currency": "PLN"}}}, "sellingMode.price.amount"),
        ({"external": {"id": "x" * 101}}, "external.id"),
        ({"stock": {"available": 3, "unit": "BOX"}}, "stock.unit"),
        ({"location": {"countryCode": "PL", "city": "Warszawa", "postCode": "00-001"}}, "location.province"),
        ({"payments": {"invoice": "RECEIPT"}}, "payments.invoice"),
        (
            {"description": {"sections": [{"items": [{"type": "TEXT", "content": "<p>" + "x" * 40_000 + "</p>"}]}]}},
            "description",
        ),
    ],
)
def test_invalid_offer_fields_are_named(allegro: AllegroHarness, token: str, overrides: dict[str, Any], path: str) -> None:
    response = allegro.api("POST", "/sale/product-offers", token, offer_body(**overrides))
    assert response.status_code == 422, response.text
    assert errors_of(response)[0]["path"] == path


# --------------------------------------------------------------------------- variants and lookup


def test_one_offer_per_variant_found_by_external_id_and_paginated(allegro: AllegroHarness, token: str) -> None:
    skus = {"TS-RED-S": "11323_1", "TS-RED-M": "11323_2", "TS-RED-L": "11323_3"}
    ids = {sku: create_offer(allegro, token, sku=sku, size=size)["id"] for sku, size in skus.items()}
    assert len(set(ids.values())) == 3

    found = allegro.get_json("/sale/offers", token, params={"external.id": "TS-RED-M"})
    assert found["totalCount"] == 1 and [x["id"] for x in found["offers"]] == [ids["TS-RED-M"]]
    both = allegro.get_json("/sale/offers", token, params=[("external.id", "TS-RED-S"), ("external.id", "TS-RED-L")])
    assert {x["external"]["id"] for x in both["offers"]} == {"TS-RED-S", "TS-RED-L"}

    pages = [allegro.get_json("/sale/offers", token, params={"limit": 2, "offset": off}) for off in (0, 2)]
    assert [p["count"] for p in pages] == [2, 1] and all(p["totalCount"] == 3 for p in pages)
    assert {x["id"] for p in pages for x in p["offers"]} == set(ids.values())
    too_big = allegro.api("GET", "/sale/offers", token, params={"limit": 1001})
    assert too_big.status_code == 400 and errors_of(too_big)[0]["path"] == "limit"

    gone = allegro.api("GET", "/sale/offer-variants", token)
    assert gone.status_code == 404


def test_another_sellers_offer_is_not_found(allegro: AllegroHarness, token: str) -> None:
    other = allegro.create_user(login="Other")
    [seeded] = allegro.control("POST", f"/users/{other['id']}/offers", json={"offers": [offer_body()]})["offers"]
    offer_id = seeded["offer"]["id"]
    assert allegro.api("GET", f"/sale/product-offers/{offer_id}", token).status_code == 404
    assert allegro.get_json("/sale/offers", token)["totalCount"] == 0


# --------------------------------------------------------------------------- stock and publication


def test_patch_stock_zero_ends_the_offer_and_only_activate_brings_it_back(allegro: AllegroHarness, token: str) -> None:
    offer_id = create_offer(allegro, token)["id"]
    path = f"/sale/product-offers/{offer_id}"
    seven = allegro.api("PATCH", path, token, {"stock": {"available": 7}})
    assert seven.status_code == 200 and seven.json()["stock"] == {"available": 7, "unit": "UNIT"}

    zero = allegro.api("PATCH", path, token, {"stock": {"available": 0}})
    assert zero.status_code == 200 and zero.json()["publication"]["status"] == "ENDED"
    refused = publication(allegro, token, "ACTIVATE", offer_id)
    assert refused["report"]["taskCount"] == {"failed": 1, "success": 0, "total": 1}
    assert refused["tasks"][0]["status"] == "FAIL"

    restocked = allegro.api("PATCH", path, token, {"stock": {"available": 5}})
    assert restocked.json()["publication"]["status"] == "ENDED"  # a restock alone does not reactivate
    activated = publication(allegro, token, "ACTIVATE", offer_id)
    assert activated["tasks"][0]["status"] == "SUCCESS"
    assert allegro.get_json(path, token)["publication"]["status"] == "ACTIVE"

    publication(allegro, token, "END", offer_id)
    listed = allegro.get_json("/sale/offers", token, params={"publication.status": "ENDED"})
    assert [x["id"] for x in listed["offers"]] == [offer_id]


def test_concurrent_change_answers_409_and_changes_nothing(allegro: AllegroHarness, token: str) -> None:
    offer_id = create_offer(allegro, token)["id"]
    allegro.control("POST", "/faults", json={"kind": "offer_conflict", "path_prefix": f"/sale/product-offers/{offer_id}"})
    conflict = allegro.api("PATCH", f"/sale/product-offers/{offer_id}", token, {"stock": {"available": 3}})
    assert conflict.status_code == 409 and errors_of(conflict)[0]["code"] == "CONFLICT"
    assert allegro.control("GET", f"/offers/{offer_id}")["offer"]["stock"]["available"] == 10
    retried = allegro.api("PATCH", f"/sale/product-offers/{offer_id}", token, {"stock": {"available": 3}})
    assert retried.status_code == 200 and retried.json()["stock"]["available"] == 3


def test_patch_validates_like_creation(allegro: AllegroHarness, token: str) -> None:
    offer_id = create_offer(allegro, token)["id"]
    response = allegro.api("PATCH", f"/sale/product-offers/{offer_id}", token, {"stock": {"available": -1}})
    assert response.status_code == 422 and errors_of(response)[0]["path"] == "stock.available"
    short = allegro.api("PATCH", f"/sale/product-offers/{offer_id}", token, {"name": "Two words"})
    assert short.status_code == 422 and errors_of(short)[0]["path"] == "name"
    assert allegro.control("GET", f"/offers/{offer_id}")["offer"]["stock"]["available"] == 10


def test_quantity_commands_fixed_gain_and_reused_id(allegro: AllegroHarness, token: str) -> None:
    a, b = (create_offer(allegro, token, sku=s, size=z)["id"] for s, z in (("A-1", "11323_1"), ("B-1", "11323_2")))
    command_id = str(uuid.uuid4())
    fixed = quantity(allegro, token, "FIXED", 3, a, b, command_id=command_id)
    assert fixed.status_code == 201 and fixed.json()["taskCount"] == {"failed": 0, "success": 2, "total": 2}
    assert allegro.get_json(f"/sale/offer-quantity-change-commands/{command_id}", token)["id"] == command_id
    tasks = allegro.get_json(f"/sale/offer-quantity-change-commands/{command_id}/tasks", token)["tasks"]
    assert {t["offer"]["id"] for t in tasks} == {a, b}

    reused = quantity(allegro, token, "FIXED", 4, a, command_id=command_id)
    assert reused.status_code == 409
    assert quantity(allegro, token, "FIXED", 0, a).status_code == 422

    assert quantity(allegro, token, "GAIN", 2, a).status_code == 201
    assert quantity(allegro, token, "GAIN", -3, b).status_code == 201
    assert allegro.get_json(f"/sale/product-offers/{a}", token)["stock"]["available"] == 5
    ended = allegro.get_json(f"/sale/product-offers/{b}", token)
    assert ended["stock"]["available"] == 0 and ended["publication"]["status"] == "ENDED"


# --------------------------------------------------------------------------- categories, images, shipping


def test_category_tree_and_parameters(allegro: AllegroHarness, token: str) -> None:
    roots = allegro.get_json("/sale/categories", token)["categories"]
    assert {c["id"] for c in roots} == {"1429", "5"} and all(c["parent"] is None for c in roots)
    [men] = allegro.get_json("/sale/categories", token, params={"parent.id": "1429"})["categories"]
    [leaf] = allegro.get_json("/sale/categories", token, params={"parent.id": men["id"]})["categories"]
    assert leaf["leaf"] is True and leaf["id"] == LEAF
    parameters = allegro.get_json(f"/sale/categories/{LEAF}/parameters", token)["parameters"]
    required = [p for p in parameters if p["required"]]
    assert [p["id"] for p in required] == ["11323"] and required[0]["type"] == "dictionary"
    assert allegro.api("GET", "/sale/categories/999/parameters", token).status_code == 404
    assert allegro.api("GET", "/sale/categories", token, params={"parent.id": "999"}).status_code == 404


def test_image_upload_by_url_and_by_bytes(allegro: AllegroHarness, token: str) -> None:
    by_url = allegro.api("POST", "/sale/images", token, {"url": "https://example.com/shirt.jpg"})
    assert by_url.status_code == 201
    assert by_url.json()["location"].startswith("https://a.allegroimg.com/original/")
    raw = b"\xff\xd8\xff\xe0" + b"0" * 64
    by_bytes = allegro.api("POST", "/sale/images", token, headers={"content-type": "image/jpeg"}, content=raw)
    assert by_bytes.status_code == 201
    wrong = allegro.api("POST", "/sale/images", token, headers={"content-type": "text/plain"}, content=b"x")
    assert wrong.status_code == 415
    stored = allegro.control("GET", "/images")["images"]
    assert [i["location"] for i in stored] == [by_url.json()["location"], by_bytes.json()["location"]]
    assert stored[1]["bytes"] == len(raw)


def test_shipping_rates_and_handling_time_on_offers(allegro: AllegroHarness, token: str) -> None:
    rate = {
        "deliveryMethod": {"id": "758fcd59-fbfa-4453-ae07-4800d72c2ca5"},
        "maxQuantityPerPackage": 5,
        "firstItemRate": {"amount": "12.99", "currency": "PLN"},
        "nextItemRate": {"amount": "0.00", "currency": "PLN"},
    }
    created = allegro.api("POST", "/sale/shipping-rates", token, {"name": "Standard", "rates": [rate]})
    assert created.status_code == 201
    rates_id = created.json()["id"]
    listed = allegro.get_json("/sale/shipping-rates", token)["shippingRates"]
    assert listed == [{"id": rates_id, "name": "Standard"}]
    put = allegro.api("PUT", f"/sale/shipping-rates/{rates_id}", token, {"name": "Ekspres", "rates": [rate]})
    assert put.status_code == 200
    assert allegro.get_json(f"/sale/shipping-rates/{rates_id}", token)["name"] == "Ekspres"
    bad = allegro.api("POST", "/sale/shipping-rates", token, {"name": "x" * 65, "rates": [rate]})
    assert bad.status_code == 422 and errors_of(bad)[0]["path"] == "name"

    delivery = {"shippingRates": {"id": rates_id}, "handlingTime": "P2D"}
    offer = create_offer(allegro, token, delivery=delivery)
    assert offer["delivery"] == delivery


# --------------------------------------------------------------------------- control API


def test_seeded_offers_hand_stock_change_and_sale_to_zero(allegro: AllegroHarness, token: str, allegro_seller: Seller) -> None:
    seeded = allegro.control(
        "POST", f"/users/{allegro_seller['id']}/offers", json={"offers": [offer_body(sku="OLD-1", available=2)]}
    )["offers"]
    offer_id = seeded[0]["offer"]["id"]
    listed = allegro.get_json("/sale/offers", token, params={"external.id": "OLD-1"})
    assert [x["id"] for x in listed["offers"]] == [offer_id]
    assert listed["offers"][0]["publication"]["status"] == "ACTIVE"

    allegro.control("PUT", f"/offers/{offer_id}/stock", json={"available": 4})
    assert allegro.get_json(f"/sale/product-offers/{offer_id}", token)["stock"]["available"] == 4
    allegro.control("POST", f"/offers/{offer_id}/sale", json={"quantity": 3})
    after = allegro.control("POST", f"/offers/{offer_id}/sale", json={"quantity": 1})["offer"]
    assert after["stock"]["available"] == 0 and after["publication"]["status"] == "ENDED"
    oversell = allegro.http.post(f"/_sandbox/allegro/offers/{offer_id}/sale", json={"quantity": 1})
    assert oversell.status_code == 409


def test_offer_endpoints_need_the_vendor_type_and_the_offers_scope(allegro: AllegroHarness, allegro_seller: Seller) -> None:
    token = allegro.connect()["access_token"]  # orders and profile scopes only
    denied = allegro.api("POST", "/sale/product-offers", token, offer_body())
    assert denied.status_code == 403
    plain = allegro.api("GET", "/sale/offers", token, accept="application/json")
    assert plain.status_code == 406


def test_offer_without_external_id_and_with_a_description(allegro: AllegroHarness, token: str) -> None:
    body = offer_body()
    del body["external"]
    body["description"] = {"sections": [{"items": [{"type": "TEXT", "content": "<p>Bawełna 100%</p>"}]}]}
    body["location"] = {"countryCode": "PL", "province": "MAZOWIECKIE", "city": "Warszawa", "postCode": "00-001"}
    response = allegro.api("POST", "/sale/product-offers", token, body)
    assert response.status_code == 202
    offer = allegro.get_json(f"/sale/product-offers/{response.json()['id']}", token)
    assert "external" not in offer and offer["description"] == body["description"]
    assert allegro.get_json("/sale/offers", token)["offers"][0]["id"] == offer["id"]


def test_edge_faults_and_the_request_log_cover_offer_routes(allegro: AllegroHarness, token: str) -> None:
    allegro.control("POST", "/faults", json={"kind": "rate_limit", "path_prefix": "/sale/product-offers"})
    limited = allegro.api("POST", "/sale/product-offers", token, offer_body())
    assert limited.status_code == 429 and errors_of(limited)[0]["code"] == "TooManyRequestsException"
    assert allegro.api("POST", "/sale/product-offers", token, offer_body()).status_code == 202
    log = allegro.control("GET", "/requests")["requests"]
    offers = [r for r in log if r["path"] == "/sale/product-offers"]
    assert [(r["status"], r["fault"]) for r in offers] == [(429, "rate_limit"), (202, None)]
