"""Store information (`GET /v2/store`); the catalog and inventory reads live in catalog_api / inventory_api."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from sandbox.bigcommerce import payloads
from sandbox.bigcommerce.auth import authorize
from sandbox.bigcommerce.scopes import INFORMATION_READ

router = APIRouter(prefix="/stores/{store_hash}")


@router.get("/v2/store")
async def get_store_information(request: Request, store_hash: str) -> dict[str, Any]:
    store, _ = authorize(request, store_hash, INFORMATION_READ)
    return payloads.store_payload(store)

