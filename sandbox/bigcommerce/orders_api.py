"""Orders V2 endpoints ChannelBridge calls, under `/stores/{store_hash}/v2`.

Collections are bare JSON arrays; an empty page is `204 No Content` with no body (V2 behaviour
the spec only documents for shipments, seen on every V2 list in production). Path ids that are
not numbers answer 404 like any unknown resource.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sandbox.bigcommerce import orders, payloads
from sandbox.bigcommerce.auth import authorize, bc_state
from sandbox.bigcommerce.errors import v2_bad_request, v2_not_found
from sandbox.bigcommerce.order_statuses import ORDER_STATUSES
from sandbox.bigcommerce.scopes import ORDERS_MODIFY, ORDERS_READ
from sandbox.bigcommerce.state import BigCommerceState, Order

router = APIRouter(prefix="/stores/{store_hash}/v2")


def origin(request: Request) -> str:
    return bc_state(request).settings.public_origin or str(request.base_url).rstrip("/")


def collection(items: list[Any]) -> Response:
    return JSONResponse(items) if items else Response(status_code=204)


def _order(state: BigCommerceState, store_hash: str, raw_id: str) -> Order:
    order = state.orders.get(int(raw_id)) if raw_id.isdigit() else None
    if order is None or order.store_hash != store_hash:
        raise v2_not_found()
    return order


async def _json_body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise v2_bad_request("The request body is not valid JSON.") from None


@router.get("/orders")
async def get_orders(request: Request, store_hash: str) -> Response:
    store, _ = authorize(request, store_hash, ORDERS_READ)
    state = bc_state(request)
    found = orders.query_orders(state, store_hash, request.query_params)
    include = orders.includes(request.query_params)
    return collection([payloads.order_payload(o, store, state.settings, origin(request), include) for o in found])


@router.get("/orders/{order_id}")
async def get_order(request: Request, store_hash: str, order_id: str) -> dict[str, Any]:
    store, _ = authorize(request, store_hash, ORDERS_READ)
    state = bc_state(request)
    include = orders.includes(request.query_params)
    return payloads.order_payload(_order(state, store_hash, order_id), store, state.settings, origin(request), include)


@router.put("/orders/{order_id}")
async def update_order(request: Request, store_hash: str, order_id: str) -> dict[str, Any]:
    store, _ = authorize(request, store_hash, ORDERS_MODIFY)
    state = bc_state(request)
    order = _order(state, store_hash, order_id)
    orders.apply_order_update(state, store, order, await _json_body(request))
    return payloads.order_payload(order, store, state.settings, origin(request))


@router.get("/orders/{order_id}/products")
async def get_order_products(request: Request, store_hash: str, order_id: str) -> Response:
    authorize(request, store_hash, ORDERS_READ)
    state = bc_state(request)
    order = _order(state, store_hash, order_id)
    page = orders.paginate(order.products, request.query_params, state.settings.orders_max_limit)
    return collection([payloads.order_product_payload(p) for p in page])


@router.get("/orders/{order_id}/shipping_addresses")
@router.get("/orders/{order_id}/shippingaddresses")
async def get_order_shipping_addresses(request: Request, store_hash: str, order_id: str) -> Response:
    authorize(request, store_hash, ORDERS_READ)
    state = bc_state(request)
    order = _order(state, store_hash, order_id)
    page = orders.paginate(order.shipping_addresses, request.query_params, state.settings.orders_max_limit)
    return collection([payloads.shipping_address_payload(a, order, origin(request)) for a in page])


@router.get("/orders/{order_id}/shipments")
async def get_order_shipments(request: Request, store_hash: str, order_id: str) -> Response:
    authorize(request, store_hash, ORDERS_READ)
    state = bc_state(request)
    order = _order(state, store_hash, order_id)
    mine = [s for s in state.shipments if s.store_hash == store_hash and s.order_id == order.id]
    page = orders.paginate(mine, request.query_params, state.settings.orders_max_limit)
    return collection([payloads.shipment_payload(s) for s in page])


@router.post("/orders/{order_id}/shipments", status_code=201)
async def create_order_shipment(request: Request, store_hash: str, order_id: str) -> dict[str, Any]:
    store, account = authorize(request, store_hash, ORDERS_MODIFY)
    state = bc_state(request)
    order = _order(state, store_hash, order_id)
    shipment = orders.create_shipment(state, store, order, await _json_body(request), account.client_id)
    return payloads.shipment_payload(shipment)


@router.get("/order_statuses")
async def get_order_statuses(request: Request, store_hash: str) -> list[dict[str, Any]]:
    authorize(request, store_hash, ORDERS_READ)
    settings = bc_state(request).settings
    return [payloads.order_status_payload(settings, status_id) for status_id in ORDER_STATUSES]


@router.get("/order_statuses/{status_id}")
async def get_order_status(request: Request, store_hash: str, status_id: str) -> dict[str, Any]:
    authorize(request, store_hash, ORDERS_READ)
    if not status_id.isdigit() or int(status_id) not in ORDER_STATUSES:
        raise v2_not_found()
    return payloads.order_status_payload(bc_state(request).settings, int(status_id))
