"""Inventory API adjustments: absolute (`PUT`) and relative (`POST`) stock changes, many per call.

An item is named by `sku`, `variant_id` or `product_id` at a location; the emulated store has
only the default location (id 1). The numbers changed are the catalog's own `inventory_level`s,
so a `GET /v3/catalog/products` right after sees them. The whole request is checked before any
item changes (422 names the item), so a rejected call changes nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from sandbox.bigcommerce.catalog import MAX_INT, CatalogError, Product, Variant
from sandbox.bigcommerce.catalog_ops import touch
from sandbox.bigcommerce.state import BigCommerceState

DEFAULT_LOCATION = 1
MAX_ITEMS = 2000


def _unprocessable(title: str, errors: dict[str, str] | None = None) -> CatalogError:
    error = CatalogError(422, title, errors)
    error.headers = {"Content-Type": "application/problem+json"}
    return error


def resolve(state: BigCommerceState, store_hash: str, item: dict[str, Any]) -> tuple[Product, Variant | None]:
    """The product (and variant, when stock is per variant) the item names; 422 when unknown or mis-tracked."""
    mine = [p for p in state.products.values() if p.store_hash == store_hash]
    if "sku" in item:
        key = str(item["sku"]).casefold()
        for product in mine:
            for variant in product.variants:
                if variant.sku and variant.sku.casefold() == key:
                    return _tracked(product, variant, f"sku {item['sku']}")
        raise _unprocessable(f"Item with sku {item['sku']} does not exist", {"sku": str(item["sku"])})
    if "variant_id" in item:
        for product in mine:
            variant = product.variant(item["variant_id"])
            if variant is not None:
                return _tracked(product, variant, f"variant_id {variant.id}")
        raise _unprocessable(f"Item with variant_id {item['variant_id']} does not exist")
    product = state.products.get(item["product_id"])
    if product is None or product.store_hash != store_hash:
        raise _unprocessable(f"Item with product_id {item['product_id']} does not exist")
    if product.tracking == "variant":
        raise _unprocessable(f"[Item with product_id {product.id} is tracked by variant, please update stock by variant]")
    return _tracked(product, product.base_variant, f"product_id {product.id}")


def _tracked(product: Product, variant: Variant | None, label: str) -> tuple[Product, Variant | None]:
    if product.tracking == "none":
        raise _unprocessable(f"[Item with {label} has inventory tracking disabled]")
    if product.tracking == "product":
        if variant is not None and variant is not product.base_variant:
            raise _unprocessable(f"[Item with {label} is tracked by product, please update stock by product]")
        return product, None
    return product, variant


def current(product: Product, variant: Variant | None) -> int:
    return (variant.fields.get("inventory_level") or 0) if variant is not None else product.fields["inventory_level"]


def set_level(product: Product, variant: Variant | None, level: int) -> None:
    if variant is not None:
        variant.fields["inventory_level"] = level
    else:
        product.fields["inventory_level"] = level
        if product.base_variant is not None:
            product.base_variant.fields["inventory_level"] = level


def adjust(state: BigCommerceState, store_hash: str, body: Any, *, relative: bool) -> dict[str, str]:
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise _unprocessable("items is required", {"items": "error.path.missing"})
    if len(items) > MAX_ITEMS:
        raise _unprocessable(f"At most {MAX_ITEMS} items can be adjusted in one request", {"items": str(len(items))})
    plan: dict[tuple[int, int | None], tuple[Product, Variant | None, int]] = {}
    for i, item in enumerate(items):
        keys = [k for k in ("sku", "variant_id", "product_id") if isinstance(item, dict) and k in item]
        quantity = item.get("quantity") if isinstance(item, dict) else None
        if len(keys) != 1 or not isinstance(quantity, int) or isinstance(quantity, bool):
            raise _unprocessable(f"items[{i}] needs exactly one of sku, variant_id, product_id and an integer quantity",
                                 {f"items[{i}]": "invalid"})
        if item.get("location_id", DEFAULT_LOCATION) != DEFAULT_LOCATION:
            raise _unprocessable(f"Location {item.get('location_id')} does not exist", {f"items[{i}].location_id": "unknown"})
        product, variant = resolve(state, store_hash, item)
        key = (product.id, variant.id if variant is not None else None)
        before = plan[key][2] if key in plan else current(product, variant)
        after = before + quantity if relative else quantity
        if not 0 <= after <= MAX_INT:
            raise _unprocessable(f"items[{i}]: resulting stock {after} is out of range 0..{MAX_INT}",
                                 {f"items[{i}].quantity": str(quantity)})
        plan[key] = (product, variant, after)
    for product, variant, level in plan.values():
        set_level(product, variant, level)
        touch(state, product)
    return {"transaction_id": str(uuid.uuid4())}


def item_payload(product: Product, variant: Variant | None) -> dict[str, Any]:
    level = current(product, variant) if product.tracking != "none" else 0
    return {
        "identity": {
            "sku": (variant.sku if variant else product.sku),
            "variant_id": variant.id if variant else (product.base_variant.id if product.base_variant else 0),
            "product_id": product.id,
            **({"sku_id": variant.sku_id} if variant is not None and variant.sku_id is not None else {}),
        },
        "locations": [
            {
                "location_id": DEFAULT_LOCATION,
                "location_code": "BC-LOCATION-1",
                "location_name": "Default location",
                "available_to_sell": level,
                "total_inventory_onhand": level,
                "location_enabled": True,
                "settings": {"safety_stock": 0, "is_in_stock": level > 0, "warning_level": 0, "bin_picking_number": ""},
            }
        ],
    }
