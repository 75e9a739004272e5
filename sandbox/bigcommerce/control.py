"""Control API (`/_sandbox/bigcommerce/...`): arrange the world, inject faults, read back effects.

Not part of BigCommerce. Bodies (control_schemas) are strict so a typo in a test fixture fails
loudly instead of silently building a different world. Changes made here fire the same
webhooks the merchant's actions would.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request

from sandbox.bigcommerce import orders, payloads, webhooks
from sandbox.bigcommerce.auth import bc_state
from sandbox.bigcommerce.control_schemas import (
    ApiAccountIn,
    ClockIn,
    FaultIn,
    OrderIn,
    SettingsIn,
    StatusIn,
    StoreIn,
    control_error,
)
from sandbox.bigcommerce.order_statuses import DEFAULT_PAYMENT_STATUS, PAYMENT_STATUS_BY_STATUS
from sandbox.bigcommerce.orders_api import origin
from sandbox.bigcommerce.seeding import build_order
from sandbox.bigcommerce.state import BigCommerceState, Fault, Order, Store
from sandbox.control_common import fault_and_log_routes

router = APIRouter(prefix="/_sandbox/bigcommerce")


def _store_or_404(state: BigCommerceState, store_hash: str) -> Store:
    store = state.stores.get(store_hash)
    if store is None:
        raise control_error(404, f"no store {store_hash}")
    return store


def _order_or_404(state: BigCommerceState, store_hash: str, order_id: int) -> Order:
    order = state.orders.get(order_id)
    if order is None or order.store_hash != store_hash:
        raise control_error(404, f"no order {order_id} in store {store_hash}")
    return order


@router.post("/reset")
async def reset(request: Request) -> dict[str, Any]:
    bc_state(request).reset()
    return {"ok": True}


@router.get("/settings")
async def get_settings(request: Request) -> dict[str, Any]:
    return dict(vars(bc_state(request).settings))


@router.put("/settings")
async def put_settings(request: Request, body: SettingsIn) -> dict[str, Any]:
    state = bc_state(request)
    for key, value in body.model_dump(exclude_unset=True).items():
        setattr(state.settings, key, value)
    return dict(vars(state.settings))


@router.post("/clock")
async def advance_clock(request: Request, body: ClockIn) -> dict[str, Any]:
    """Move the emulator's clock (order dates, webhook timestamps) without sleeping in tests."""
    state = bc_state(request)
    state.clock_offset_s += body.advance_s
    return {"now": state.now_s(), "offset_s": state.clock_offset_s}


def _store_summary(store: Store, base: str) -> dict[str, Any]:
    return {
        "store_hash": store.store_hash,
        "store_id": store.store_id,
        "name": store.name,
        "api_path": f"{base}/stores/{store.store_hash}/v3/",
    }


@router.post("/stores", status_code=201)
async def create_store(request: Request, body: StoreIn) -> dict[str, Any]:
    state = bc_state(request)
    store_hash = body.store_hash or state.new_store_hash()
    if store_hash in state.stores:
        raise control_error(409, f"store {store_hash} exists")
    fields = body.model_dump(exclude={"store_hash", "domain"})
    store = Store(
        store_hash=store_hash,
        store_id=state.next_id("store"),
        domain=body.domain or f"store-{store_hash}.mybigcommerce.com",
        order_email=body.admin_email,
        account_uuid=str(uuid.uuid4()),
        **fields,
    )
    state.stores[store_hash] = store
    return _store_summary(store, origin(request))


@router.get("/stores")
async def list_stores(request: Request) -> dict[str, Any]:
    state = bc_state(request)
    return {"results": [_store_summary(s, origin(request)) for s in state.stores.values()]}


@router.post("/stores/{store_hash}/api_accounts", status_code=201)
async def create_api_account(request: Request, store_hash: str, body: ApiAccountIn) -> dict[str, Any]:
    """A store-level API account; the answer holds everything the merchant pastes into ChannelBridge."""
    state = bc_state(request)
    account = state.issue_account(_store_or_404(state, store_hash), body.name, frozenset(body.scopes))
    return payloads.api_account_payload(account, origin(request))


@router.get("/stores/{store_hash}/api_accounts")
async def list_api_accounts(request: Request, store_hash: str) -> dict[str, Any]:
    state = bc_state(request)
    mine = [a for a in state.accounts.values() if a.store_hash == store_hash]
    return {"results": [payloads.api_account_payload(a, origin(request)) for a in mine]}


@router.delete("/stores/{store_hash}/api_accounts/{client_id}")
async def delete_api_account(request: Request, store_hash: str, client_id: str) -> dict[str, Any]:
    """The merchant deletes the account: its token answers 401 and its hooks disappear."""
    state = bc_state(request)
    account = state.account_by_client_id(store_hash, client_id)
    if account is None:
        raise control_error(404, f"no API account {client_id} in store {store_hash}")
    return {"deleted": client_id, "hooks_removed": state.delete_account(account)}


