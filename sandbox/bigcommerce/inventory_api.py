"""Inventory API under `/stores/{store_hash}/v3/inventory` (scope `store_inventory`).

Errors here are `application/problem+json`, as the spec declares for adjustments.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from sandbox.bigcommerce import inventory
from sandbox.bigcommerce.auth import authorize, bc_state
from sandbox.bigcommerce.catalog_api import json_body, page_of
from sandbox.bigcommerce.scopes import INVENTORY_MODIFY, INVENTORY_READ

router = APIRouter(prefix="/stores/{store_hash}/v3/inventory")


@router.put("/adjustments/absolute")
async def absolute_adjustment(request: Request, store_hash: str) -> dict[str, str]:
    authorize(request, store_hash, INVENTORY_MODIFY)
    return inventory.adjust(bc_state(request), store_hash, await json_body(request), relative=False)


@router.post("/adjustments/relative")
async def relative_adjustment(request: Request, store_hash: str) -> dict[str, str]:
    authorize(request, store_hash, INVENTORY_MODIFY)
    return inventory.adjust(bc_state(request), store_hash, await json_body(request), relative=True)


@router.get("/items")
async def get_inventory_items(request: Request, store_hash: str) -> dict[str, Any]:
    """One item per variant (per product when tracked by product), filterable by sku/variant_id/product_id."""
    authorize(request, store_hash, INVENTORY_READ)
    state = bc_state(request)
    params = request.query_params
    items = []
    for product in sorted((p for p in state.products.values() if p.store_hash == store_hash), key=lambda p: p.id):
        for variant in product.variants:
            tracked = variant if product.tracking == "variant" else None
            if tracked is None and variant is not product.base_variant and product.tracking == "product":
                continue
            items.append((product, variant))
    if "sku:in" in params:
        wanted = {s.strip().casefold() for s in params["sku:in"].split(",")}
        items = [(p, v) for p, v in items if v.sku.casefold() in wanted]
    if "variant_id:in" in params:
        wanted_ids = {s.strip() for s in params["variant_id:in"].split(",")}
        items = [(p, v) for p, v in items if str(v.id) in wanted_ids]
    if "product_id:in" in params:
        wanted_ids = {s.strip() for s in params["product_id:in"].split(",")}
        items = [(p, v) for p, v in items if str(p.id) in wanted_ids]
    chunk, meta = page_of(request, items)
    payloads = [inventory.item_payload(p, v if p.tracking == "variant" else None) for p, v in chunk]
    for payload, (_, variant) in zip(payloads, chunk, strict=True):
        payload["identity"]["variant_id"] = variant.id
        payload["identity"]["sku"] = variant.sku
    return {"data": payloads, "meta": meta}
