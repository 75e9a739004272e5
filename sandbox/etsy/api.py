"""The v3 endpoints ChannelBridge calls: getMe, getShop(ByOwnerUserId), receipts, tracking.

Path ids are parsed by hand so a bad id answers Etsy's 400 `{"error": ...}` rather than
FastAPI's 422, and every check runs in Etsy's order (key, rate, token, scope, existence,
ownership).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from sandbox.etsy import payloads
from sandbox.etsy.auth import etsy_state, require_api_key, require_token
from sandbox.etsy.errors import EtsyError, bad_request, not_found
from sandbox.etsy.receipts import query_receipts, ship_receipt
from sandbox.etsy.state import EtsyState, Receipt, Shop

router = APIRouter(prefix="/v3/application")


def _path_id(raw: str, name: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise bad_request(f"Expected positive integer for parameter '{name}', got '{raw}'.")
    return value


def _shop(state: EtsyState, raw_shop_id: str) -> Shop:
    shop_id = _path_id(raw_shop_id, "shop_id")
    shop = state.shops.get(shop_id)
    if shop is None:
        raise not_found(f"Could not find a Shop with shop_id = {shop_id}.")
    return shop


def _owned_shop(state: EtsyState, raw_shop_id: str, user_id: int) -> Shop:
    shop = _shop(state, raw_shop_id)
    if shop.user_id != user_id:
        raise EtsyError(403, f"The authenticated user does not own shop_id = {shop.shop_id}.")
    return shop


def _receipt(state: EtsyState, shop: Shop, raw_receipt_id: str) -> Receipt:
    receipt_id = _path_id(raw_receipt_id, "receipt_id")
    receipt = state.receipts.get(receipt_id)
    if receipt is None or receipt.shop_id != shop.shop_id:
        raise not_found(f"Could not find a Receipt with receipt_id = {receipt_id} in shop_id = {shop.shop_id}.")
    return receipt


def _receipt_json(state: EtsyState, receipt: Receipt) -> dict[str, Any]:
    return payloads.receipt_payload(receipt, state.users[receipt.seller_user_id])


def _shop_json(state: EtsyState, shop: Shop) -> dict[str, Any]:
    sold = sum(1 for r in state.receipts.values() if r.shop_id == shop.shop_id and r.is_paid)
    return payloads.shop_payload(shop, state.users[shop.user_id], sold_count=sold)


@router.get("/users/me")
async def get_me(request: Request) -> dict[str, Any]:
    state = etsy_state(request)
    token = require_token(request, require_api_key(request), "shops_r")
    user = state.users.get(token.user_id)
    if user is None:
        raise not_found(f"Could not find a User with user_id = {token.user_id}.")
    return payloads.self_payload(user, state.shop_of_user(user.user_id))


@router.get("/users/{user_id}/shops")
async def get_shop_by_owner(request: Request, user_id: str) -> dict[str, Any]:
    state = etsy_state(request)
    require_api_key(request)
    uid = _path_id(user_id, "user_id")
    shop = state.shop_of_user(uid)
    if shop is None:
        raise not_found(f"Could not find a Shop for user_id = {uid}.")
    return _shop_json(state, shop)


@router.get("/shops/{shop_id}")
async def get_shop(request: Request, shop_id: str) -> dict[str, Any]:
    state = etsy_state(request)
    require_api_key(request)
    return _shop_json(state, _shop(state, shop_id))


@router.get("/shops/{shop_id}/receipts")
async def get_shop_receipts(request: Request, shop_id: str) -> dict[str, Any]:
    state = etsy_state(request)
    token = require_token(request, require_api_key(request), "transactions_r")
    shop = _owned_shop(state, shop_id, token.user_id)
    count, page = query_receipts(state, shop.shop_id, request.query_params)
    return {"count": count, "results": [_receipt_json(state, r) for r in page]}


@router.get("/shops/{shop_id}/receipts/{receipt_id}")
async def get_shop_receipt(request: Request, shop_id: str, receipt_id: str) -> dict[str, Any]:
    state = etsy_state(request)
    token = require_token(request, require_api_key(request), "transactions_r")
    shop = _owned_shop(state, shop_id, token.user_id)
    return _receipt_json(state, _receipt(state, shop, receipt_id))


async def _body(request: Request) -> dict[str, str]:
    """Form body per spec; JSON accepted as well (booleans arrive as JSON true/false)."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = await request.json()
        except ValueError as exc:
            raise bad_request("Request body is not valid JSON.") from exc
        if not isinstance(data, dict):
            raise bad_request("Request body must be a JSON object.")
        return {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in data.items() if v is not None}
    form = await request.form()
    return {k: str(v) for k, v in form.items()}


@router.post("/shops/{shop_id}/receipts/{receipt_id}/tracking")
async def create_receipt_shipment(request: Request, shop_id: str, receipt_id: str) -> dict[str, Any]:
    state = etsy_state(request)
    token = require_token(request, require_api_key(request), "transactions_w")
    shop = _owned_shop(state, shop_id, token.user_id)
    receipt = _receipt(state, shop, receipt_id)
    body = await _body(request)
    ship_receipt(state, receipt, body)
    return _receipt_json(state, receipt)
