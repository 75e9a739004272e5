"""Catalog V3 and Inventory API of the BigCommerce emulator over real HTTP (issue 10 groundwork).

Every `/stores/...` exchange passes the contract recorder, which validates it against the vendored
products, variants, options and inventory specs (violations fail the test at teardown).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytest.register_assert_rewrite("tests.sandbox.bigcommerce_fixtures")

from tests.sandbox.bigcommerce_fixtures import BigCommerceHarness, Merchant  # noqa: E402

pytest_plugins = ["tests.sandbox.bigcommerce_fixtures"]

TSHIRT: dict[str, Any] = {
    "name": "Linen T-shirt",
    "type": "physical",
    "sku": "TS",
    "price": 25.0,
    "retail_price": 35.0,
    "weight": 0.3,
    "categories": [23],
    "inventory_tracking": "variant",
    "custom_fields": [{"name": "Material", "value": "Linen"}],
    "images": [
        {"image_url": "https://img.example/ts-front.jpg", "is_thumbnail": True, "sort_order": 0, "description": "Front"},
        {"image_url": "https://img.example/ts-back.jpg", "sort_order": 1, "description": "Back"},
    ],
    "variants": [
        {
            "sku": "TS-RED-M",
            "price": 25.0,
            "inventory_level": 4,
            "option_values": [{"option_display_name": "Colour", "label": "Red"}, {"option_display_name": "Size", "label": "M"}],
        },
        {
            "sku": "TS-RED-L",
            "retail_price": 36.0,
            "inventory_level": 2,
            "weight": 0.35,
            "option_values": [{"option_display_name": "Colour", "label": "Red"}, {"option_display_name": "Size", "label": "L"}],
        },
    ],
}
MUG: dict[str, Any] = {
    "name": "Mug",
    "type": "physical",
    "sku": "MUG-1",
    "price": 9.5,
    "weight": 0.4,
    "inventory_tracking": "product",
    "inventory_level": 10,
}


def api(bc: BigCommerceHarness, m: Merchant, method: str, path: str, token: str | None = None, **kw: Any) -> httpx.Response:
    return bc.api(method, m.store_hash, path, token or m.token, **kw)


def create(bc: BigCommerceHarness, m: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    response = api(bc, m, "POST", "/v3/catalog/products", json=body)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def stored(bc: BigCommerceHarness, m: Merchant) -> list[dict[str, Any]]:
    return bc.control("GET", f"/stores/{m.store_hash}/products")["results"]


def test_one_post_creates_product_with_variants_options_images_and_custom_fields(
    bc: BigCommerceHarness, merchant: Merchant
) -> None:
    made = create(bc, merchant, TSHIRT)
    assert made["retail_price"] == 35.0 and made["weight"] == 0.3 and made["inventory_tracking"] == "variant"
    assert made["inventory_level"] == 6  # tracked by variant: the sum
    assert "base_variant_id" not in made
    assert [v["sku"] for v in made["variants"]] == ["TS-RED-M", "TS-RED-L"]
    assert [(v["option_display_name"], v["label"]) for v in made["variants"][1]["option_values"]] == [
        ("Colour", "Red"),
        ("Size", "L"),
    ]
    assert made["variants"][1]["retail_price"] == 36.0 and made["variants"][1]["weight"] == 0.35
    assert [(o["display_name"], [v["label"] for v in o["option_values"]]) for o in made["options"]] == [
        ("Colour", ["Red"]),
        ("Size", ["M", "L"]),
    ]
    assert [(i["sort_order"], i["description"], i["is_thumbnail"]) for i in made["images"]] == [
        (0, "Front", True),
        (1, "Back", False),
    ]
    assert made["custom_fields"][0]["name"] == "Material"

    got = api(bc, merchant, "GET", f"/v3/catalog/products/{made['id']}", params={"include": "variants,images"}).json()["data"]
    assert [v["inventory_level"] for v in got["variants"]] == [4, 2]
    assert len(got["images"]) == 2 and "custom_fields" not in got
    assert stored(bc, merchant)[0]["variants"] == made["variants"]

    simple = create(bc, merchant, MUG)
    assert simple["base_variant_id"] == simple["variants"][0]["id"]
    assert simple["variants"][0]["sku"] == "MUG-1" and simple["variants"][0]["option_values"] == []


@pytest.mark.parametrize(
    "clash",
    [
        {"name": "linen t-shirt", "sku": "OTHER"},  # name, case-insensitively
        {"name": "Other", "sku": "ts-red-l"},  # a variant's SKU, case-insensitively
        {"name": "Other", "sku": "X", "variants": [{"sku": "TS", "option_values": []}]},  # the product's SKU
    ],
)
def test_duplicate_name_or_sku_is_409_and_stores_nothing(bc: BigCommerceHarness, merchant: Merchant, clash: dict) -> None:
    create(bc, merchant, TSHIRT)
    response = api(bc, merchant, "POST", "/v3/catalog/products", json={"type": "physical", "price": 1, "weight": 1, **clash})
    assert response.status_code == 409
    body = response.json()
    assert body["status"] == 409 and body["type"].startswith("https://") and set(body["errors"]) <= {"name", "sku"}
    assert len(stored(bc, merchant)) == 1


def test_invalid_product_is_422_naming_the_fields(bc: BigCommerceHarness, merchant: Merchant) -> None:
    response = api(bc, merchant, "POST", "/v3/catalog/products", json={"name": "", "type": "furniture", "price": -1})
    assert response.status_code == 422
    body = response.json()
    assert body["status"] == 422 and body["title"] == "JSON data is missing or invalid"
    assert {"name", "type", "price", "weight"} <= set(body["errors"])
    assert body["errors"]["weight"] == "error.path.missing"
    bad_nested = {**MUG, "custom_fields": [{"name": "x" * 251, "value": "v"}], "images": [{"sort_order": 1}]}
    errors = api(bc, merchant, "POST", "/v3/catalog/products", json=bad_nested).json()["errors"]
    assert set(errors) == {"custom_fields[0].name", "images[0].image_url"}
    assert stored(bc, merchant) == []


def test_list_filters_includes_and_paginates(bc: BigCommerceHarness, merchant: Merchant) -> None:
    bc.control(
        "POST",
        f"/stores/{merchant.store_hash}/products",
        json={"products": [{**MUG, "name": f"Mug {i}", "sku": f"MUG-{i}"} for i in range(5)]},
    )
    page = api(bc, merchant, "GET", "/v3/catalog/products", params={"page": 2, "limit": 2}).json()
    assert [p["sku"] for p in page["data"]] == ["MUG-2", "MUG-3"]
    pagination = page["meta"]["pagination"]
    assert (pagination["total"], pagination["count"], pagination["per_page"], pagination["total_pages"]) == (5, 2, 2, 3)
    assert pagination["links"] == {"previous": "?page=1&limit=2", "current": "?page=2&limit=2", "next": "?page=3&limit=2"}
    by_sku = api(bc, merchant, "GET", "/v3/catalog/products", params={"sku": "mug-4", "include": "variants"}).json()["data"]
    assert [p["name"] for p in by_sku] == ["Mug 4"] and by_sku[0]["variants"][0]["sku"] == "MUG-4"
    by_name = api(bc, merchant, "GET", "/v3/catalog/products", params={"name": "Mug 1"}).json()["data"]
    assert [p["sku"] for p in by_name] == ["MUG-1"] and "variants" not in by_name[0]


def test_put_updates_and_delete_removes(bc: BigCommerceHarness, merchant: Merchant) -> None:
    mug = create(bc, merchant, MUG)
    other = create(bc, merchant, {**MUG, "name": "Cup", "sku": "CUP"})
    updated = api(
        bc, merchant, "PUT", f"/v3/catalog/products/{mug['id']}", json={"price": 11.0, "retail_price": 14.0, "inventory_level": 3}
    ).json()["data"]
    assert (updated["price"], updated["retail_price"], updated["inventory_level"]) == (11.0, 14.0, 3)
    assert api(bc, merchant, "PUT", f"/v3/catalog/products/{mug['id']}", json={"name": "Cup"}).status_code == 409
    assert api(bc, merchant, "PUT", f"/v3/catalog/products/{mug['id']}", json={"sku": "cup"}).status_code == 409
    assert api(bc, merchant, "PUT", f"/v3/catalog/products/{mug['id']}", json={"weight": "heavy"}).json()["errors"] == {
        "weight": "weight must be a number"
    }
    assert api(bc, merchant, "DELETE", f"/v3/catalog/products/{other['id']}").status_code == 204
    assert api(bc, merchant, "GET", f"/v3/catalog/products/{other['id']}").status_code == 404
    assert [p["name"] for p in stored(bc, merchant)] == ["Mug"]


def test_options_values_and_variants_added_later(bc: BigCommerceHarness, merchant: Merchant) -> None:
    product = create(bc, merchant, {**MUG, "name": "Poster", "sku": "P", "inventory_tracking": "variant"})
    base = f"/v3/catalog/products/{product['id']}"
    option = api(
        bc,
        merchant,
        "POST",
        f"{base}/options",
        json={"display_name": "Size", "type": "rectangles", "option_values": [{"label": "A3", "sort_order": 0}]},
    ).json()["data"]
    assert api(bc, merchant, "POST", f"{base}/options", json={"display_name": "Size", "type": "dropdown"}).status_code == 409
    a2 = api(bc, merchant, "POST", f"{base}/options/{option['id']}/values", json={"label": "A2", "sort_order": 1}).json()["data"]
    values = api(bc, merchant, "GET", f"{base}/options/{option['id']}/values").json()["data"]
    assert [v["label"] for v in values] == ["A3", "A2"]
    a3 = values[0]
    variant = api(
        bc,
        merchant,
        "POST",
        f"{base}/variants",
        json={"sku": "P-A3", "inventory_level": 5, "option_values": [{"id": a3["id"], "option_id": option["id"]}]},
    ).json()["data"]
    assert variant["option_values"] == [{"id": a3["id"], "label": "A3", "option_id": option["id"], "option_display_name": "Size"}]
    api(
        bc,
        merchant,
        "POST",
        f"{base}/variants",
        json={"sku": "P-A2", "option_values": [{"id": a2["id"], "option_id": option["id"]}]},
    )
    dup = api(
        bc,
        merchant,
        "POST",
        f"{base}/variants",
        json={"sku": "mug-1", "option_values": [{"id": a2["id"], "option_id": option["id"]}]},
    )
    assert dup.status_code in (409, 422)
    listed = api(bc, merchant, "GET", f"{base}/variants").json()["data"]
    assert [v["sku"] for v in listed] == ["P-A3", "P-A2"]  # the base variant made way for option variants
    put = api(bc, merchant, "PUT", f"{base}/variants/{variant['id']}", json={"inventory_level": 9, "retail_price": 20.0})
    assert put.json()["data"]["inventory_level"] == 9
    one = api(bc, merchant, "GET", f"{base}/variants/{variant['id']}").json()["data"]
    assert one["retail_price"] == 20.0
    assert api(bc, merchant, "GET", f"{base}/options/{option['id']}").json()["data"]["display_name"] == "Size"


def test_variant_batch_updates_all_or_nothing_and_caps_at_50(bc: BigCommerceHarness, merchant: Merchant) -> None:
    made = create(bc, merchant, TSHIRT)
    ids = [v["id"] for v in made["variants"]]
    ok = api(
        bc, merchant, "PUT", "/v3/catalog/variants", json=[{"id": ids[0], "inventory_level": 7}, {"id": ids[1], "price": 30.0}]
    )
    assert ok.status_code == 200 and [v["inventory_level"] for v in ok.json()["data"]] == [7, 2]
    bad = api(
        bc, merchant, "PUT", "/v3/catalog/variants", json=[{"id": ids[0], "inventory_level": 1}, {"id": 999999, "price": 1}]
    )
    assert bad.status_code == 422 and bad.json()["batch_errors"][0]["status"] == 422
    assert stored(bc, merchant)[0]["variants"][0]["inventory_level"] == 7  # first item not applied
    too_many = api(bc, merchant, "PUT", "/v3/catalog/variants", json=[{"id": ids[0], "inventory_level": 1}] * 51)
    assert too_many.status_code == 413 and "50" in too_many.json()["title"]


def test_images_and_custom_fields(bc: BigCommerceHarness, merchant: Merchant) -> None:
    product = create(bc, merchant, MUG)
    base = f"/v3/catalog/products/{product['id']}"
    first = api(
        bc,
        merchant,
        "POST",
        f"{base}/images",
        json={"image_url": "https://img.example/a.jpg", "sort_order": 2, "description": "Side"},
    ).json()["data"]
    assert first["is_thumbnail"] is True and first["url_standard"].startswith("https://cdn11.bigcommerce.com/")
    api(bc, merchant, "POST", f"{base}/images", json={"image_url": "https://img.example/b.jpg", "sort_order": 1})
    assert [i["sort_order"] for i in api(bc, merchant, "GET", f"{base}/images").json()["data"]] == [1, 2]
    assert api(bc, merchant, "POST", f"{base}/images", json={"image_url": "x" * 256}).json()["errors"] == {
        "image_url": "image_url must be between 1 and 255 characters"
    }
    assert api(bc, merchant, "GET", f"{base}/images/{first['id']}").json()["data"]["description"] == "Side"
    assert api(bc, merchant, "DELETE", f"{base}/images/{first['id']}").status_code == 204
    field = api(bc, merchant, "POST", f"{base}/custom-fields", json={"name": "Colour", "value": "White"}).json()["data"]
    api(bc, merchant, "PUT", f"{base}/custom-fields/{field['id']}", json={"value": "Ivory"})
    assert api(bc, merchant, "GET", f"{base}/custom-fields").json()["data"] == [
        {"id": field["id"], "name": "Colour", "value": "Ivory"}
    ]
    assert api(bc, merchant, "POST", f"{base}/custom-fields", json={"name": "x"}).json()["errors"] == {
        "value": "error.path.missing"
    }
    assert api(bc, merchant, "DELETE", f"{base}/custom-fields/{field['id']}").status_code == 204
    assert stored(bc, merchant)[0]["custom_fields"] == []


def test_inventory_adjustments_change_what_the_catalog_reads(bc: BigCommerceHarness, merchant: Merchant) -> None:
    shirt = create(bc, merchant, TSHIRT)
    mug = create(bc, merchant, MUG)
    absolute = api(
        bc,
        merchant,
        "PUT",
        "/v3/inventory/adjustments/absolute",
        json={
            "reason": "sync",
            "items": [
                {"location_id": 1, "sku": "TS-RED-M", "quantity": 11},
                {"location_id": 1, "variant_id": shirt["variants"][1]["id"], "quantity": 0},
                {"location_id": 1, "product_id": mug["id"], "quantity": 20},
            ],
        },
    )
    assert absolute.status_code == 200 and absolute.json()["transaction_id"]
    relative = api(
        bc,
        merchant,
        "POST",
        "/v3/inventory/adjustments/relative",
        json={
            "reason": "sold",
            "items": [{"location_id": 1, "sku": "ts-red-m", "quantity": -3}, {"location_id": 1, "sku": "MUG-1", "quantity": 5}],
        },
    )
    assert relative.status_code == 200
    listing = api(bc, merchant, "GET", "/v3/catalog/products", params={"include": "variants"}).json()["data"]
    assert [v["inventory_level"] for v in listing[0]["variants"]] == [8, 0] and listing[0]["inventory_level"] == 8
    assert listing[1]["inventory_level"] == 25 and listing[1]["variants"][0]["inventory_level"] == 25
    items = api(bc, merchant, "GET", "/v3/inventory/items").json()["data"]
    assert [(i["identity"]["sku"], i["locations"][0]["available_to_sell"]) for i in items] == [
        ("TS-RED-M", 8),
        ("TS-RED-L", 0),
        ("MUG-1", 25),
    ]

    for item, words in [
        ({"product_id": shirt["id"], "quantity": 1}, "tracked by variant"),
        ({"sku": "NOPE", "quantity": 1}, "does not exist"),
        ({"sku": "TS-RED-L", "quantity": -1}, "out of range"),
    ]:
        rejected = api(
            bc,
            merchant,
            "POST",
            "/v3/inventory/adjustments/relative",
            json={"items": [{"location_id": 1, "sku": "MUG-1", "quantity": 1}, {"location_id": 1, **item}]},
        )
        assert rejected.status_code == 422 and words in rejected.json()["title"]
        assert rejected.headers["content-type"].startswith("application/problem+json")
    assert stored(bc, merchant)[1]["inventory_level"] == 25  # the valid first item was not applied either


def test_scopes_guard_catalog_and_inventory_writes(bc: BigCommerceHarness, merchant: Merchant) -> None:
    read_only = bc.create_account(merchant.store_hash, ["store_v2_products_read_only", "store_inventory_read_only"])[
        "access_token"
    ]
    assert api(bc, merchant, "GET", "/v3/catalog/products", read_only).status_code == 200
    assert api(bc, merchant, "POST", "/v3/catalog/products", read_only, json=MUG).status_code == 403
    assert api(bc, merchant, "PUT", "/v3/catalog/variants", read_only, json=[{"id": 1}]).status_code == 403
    assert api(bc, merchant, "PUT", "/v3/inventory/adjustments/absolute", read_only, json={"items": []}).status_code == 403
    orders_only = bc.create_account(merchant.store_hash, ["store_v2_orders"])["access_token"]
    assert api(bc, merchant, "GET", "/v3/catalog/products/1", orders_only).status_code == 403
    assert api(bc, merchant, "GET", "/v3/inventory/items", orders_only).status_code == 403
    assert stored(bc, merchant) == []


def test_control_seeds_reads_back_and_drifts_stock(bc: BigCommerceHarness, merchant: Merchant) -> None:
    seeded = bc.control("POST", f"/stores/{merchant.store_hash}/products", json={"products": [TSHIRT, MUG]})
    assert [p["name"] for p in seeded["products"]] == ["Linen T-shirt", "Mug"]
    listed = api(bc, merchant, "GET", "/v3/catalog/products", params={"include": "variants,images,custom_fields"}).json()["data"]
    assert [p["id"] for p in listed] == seeded["product_ids"]
    assert listed[0]["variants"] == seeded["products"][0]["variants"]
    conflict = bc.http.post(f"/_sandbox/bigcommerce/stores/{merchant.store_hash}/products", json={"products": [MUG]})
    assert conflict.status_code == 409
    drifted = bc.control("PUT", f"/stores/{merchant.store_hash}/stock", json={"sku": "TS-RED-L", "inventory_level": 40})
    assert [v["inventory_level"] for v in drifted["variants"]] == [4, 40]
    variant_id = seeded["products"][0]["variants"][1]["id"]
    got = api(bc, merchant, "GET", f"/v3/catalog/products/{seeded['product_ids'][0]}/variants/{variant_id}").json()["data"]
    assert got["inventory_level"] == 40
    assert (
        bc.http.put(f"/_sandbox/bigcommerce/stores/{merchant.store_hash}/stock", json={"inventory_level": 1}).status_code == 422
    )


def test_sku_limit_bulk_delete_and_variant_delete(bc: BigCommerceHarness, merchant: Merchant) -> None:
    sizes = [{"sku": f"BIG-{i}", "option_values": [{"option_display_name": "N", "label": str(i)}]} for i in range(601)]
    too_many = api(bc, merchant, "POST", "/v3/catalog/products", json={**MUG, "name": "Big", "sku": "BIG", "variants": sizes})
    assert too_many.status_code == 422 and "600" in too_many.json()["errors"]["variants"]
    shirt = create(bc, merchant, TSHIRT)
    path = f"/v3/catalog/products/{shirt['id']}/variants/{shirt['variants'][0]['id']}"
    assert api(bc, merchant, "DELETE", path).status_code == 204
    assert [v["sku"] for v in stored(bc, merchant)[0]["variants"]] == ["TS-RED-L"]
    create(bc, merchant, MUG)
    assert api(bc, merchant, "DELETE", "/v3/catalog/products").status_code == 422
    assert api(bc, merchant, "DELETE", "/v3/catalog/products", params={"id:in": str(shirt["id"])}).status_code == 204
    assert [p["name"] for p in stored(bc, merchant)] == ["Mug"]


def test_variant_stock_over_the_total_limit_is_a_207_partial_success(bc: BigCommerceHarness, merchant: Merchant) -> None:
    body = {**TSHIRT, "variants": [{**TSHIRT["variants"][0], "inventory_level": 2_147_483_000},
                                   {**TSHIRT["variants"][1], "inventory_level": 1000}]}
    response = api(bc, merchant, "POST", "/v3/catalog/products", json=body)
    assert response.status_code == 207
    answer = response.json()
    assert answer["errors"]["status"] == 207 and list(answer["errors"]["errors"]) == ["variants[1].inventory_level"]
    assert [v["inventory_level"] for v in answer["data"][0]["variants"]] == [2_147_483_000, 0]
    assert [v["inventory_level"] for v in stored(bc, merchant)[0]["variants"]] == [2_147_483_000, 0]
