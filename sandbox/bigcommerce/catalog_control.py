"""Control API for the catalog (`/_sandbox/bigcommerce/stores/{hash}/...`): seed, read back, drift stock.

Seeding takes the very body `POST /v3/catalog/products` takes and goes through the same rules
(409/422 included), so a pre-existing product is indistinguishable from one the API made.
`PUT .../stock` is the merchant editing stock in the control panel: no API call, no scope.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from sandbox.bigcommerce import catalog_ops, inventory
from sandbox.bigcommerce.auth import bc_state
from sandbox.bigcommerce.catalog_payloads import full_view
from sandbox.bigcommerce.control import _store_or_404
from sandbox.bigcommerce.control_schemas import control_error

router = APIRouter(prefix="/_sandbox/bigcommerce")


class SeedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    products: list[dict[str, Any]] = Field(min_length=1)


class StockIn(BaseModel):
    """Exactly one of sku / variant_id / product_id, and the new on-hand level."""

    model_config = ConfigDict(extra="forbid")
    inventory_level: int = Field(ge=0, le=2_147_483_647)
    sku: str | None = None
    variant_id: int | None = None
    product_id: int | None = None


@router.post("/stores/{store_hash}/products", status_code=201)
async def seed_products(request: Request, store_hash: str, body: SeedIn) -> dict[str, Any]:
    """Create pre-existing products (with variants, images, fields) as the merchant made them."""
    state = bc_state(request)
    _store_or_404(state, store_hash)
    made = [catalog_ops.create_product(state, store_hash, raw) for raw in body.products]
    for product in made:
        catalog_ops.cap_variant_inventory(product)
    return {"product_ids": [p.id for p in made], "products": [full_view(p) for p in made]}


@router.get("/stores/{store_hash}/products")
async def read_products(request: Request, store_hash: str) -> dict[str, Any]:
    """Every product of the store with variants, options, images and custom fields embedded."""
    state = bc_state(request)
    _store_or_404(state, store_hash)
    mine = sorted((p for p in state.products.values() if p.store_hash == store_hash), key=lambda p: p.id)
    return {"count": len(mine), "results": [full_view(p) for p in mine]}


@router.put("/stores/{store_hash}/stock")
async def set_stock(request: Request, store_hash: str, body: StockIn) -> dict[str, Any]:
    """Change stock by hand (drift): the level the catalog and Inventory API then report."""
    state = bc_state(request)
    _store_or_404(state, store_hash)
    named = body.model_dump(include={"sku", "variant_id", "product_id"}, exclude_none=True)
    if len(named) != 1:
        raise control_error(422, "give exactly one of sku, variant_id, product_id")
    product, variant = inventory.resolve(state, store_hash, named)
    inventory.set_level(product, variant, body.inventory_level)
    catalog_ops.touch(state, product)
    return full_view(product)
