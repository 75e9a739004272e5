"""Store information (`GET /v2/store`) and the empty-catalog reads that answer scope probes.

The sandbox does not model a catalog or inventory; a store therefore has no products and no
inventory items, and `GET /v3/catalog/products` / `GET /v3/inventory/items` return that empty
truth in the V3 envelope. They exist so a client can discover whether its token carries the
products / inventory scopes (200 vs 403) exactly as it would against BigCommerce.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from sandbox.bigcommerce import payloads
from sandbox.bigcommerce.auth import authorize
from sandbox.bigcommerce.errors import BigCommerceError
from sandbox.bigcommerce.scopes import INFORMATION_READ, INVENTORY_READ, PRODUCTS_READ

router = APIRouter(prefix="/stores/{store_hash}")


@router.get("/v2/store")
async def get_store_information(request: Request, store_hash: str) -> dict[str, Any]:
    store, _ = authorize(request, store_hash, INFORMATION_READ)
    return payloads.store_payload(store)


def _v3_limit(request: Request, default: int) -> tuple[int, int]:
    try:
        page = int(request.query_params.get("page", "1"))
        limit = int(request.query_params.get("limit", str(default)))
    except ValueError:
        raise BigCommerceError(422, "Invalid page or limit", shape="v3", errors={}) from None
    return max(page, 1), max(limit, 1)


def empty_v3_page(request: Request, default_limit: int) -> dict[str, Any]:
    page, limit = _v3_limit(request, default_limit)
    pagination = {
        "total": 0,
        "count": 0,
        "per_page": limit,
        "current_page": page,
        "total_pages": 0,
        "links": {"current": f"?page={page}&limit={limit}"},
    }
    return {"data": [], "meta": {"pagination": pagination}}


@router.get("/v3/catalog/products")
async def get_products(request: Request, store_hash: str) -> dict[str, Any]:
    authorize(request, store_hash, PRODUCTS_READ)
    return empty_v3_page(request, 50)


@router.get("/v3/inventory/items")
async def get_inventory_items(request: Request, store_hash: str) -> dict[str, Any]:
    authorize(request, store_hash, INVENTORY_READ)
    return empty_v3_page(request, 50)