@router.post("/stores/{store_hash}/orders", status_code=201)
async def create_orders(request: Request, store_hash: str, body: OrderIn) -> dict[str, Any]:
    """Create `count` orders, created one second apart (oldest first); fires store/order/created."""
    state = bc_state(request)
    store = _store_or_404(state, store_hash)
    base = body.date_created if body.date_created is not None else state.now_s()
    made = []
    for i in range(body.count):
        created = base - (body.count - 1) + i
        modified = max(created, body.date_modified if body.date_modified is not None else created)
        order = build_order(state, store, body, created, modified)
        state.orders[order.id] = order
        made.append(order)
        if body.emit_webhooks:
            webhooks.emit(state, store, "store/order/created", {"type": "order", "id": order.id})
    return {
        "order_ids": [o.id for o in made],
        "orders": [_order_view(state, store, o, origin(request)) for o in made],
    }


def _order_view(state: BigCommerceState, store: Store, order: Order, base: str) -> dict[str, Any]:
    return {
        **payloads.order_payload(order, store, state.settings, base),
        "products": [payloads.order_product_payload(p) for p in order.products],
        "shipping_addresses": [payloads.shipping_address_payload(a, order, base) for a in order.shipping_addresses],
        "shipments": [payloads.shipment_payload(s) for s in state.shipments if s.order_id == order.id],
    }


@router.get("/stores/{store_hash}/orders/{order_id}")
async def read_order(request: Request, store_hash: str, order_id: int) -> dict[str, Any]:
    """The order with products, addresses and shipments embedded (one call for assertions)."""
    state = bc_state(request)
    store = _store_or_404(state, store_hash)
    return _order_view(state, store, _order_or_404(state, store_hash, order_id), origin(request))


@router.put("/stores/{store_hash}/orders/{order_id}/status")
async def change_order_status(request: Request, store_hash: str, order_id: int, body: StatusIn) -> dict[str, Any]:
    """A merchant/buyer action outside the API; bumps date_modified and fires statusUpdated."""
    state = bc_state(request)
    store = _store_or_404(state, store_hash)
    order = _order_or_404(state, store_hash, order_id)
    if body.status_id in PAYMENT_STATUS_BY_STATUS or order.payment_status in ("", "pending"):
        order.payment_status = PAYMENT_STATUS_BY_STATUS.get(body.status_id, DEFAULT_PAYMENT_STATUS)
    orders.set_status(state, store, order, body.status_id)
    return _order_view(state, store, order, origin(request))


@router.get("/stores/{store_hash}/shipments")
async def list_shipments(request: Request, store_hash: str) -> dict[str, Any]:
    state = bc_state(request)
    mine = [s for s in state.shipments if s.store_hash == store_hash]
    return {
        "count": len(mine),
        "results": [{**payloads.shipment_payload(s), "created_by_client_id": s.created_by_client_id} for s in mine],
    }


@router.get("/stores/{store_hash}/hooks")
async def list_all_hooks(request: Request, store_hash: str) -> dict[str, Any]:
    """Every account's hooks (the API only shows a token its own)."""
    state = bc_state(request)
    return {"results": [payloads.hook_payload(h) for h in state.hooks.values() if h.store_hash == store_hash]}


@router.get("/deliveries")
async def list_deliveries(
    request: Request, hook_id: int | None = None, scope: str | None = None, status: str | None = None
) -> dict[str, Any]:
    state = bc_state(request)
    found = [
        webhooks.delivery_payload(state, d)
        for d in state.deliveries.values()
        if (hook_id is None or d.hook_id == hook_id)
        and (scope is None or state.events[d.event_id].scope == scope)
        and (status is None or d.status == status)
    ]
    return {"count": len(found), "results": found}


@router.post("/deliveries/{delivery_id}/replay", status_code=201)
async def replay_delivery(request: Request, delivery_id: int) -> dict[str, Any]:
    """Send the same event (same body, hash and webhook-id) to the same hook again."""
    state = bc_state(request)
    original = state.deliveries.get(delivery_id)
    if original is None:
        raise control_error(404, f"no delivery {delivery_id}")
    hook = state.hooks.get(original.hook_id)
    if hook is None:
        raise control_error(409, f"hook {original.hook_id} no longer exists")
    replay = webhooks.start_delivery(state, hook, state.events[original.event_id], replay_of=delivery_id)
    return webhooks.delivery_payload(state, replay)


@router.post("/faults", status_code=201)
async def add_fault(request: Request, body: FaultIn) -> dict[str, Any]:
    """Queue a fault, or apply an immediate one (`revoke_token`: the account is deleted → 401)."""
    state = bc_state(request)
    if body.kind == "revoke_token":
        account = state.accounts.get(body.access_token or "")
        if account is None:
            raise control_error(404, "revoke_token needs the access_token of an existing API account")
        return {"kind": body.kind, "client_id": account.client_id, "hooks_removed": state.delete_account(account)}
    fault = Fault(
        fault_id=state.next_id("fault"),
        kind=body.kind,
        remaining=body.count,
        path_prefix=body.path_prefix,
        status=body.status or 500,
        reset_ms=body.reset_ms,
        with_quota_headers=body.with_quota_headers,
        delay_s=body.delay_s,
    )
    state.faults.append(fault)
    return dict(vars(fault))


router.include_router(fault_and_log_routes(bc_state))
