"""Listing and stock endpoints of the Etsy emulator over real HTTP, checked against Etsy's OpenAPI file.

Every v3 exchange passes the contract recorder (see conftest) except the 2025-26
readiness-state-definition endpoints, which the vendored spec does not have.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox.conftest import EtsyHarness

ALL_SCOPES = ["shops_r", "shops_w", "listings_r", "listings_w", "listings_d"]
JPEG = b"\xff\xd8\xff\xe0" + b"sandbox-image" * 10


def mint(etsy: EtsyHarness, user_id: int, scopes: list[str]) -> str:
    return etsy.control("POST", "/tokens", json={"user_id": user_id, "scopes": scopes})["access_token"]


@pytest.fixture
def seller(etsy: EtsyHarness, shop: dict[str, Any]) -> str:
    return mint(etsy, shop["user_id"], ALL_SCOPES)


def draft_form(**overrides: Any) -> dict[str, Any]:
    return {
        "quantity": 5,
        "title": "Hand-thrown mug",
        "description": "Stoneware, 350 ml.",
        "price": "19.50",
        "who_made": "i_did",
        "when_made": "made_to_order",
        "taxonomy_id": 1069,
        **overrides,
    }


def make_profile(etsy: EtsyHarness, shop_id: int, token: str) -> dict[str, Any]:
    response = etsy.api(
        "POST",
        f"/shops/{shop_id}/shipping-profiles",
        token=token,
        data={
            "title": "Domestic",
            "origin_country_iso": "US",
            "primary_cost": "4.50",
            "secondary_cost": "1.00",
            "min_processing_time": 1,
            "max_processing_time": 3,
            "destination_country_iso": "US",
            "min_delivery_days": 2,
            "max_delivery_days": 5,
        },
    )
    assert response.status_code == 200, response.text
    return response.json()


def make_draft(etsy: EtsyHarness, shop_id: int, token: str, **overrides: Any) -> dict[str, Any]:
    response = etsy.api("POST", f"/shops/{shop_id}/listings", token=token, data=draft_form(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


def upload(etsy: EtsyHarness, shop_id: int, listing_id: int, token: str, **fields: Any) -> Any:
    """One multipart upload. openapi-core does not cast multipart text parts to their schema type,
    so a request carrying `rank` (integer) is exempt from request validation; responses still are."""
    if "rank" in fields:
        with etsy.contract.off_spec_request():
            return _upload(etsy, shop_id, listing_id, token, **fields)
    return _upload(etsy, shop_id, listing_id, token, **fields)


def _upload(etsy: EtsyHarness, shop_id: int, listing_id: int, token: str, **fields: Any) -> Any:
    return etsy.api(
        "POST",
        f"/shops/{shop_id}/listings/{listing_id}/images",
        token=token,
        files={"image": ("mug.jpg", JPEG, "image/jpeg")},
        data=fields,
    )


def variant(sku: str, color: str, size: str, price: float, quantity: int) -> dict[str, Any]:
    return {
        "sku": sku,
        "property_values": [
            {"property_id": 513, "value_ids": [], "property_name": "Color", "values": [color]},
            {"property_id": 514, "value_ids": [], "property_name": "Size", "values": [size]},
        ],
        "offerings": [{"price": price, "quantity": quantity, "is_enabled": True}],
    }


def put_inventory(etsy: EtsyHarness, listing_id: int, token: str, products: list[dict[str, Any]], **extra: Any) -> Any:
    body = {"products": products, "price_on_property": [514], "quantity_on_property": [513, 514],
            "sku_on_property": [513, 514], **extra}
    return etsy.api("PUT", f"/listings/{listing_id}/inventory", token=token, json=body)


def publishable(etsy: EtsyHarness, shop_id: int, token: str) -> dict[str, Any]:
    profile = make_profile(etsy, shop_id, token)
    listing = make_draft(etsy, shop_id, token, shipping_profile_id=profile["shipping_profile_id"])
    assert upload(etsy, shop_id, listing["listing_id"], token, rank=1).status_code == 201
    return listing


# --------------------------------------------------------------------------- drafts


def test_create_draft_listing_returns_a_draft_in_shop_currency(
    etsy: EtsyHarness, shop: dict[str, Any], seller: str
) -> None:
    profile = make_profile(etsy, shop["shop_id"], seller)
    listing = make_draft(etsy, shop["shop_id"], seller, shipping_profile_id=profile["shipping_profile_id"],
                         tags="mug,stoneware,handmade")
    assert listing["state"] == "draft"
    assert listing["quantity"] == 5
    assert listing["price"] == {"amount": 1950, "divisor": 100, "currency_code": "USD"}
    assert listing["tags"] == ["mug", "stoneware", "handmade"]
    assert listing["shipping_profile_id"] == profile["shipping_profile_id"]
    back = etsy.control("GET", f"/shops/{shop['shop_id']}/listings/{listing['listing_id']}")
    assert back["state"] == "draft"
    assert back["inventory"]["products"][0]["offerings"][0]["quantity"] == 5


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"title": None}, "title"),
        ({"quantity": 0}, "quantity"),
        ({"price": "-1"}, "price"),
        ({"price": "1.005"}, "price"),
        ({"who_made": "robot"}, "who_made"),
        ({"when_made": "2030s"}, "when_made"),
        ({"title": "Mugs & cups & saucers"}, "&"),
        ({"tags": "mug,mug"}, "mug"),
        ({"shipping_profile_id": 42}, "shipping_profile_id"),
    ],
)
def test_create_draft_rejects_bad_input_naming_the_field(
    etsy: EtsyHarness, shop: dict[str, Any], seller: str, override: dict[str, Any], field: str
) -> None:
    form = {k: v for k, v in draft_form(**{"shipping_profile_id": None, **override}).items() if v is not None}
    if "shipping_profile_id" not in override:
        form["type"] = "download"
    with etsy.contract.off_spec_request():
        response = etsy.api("POST", f"/shops/{shop['shop_id']}/listings", token=seller, data=form)
    assert response.status_code == 400
    assert list(response.json()) == ["error"]
    assert field in response.json()["error"]
    assert etsy.control("GET", f"/shops/{shop['shop_id']}/listings")["count"] == 0


def test_physical_draft_needs_a_shipping_profile(etsy: EtsyHarness, shop: dict[str, Any], seller: str) -> None:
    response = etsy.api("POST", f"/shops/{shop['shop_id']}/listings", token=seller, data=draft_form())
    assert response.status_code == 400
    assert "shipping_profile_id" in response.json()["error"]


def test_scopes_and_ownership_are_enforced(etsy: EtsyHarness, shop: dict[str, Any]) -> None:
    reader = mint(etsy, shop["user_id"], ["listings_r"])
    denied = etsy.api("POST", f"/shops/{shop['shop_id']}/listings", token=reader, data=draft_form(type="download"))
    assert denied.status_code == 403
    assert denied.json()["error"] == "insufficient_scope"
    assert etsy.api("GET", f"/shops/{shop['shop_id']}/listings").status_code == 401

    other = etsy.create_shop(shop_name="OtherShop")
    intruder = mint(etsy, other["user_id"], ALL_SCOPES)
    forbidden = etsy.api("GET", f"/shops/{shop['shop_id']}/listings", token=intruder)
    assert forbidden.status_code == 403
    seeded = etsy.control("POST", f"/shops/{shop['shop_id']}/listings", json={"state": "draft"})
    no_delete = mint(etsy, shop["user_id"], ["listings_r", "listings_w"])
    refused = etsy.api("DELETE", f"/listings/{seeded['listing_id']}", token=no_delete)
    assert refused.status_code == 403
    assert "listings_d" in refused.json()["error_description"]


# --------------------------------------------------------------------------- reads and pagination


def test_get_listings_by_shop_filters_state_and_paginates(etsy: EtsyHarness, shop: dict[str, Any], seller: str) -> None:
    ids = [etsy.control("POST", f"/shops/{shop['shop_id']}/listings", json={"title": f"Item {n}"})["listing_id"]
           for n in range(5)]
    etsy.control("POST", f"/shops/{shop['shop_id']}/listings", json={"state": "draft"})
    seen: list[int] = []
    for offset in (0, 2, 4):
        page = etsy.api("GET", f"/shops/{shop['shop_id']}/listings", token=seller,
                        params={"limit": 2, "offset": offset}).json()
        assert page["count"] == 5
        seen += [x["listing_id"] for x in page["results"]]
    assert sorted(seen) == sorted(ids)
    drafts = etsy.api("GET", f"/shops/{shop['shop_id']}/listings", token=seller, params={"state": "draft"}).json()
    assert drafts["count"] == 1
    with etsy.contract.off_spec_request():
        bad = etsy.api("GET", f"/shops/{shop['shop_id']}/listings", token=seller, params={"limit": 101})
    assert bad.status_code == 400
    assert "limit" in bad.json()["error"]


def test_get_listing_with_includes_and_404(etsy: EtsyHarness, shop: dict[str, Any], seller: str) -> None:
    seeded = etsy.control(
        "POST",
        f"/shops/{shop['shop_id']}/listings",
        json={"images": [{"alt_text": "front"}], "inventory": {"products": [variant("A-R-S", "Red", "S", 9.5, 3)]}},
    )
    got = etsy.api("GET", f"/listings/{seeded['listing_id']}", params=[("includes", "Images"), ("includes", "Inventory")])
    assert got.status_code == 200
    body = got.json()
    assert body["images"][0]["alt_text"] == "front"
    assert body["inventory"]["products"][0]["sku"] == "A-R-S"
    missing = etsy.api("GET", "/listings/999")
    assert missing.status_code == 404
    assert "999" in missing.json()["error"]
    draft = etsy.control("POST", f"/shops/{shop['shop_id']}/listings", json={"state": "draft"})
    assert etsy.api("GET", f"/listings/{draft['listing_id']}").status_code == 404
    assert etsy.api("GET", f"/listings/{draft['listing_id']}", token=seller).status_code == 200


# --------------------------------------------------------------------------- inventory


def test_inventory_put_replaces_the_whole_products_array(etsy: EtsyHarness, shop: dict[str, Any], seller: str) -> None:
    listing = make_draft(etsy, shop["shop_id"], seller, type="download")
    lid = listing["listing_id"]
    three = [variant("TS-R-M", "Red", "M", 19.5, 4), variant("TS-R-L", "Red", "L", 21.0, 2),
             variant("TS-B-M", "Blue", "M", 19.5, 0)]
    first = put_inventory(etsy, lid, seller, three)
    assert first.status_code == 200, first.text
    assert [p["sku"] for p in first.json()["products"]] == ["TS-R-M", "TS-R-L", "TS-B-M"]
    after = put_inventory(etsy, lid, seller, three[:2])
    assert [p["sku"] for p in after.json()["products"]] == ["TS-R-M", "TS-R-L"]
    read = etsy.api("GET", f"/listings/{lid}/inventory", token=seller).json()
    assert [p["sku"] for p in read["products"]] == ["TS-R-M", "TS-R-L"]
    assert read["products"][1]["offerings"][0]["price"] == {"amount": 2100, "divisor": 100, "currency_code": "USD"}
    back = etsy.control("GET", f"/shops/{shop['shop_id']}/listings/{lid}")
    assert back["quantity"] == 6
    assert back["price"]["amount"] == 1950


@pytest.mark.parametrize(
    ("products", "extra", "needle"),
    [
        ([], {}, "products"),
        ([variant("A", "Red", "M", 1, 1) | {"offerings": []}], {}, "offerings"),
        ([variant("A", "Red", "M", 1, -1)], {}, "quantity"),
        ([variant("A", "Red", "M", 1, 1), variant("B", "Red", "M", 1, 1)], {}, "duplicates"),
        ([variant("A", "Red", "M", 1, 1), variant("B", "Red", "L", 2, 1)], {"price_on_property": []}, "price"),
        (
            [variant("A", "Red", "M", 1, 1) | {"property_values": variant("A", "Red", "M", 1, 1)["property_values"]
                                               + [{"property_id": 200, "values": ["Cotton"]}]}],
            {},
            "at most 2",
        ),
    ],
)
def test_invalid_inventory_is_rejected_and_nothing_changes(
    etsy: EtsyHarness, shop: dict[str, Any], seller: str, products: list[Any], extra: dict[str, Any], needle: str
) -> None:
    seeded = etsy.control("POST", f"/shops/{shop['shop_id']}/listings",
                          json={"inventory": {"products": [variant("KEEP", "Red", "S", 5, 7)]}})
    with etsy.contract.off_spec_request():
        response = put_inventory(etsy, seeded["listing_id"], seller, products, **extra)
    assert response.status_code == 400
    assert needle in response.json()["error"]
    back = etsy.control("GET", f"/shops/{shop['shop_id']}/listings/{seeded['listing_id']}")
    assert [p["sku"] for p in back["inventory"]["products"]] == ["KEEP"]
    assert back["quantity"] == 7


def test_zero_stock_sells_out_and_restock_reactivates(etsy: EtsyHarness, shop: dict[str, Any], seller: str) -> None:
    seeded = etsy.control("POST", f"/shops/{shop['shop_id']}/listings",
                          json={"inventory": {"products": [variant("S", "Red", "M", 5, 2)]}})
    lid = seeded["listing_id"]
    assert put_inventory(etsy, lid, seller, [variant("S", "Red", "M", 5, 0)]).status_code == 200
    assert etsy.control("GET", f"/shops/{shop['shop_id']}/listings/{lid}")["state"] == "sold_out"
    assert put_inventory(etsy, lid, seller, [variant("S", "Red", "M", 5, 3)]).status_code == 200
    back = etsy.control("GET", f"/shops/{shop['shop_id']}/listings/{lid}")
    assert (back["state"], back["quantity"]) == ("active", 3)


def test_activating_a_sold_out_listing_sets_quantity_one(etsy: EtsyHarness, shop: dict[str, Any], seller: str) -> None:
    profile = etsy.control("POST", f"/shops/{shop['shop_id']}/shipping-profiles", json={})
    seeded = etsy.control(
        "POST",
        f"/shops/{shop['shop_id']}/listings",
        json={"state": "sold_out", "images": [{}], "shipping_profile_id": profile["shipping_profile_id"],
              "inventory": {"products": [{"sku": "X", "offerings": [{"price": 3, "quantity": 0}]}]}},
    )
    response = etsy.api("PATCH", f"/shops/{shop['shop_id']}/listings/{seeded['listing_id']}", token=seller,
                        data={"state": "active"})
    assert response.status_code == 200, response.text
    assert (response.json()["state"], response.json()["quantity"]) == ("active", 1)


# --------------------------------------------------------------------------- activation


def test_draft_to_active_needs_image_and_shipping_profile(etsy: EtsyHarness, shop: dict[str, Any], seller: str) -> None:
    sid = shop["shop_id"]
    profile = make_profile(etsy, sid, seller)
    listing = make_draft(etsy, sid, seller, shipping_profile_id=profile["shipping_profile_id"])
    path = f"/shops/{sid}/listings/{listing['listing_id']}"
    no_image = etsy.api("PATCH", path, token=seller, data={"state": "active"})
    assert no_image.status_code == 400
    assert "image" in no_image.json()["error"]
    assert etsy.control("GET", f"/shops/{sid}/listings/{listing['listing_id']}")["state"] == "draft"

    digital = make_draft(etsy, sid, seller, type="download")
    assert upload(etsy, sid, digital["listing_id"], seller).status_code == 201
    switched = etsy.api("PATCH", f"/shops/{sid}/listings/{digital['listing_id']}", token=seller,
                        data={"type": "physical", "state": "active"})
    assert switched.status_code == 400
    assert "shipping_profile_id" in switched.json()["error"]

    assert upload(etsy, sid, listing["listing_id"], seller, rank=1, alt_text="Mug").status_code == 201
    live = etsy.api("PATCH", path, token=seller, data={"state": "active", "title": "Hand-thrown mug, blue"})
    assert live.status_code == 200, live.text
    assert (live.json()["state"], live.json()["title"]) == ("active", "Hand-thrown mug, blue")


# --------------------------------------------------------------------------- images and properties


def test_images_keep_rank_and_alt_text(etsy: EtsyHarness, shop: dict[str, Any], seller: str) -> None:
    sid = shop["shop_id"]
    listing = make_draft(etsy, sid, seller, type="download")
    lid = listing["listing_id"]
    first = upload(etsy, sid, lid, seller, alt_text="side view")
    assert first.status_code == 201
    assert first.json()["rank"] == 1
    front = upload(etsy, sid, lid, seller, rank=1, alt_text="front")
    assert front.status_code == 201
    images = etsy.api("GET", f"/listings/{lid}/images").json()
    assert [(i["rank"], i["alt_text"]) for i in images["results"]] == [(1, "front"), (2, "side view")]
    back = etsy.control("GET", f"/shops/{sid}/listings/{lid}")
    assert back["images"][0]["size"] == len(JPEG)
    assert back["images"][0]["content_type"] == "image/jpeg"
    too_long = upload(etsy, sid, lid, seller, alt_text="x" * 251)
    assert too_long.status_code == 400
    assert "alt_text" in too_long.json()["error"]


def test_eleventh_image_is_refused(etsy: EtsyHarness, shop: dict[str, Any], seller: str) -> None:
    sid = shop["shop_id"]
    seeded = etsy.control("POST", f"/shops/{sid}/listings", json={"images": [{}] * 10})
    response = upload(etsy, sid, seeded["listing_id"], seller)
    assert response.status_code == 409
    assert "10" in response.json()["error"]


def test_update_listing_property_stores_item_specifics(etsy: EtsyHarness, shop: dict[str, Any], seller: str) -> None:
    sid = shop["shop_id"]
    listing = make_draft(etsy, sid, seller, type="download")
    path = f"/shops/{sid}/listings/{listing['listing_id']}/properties"
    response = etsy.api("PUT", f"{path}/200", token=seller, data={"value_ids": "1213", "values": "Beige"})
    assert response.status_code == 200, response.text
    assert response.json()["values"] == ["Beige"]
    assert etsy.api("GET", path).json()["results"][0]["value_ids"] == [1213]
    with etsy.contract.off_spec_request():
        missing = etsy.api("PUT", f"{path}/200", token=seller, data={"value_ids": "1"})
    assert missing.status_code == 400
    assert "values" in missing.json()["error"]


def test_delete_listing(etsy: EtsyHarness, shop: dict[str, Any], seller: str) -> None:
    seeded = etsy.control("POST", f"/shops/{shop['shop_id']}/listings", json={})
    assert etsy.api("DELETE", f"/listings/{seeded['listing_id']}", token=seller).status_code == 204
    assert etsy.api("DELETE", f"/listings/{seeded['listing_id']}", token=seller).status_code == 404


# --------------------------------------------------------------------------- profiles


def test_shipping_profiles_with_destinations(etsy: EtsyHarness, shop: dict[str, Any], seller: str) -> None:
    sid = shop["shop_id"]
    profile = make_profile(etsy, sid, seller)
    pid = profile["shipping_profile_id"]
    assert profile["shipping_profile_destinations"][0]["primary_cost"]["amount"] == 450
    dest = etsy.api("POST", f"/shops/{sid}/shipping-profiles/{pid}/destinations", token=seller,
                    data={"primary_cost": "12", "secondary_cost": "3", "destination_region": "eu",
                          "min_delivery_days": 5, "max_delivery_days": 15})
    assert dest.status_code == 201, dest.text
    updated = etsy.api("PUT", f"/shops/{sid}/shipping-profiles/{pid}", token=seller,
                       data={"title": "Worldwide", "max_processing_time": 5})
    assert updated.json()["title"] == "Worldwide"
    got = etsy.api("GET", f"/shops/{sid}/shipping-profiles/{pid}", token=seller).json()
    assert [d["destination_region"] for d in got["shipping_profile_destinations"]] == ["none", "eu"]
    assert got["max_processing_days"] == 5
    assert etsy.api("GET", f"/shops/{sid}/shipping-profiles", token=seller).json()["count"] == 1
    with etsy.contract.off_spec_request():
        bad = etsy.api("PUT", f"/shops/{sid}/shipping-profiles/{pid}", token=seller, data={"min_processing_time": 11})
    assert bad.status_code == 400
    assert "min_processing_time" in bad.json()["error"]
    assert etsy.api("GET", f"/shops/{sid}/shipping-profiles/1", token=seller).status_code == 404


def test_processing_profiles_duplicate_is_409_with_content_location(
    etsy: EtsyHarness, shop: dict[str, Any], seller: str
) -> None:
    sid = shop["shop_id"]
    path = f"/shops/{sid}/readiness-state-definitions"
    form = {"readiness_state": "made_to_order", "min_processing_time": 3, "max_processing_time": 5,
            "processing_time_unit": "days"}
    created = etsy.api("POST", path, token=seller, data=form)
    assert created.status_code == 201, created.text
    rid = created.json()["readiness_state_id"]
    again = etsy.api("POST", path, token=seller, data=form)
    assert again.status_code == 409
    assert again.headers["content-location"].endswith(f"{path}/{rid}")
    bad = etsy.api("POST", path, token=seller, data={**form, "readiness_state": "someday"})
    assert bad.status_code == 400
    assert "readiness_state" in bad.json()["error"]
    listing = make_draft(etsy, sid, seller, type="download", readiness_state_id=rid)
    assert etsy.control("GET", f"/shops/{sid}/listings/{listing['listing_id']}")["readiness_state_id"] == rid
    assert etsy.api("GET", path, token=seller).json()["count"] == 1
    assert etsy.api("DELETE", f"{path}/{rid}", token=seller).status_code == 409
    assert len(etsy.contract.unchecked) >= 4


def test_full_publishing_sequence_reads_back_exactly(etsy: EtsyHarness, shop: dict[str, Any], seller: str) -> None:
    sid = shop["shop_id"]
    listing = publishable(etsy, sid, seller)
    lid = listing["listing_id"]
    assert put_inventory(etsy, lid, seller, [variant("M-R-S", "Red", "S", 10, 1),
                                            variant("M-R-L", "Red", "L", 12, 2)]).status_code == 200
    etsy.api("PUT", f"/shops/{sid}/listings/{lid}/properties/200", token=seller, data={"value_ids": "1", "values": "Red"})
    assert etsy.api("PATCH", f"/shops/{sid}/listings/{lid}", token=seller, data={"state": "active"}).status_code == 200
    back = etsy.control("GET", f"/shops/{sid}/listings/{lid}")
    assert back["state"] == "active"
    assert back["quantity"] == 3
    assert [p["sku"] for p in back["inventory"]["products"]] == ["M-R-S", "M-R-L"]
    assert back["properties"][0]["values"] == ["Red"]
    assert back["shipping_profile_id"] == listing["shipping_profile_id"]
    assert [i["rank"] for i in back["images"]] == [1]
    live = etsy.api("GET", f"/shops/{sid}/listings", token=seller).json()
    assert [x["listing_id"] for x in live["results"]] == [lid]


def test_processing_profile_required_for_activation_when_switched_on(
    etsy: EtsyHarness, shop: dict[str, Any], seller: str
) -> None:
    sid = shop["shop_id"]
    etsy.settings(require_processing_profile=True)
    listing = publishable(etsy, sid, seller)
    path = f"/shops/{sid}/listings/{listing['listing_id']}"
    refused = etsy.api("PATCH", path, token=seller, data={"state": "active"})
    assert refused.status_code == 400
    assert "readiness_state_id" in refused.json()["error"]
    definition = etsy.api("POST", f"/shops/{sid}/readiness-state-definitions", token=seller,
                          data={"readiness_state": "ready_to_ship", "min_processing_time": 1, "max_processing_time": 2,
                                "processing_time_unit": "days"}).json()
    with etsy.contract.off_spec_request():  # readiness_state_id on updateListing is a 2026 field
        live = etsy.api("PATCH", path, token=seller,
                        data={"state": "active", "readiness_state_id": definition["readiness_state_id"]})
    assert live.status_code == 200, live.text
    assert live.json()["state"] == "active"


def test_edge_faults_and_request_log_cover_listing_routes(etsy: EtsyHarness, shop: dict[str, Any], seller: str) -> None:
    seeded = etsy.control("POST", f"/shops/{shop['shop_id']}/listings",
                          json={"inventory": {"products": [{"sku": "K", "offerings": [{"price": 2, "quantity": 4}]}]}})
    lid = seeded["listing_id"]
    etsy.fault(kind="server_error", path_prefix=f"/v3/application/listings/{lid}/inventory")
    failed = etsy.api("PUT", f"/listings/{lid}/inventory", token=seller,
                      json={"products": [{"sku": "K", "offerings": [{"price": 2, "quantity": 0}]}]})
    assert failed.status_code == 500
    assert etsy.control("GET", f"/shops/{shop['shop_id']}/listings/{lid}")["quantity"] == 4
    log = etsy.requests_log(f"/v3/application/listings/{lid}/inventory")
    assert [(r["method"], r["status"], r["fault"]) for r in log] == [("PUT", 500, "server_error")]
    ok = etsy.api("GET", f"/listings/{lid}/inventory", token=seller)
    assert ok.headers["x-limit-per-second"] == "1000"
    with etsy.contract.off_spec_request():
        bad_sort = etsy.api("GET", f"/shops/{shop['shop_id']}/listings", token=seller, params={"sort_on": "name"})
    assert bad_sort.status_code == 400
    assert "sort_on" in bad_sort.json()["error"]


def test_owner_read_of_a_draft_costs_one_request_of_quota(etsy: EtsyHarness, shop: dict[str, Any], seller: str) -> None:
    draft = etsy.control("POST", f"/shops/{shop['shop_id']}/listings", json={"state": "draft"})
    first = etsy.api("GET", f"/listings/{draft['listing_id']}", token=seller)
    second = etsy.api("GET", f"/listings/{draft['listing_id']}", token=seller)
    assert second.status_code == 200
    assert int(first.headers["x-remaining-today"]) - int(second.headers["x-remaining-today"]) == 1
