"""Control API (`/_sandbox/etsy/...`): arrange the world, inject faults, read back effects.

Not part of Etsy. Bodies are strict (unknown fields → 422) so a typo in a test fixture fails
loudly instead of silently creating a different world. Prices are decimal strings and are
stored in minor units, as Etsy's Money objects (divisor 100) report them.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from sandbox.control_common import fault_and_log_routes
from sandbox.etsy import payloads
from sandbox.etsy.auth import etsy_state
from sandbox.etsy.errors import EtsyError, bad_request, not_found
from sandbox.etsy.state import (
    RECEIPT_STATUSES,
    App,
    EtsyState,
    Fault,
    Receipt,
    Refund,
    Shipment,
    Shop,
    Transaction,
    User,
    Variation,
)

router = APIRouter(prefix="/_sandbox/etsy")

FAULT_DEFAULT_PREFIX = {
    "rate_limit": "/v3/application",
    "server_error": "/v3/application",
    "slow": "/v3/application",
    "token_server_error": "/v3/public/oauth/token",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def to_minor(value: str | int | float, field: str = "price") -> int:
    """'12.5' → 1250; rejects sub-cent precision instead of rounding it away."""
    try:
        minor = Decimal(str(value)) * 100
    except InvalidOperation:
        raise bad_request(f"{field} must be a decimal amount, got {value!r}") from None
    if minor != minor.to_integral_value():
        raise bad_request(f"{field} has more than 2 decimal places: {value!r}")
    return int(minor)


def _status(value: str | None) -> str | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered not in RECEIPT_STATUSES:
        raise ValueError(f"status must be one of {', '.join(RECEIPT_STATUSES)}")
    return lowered


class AppIn(_Strict):
    client_id: str | None = None
    secret: str | None = None
    redirect_uris: list[str] = Field(default_factory=list)


class ShopIn(_Strict):
    shop_name: str
    user_id: int | None = None
    email: str | None = None
    first_name: str | None = "Sandbox"
    last_name: str | None = "Seller"
    currency_code: str = "USD"
    country_iso: str | None = "US"
    title: str | None = None


class VariationIn(_Strict):
    formatted_name: str
    formatted_value: str
    property_id: int | None = None
    value_id: int | None = None


class TransactionIn(_Strict):
    title: str | None = "Sandbox item"
    description: str | None = None
    sku: str | None = None
    quantity: int = Field(1, ge=0)
    price: str = "10.00"
    shipping_cost: str = "0"
    listing_id: int | None = None
    product_id: int | None = None
    is_digital: bool = False
    variations: list[VariationIn] = Field(default_factory=list)


class ReceiptIn(_Strict):
    count: int = Field(1, ge=1, le=5000)
    buyer_user_id: int | None = None
    buyer_email: str | None = None
    name: str = "Sandbox Buyer"
    first_line: str | None = "1 Main Street"
    second_line: str | None = None
    city: str | None = "Springfield"
    state: str | None = "IL"
    zip: str | None = "62701"
    country_iso: str | None = "US"
    status: str | None = None
    is_paid: bool = True
    is_shipped: bool = False
    is_delivered: bool = False
    payment_method: str = "cc"
    payment_email: str | None = None
    message_from_buyer: str | None = None
    message_from_seller: str | None = None
    is_gift: bool = False
    gift_message: str = ""
    gift_sender: str = ""
    currency_code: str | None = None
    shipping_cost: str = "0"
    tax_cost: str = "0"
    vat_cost: str = "0"
    discount: str = "0"
    gift_wrap_price: str = "0"
    transactions: list[TransactionIn] = Field(default_factory=lambda: [TransactionIn()])
    create_timestamp: int | None = None
    update_timestamp: int | None = None

    @field_validator("status")
    @classmethod
    def _check_status(cls, value: str | None) -> str | None:
        return _status(value)


class RefundIn(_Strict):
    amount: str
    reason: str | None = None
    note_from_issuer: str | None = None


class ReceiptPatch(_Strict):
    status: str | None = None
    is_paid: bool | None = None
    is_shipped: bool | None = None
    is_delivered: bool | None = None
    buyer_email: str | None = None
    message_from_buyer: str | None = None
    message_from_seller: str | None = None
    add_refund: RefundIn | None = None
    update_timestamp: int | None = None

    @field_validator("status")
    @classmethod
    def _check_status(cls, value: str | None) -> str | None:
        return _status(value)


class FaultIn(_Strict):
    kind: Literal["rate_limit", "server_error", "slow", "token_server_error", "expire_tokens", "revoke_grant"]
    count: int = Field(1, ge=1)
    status: int | None = Field(None, ge=500, le=599)
    retry_after: int = Field(1, ge=0)
    delay_s: float = Field(1.0, ge=0, le=120)
    path_prefix: str | None = None
    user_id: int | None = None


class SettingsIn(_Strict):
    access_token_ttl_s: int | None = Field(None, ge=1)
    refresh_token_ttl_s: int | None = Field(None, ge=1)
    auth_code_ttl_s: int | None = Field(None, ge=1)
    rate_per_second: float | None = Field(None, gt=0)
    rate_per_day: int | None = Field(None, ge=1)
    approving_user_id: int | None = None
    deny_consent: bool | None = None
    require_shared_secret: bool | None = None
    carriers: list[str] | None = None
    require_processing_profile: bool | None = None


class TokenIn(_Strict):
    user_id: int
    client_id: str | None = None
    scopes: list[str] = Field(
        default_factory=lambda: ["shops_r", "transactions_r", "transactions_w", "listings_r", "listings_w"]
    )


class ClockIn(_Strict):
    advance_s: float


def _shop_or_404(state: EtsyState, shop_id: int) -> Shop:
    shop = state.shops.get(shop_id)
    if shop is None:
        raise not_found(f"no shop {shop_id}")
    return shop


def _receipt_or_404(state: EtsyState, shop_id: int, receipt_id: int) -> Receipt:
    receipt = state.receipts.get(receipt_id)
    if receipt is None or receipt.shop_id != shop_id:
        raise not_found(f"no receipt {receipt_id} in shop {shop_id}")
    return receipt


def _receipt_json(state: EtsyState, receipt: Receipt) -> dict[str, Any]:
    return payloads.receipt_payload(receipt, state.users[receipt.seller_user_id])


def _shipment_json(s: Shipment) -> dict[str, Any]:
    return {
        "shop_id": s.shop_id,
        "receipt_id": s.receipt_id,
        "receipt_shipping_id": s.receipt_shipping_id,
        "shipment_notification_timestamp": s.shipment_notification_timestamp,
        "carrier_name": s.carrier_name,
        "tracking_code": s.tracking_code,
        "send_bcc": s.send_bcc,
        "note_to_buyer": s.note_to_buyer,
    }


def _settings_json(state: EtsyState) -> dict[str, Any]:
    return dict(vars(state.settings))


@router.post("/reset")
async def reset(request: Request) -> dict[str, Any]:
    etsy_state(request).reset()
    return {"ok": True}


@router.get("/settings")
async def get_settings(request: Request) -> dict[str, Any]:
    return _settings_json(etsy_state(request))


@router.put("/settings")
async def put_settings(request: Request, body: SettingsIn) -> dict[str, Any]:
    state = etsy_state(request)
    for key, value in body.model_dump(exclude_unset=True).items():
        setattr(state.settings, key, value)
    return _settings_json(state)


@router.post("/clock")
async def advance_clock(request: Request, body: ClockIn) -> dict[str, Any]:
    """Move the emulator's clock (token expiry, timestamps) without sleeping in tests."""
    state = etsy_state(request)
    state.clock_offset_s += body.advance_s
    return {"now": state.now_s(), "offset_s": state.clock_offset_s}


@router.post("/apps", status_code=201)
async def create_app_credentials(request: Request, body: AppIn) -> dict[str, Any]:
    state = etsy_state(request)
    n = len(state.apps) + 1
    app = App(
        client_id=body.client_id or f"sandbox-etsy-keystring-{n}",
        secret=body.secret or f"sandbox-etsy-secret-{n}",
        redirect_uris=body.redirect_uris,
    )
    state.apps[app.client_id] = app
    return {"client_id": app.client_id, "secret": app.secret, "redirect_uris": app.redirect_uris}


@router.post("/shops", status_code=201)
async def create_shop(request: Request, body: ShopIn) -> dict[str, Any]:
    state = etsy_state(request)
    user_id = body.user_id or state.next_id("user")
    if user_id in state.users and state.shop_of_user(user_id) is not None:
        raise EtsyError(409, f"user {user_id} already owns a shop")
    state.users[user_id] = User(
        user_id=user_id,
        primary_email=body.email or f"seller{user_id}@sandbox.example",
        first_name=body.first_name,
        last_name=body.last_name,
        login_name=f"seller{user_id}",
    )
    now = state.now_s()
    shop = Shop(
        shop_id=state.next_id("shop"),
        user_id=user_id,
        shop_name=body.shop_name,
        currency_code=body.currency_code,
        country_iso=body.country_iso,
        title=body.title,
        created=now,
        updated=now,
    )
    state.shops[shop.shop_id] = shop
    return {"shop_id": shop.shop_id, "user_id": user_id, "shop_name": shop.shop_name}


@router.get("/shops")
async def list_shops(request: Request) -> dict[str, Any]:
    state = etsy_state(request)
    return {
        "results": [
            {"shop_id": s.shop_id, "user_id": s.user_id, "shop_name": s.shop_name} for s in state.shops.values()
        ]
    }


def _build_receipt(state: EtsyState, shop: Shop, body: ReceiptIn, created: int, updated: int) -> Receipt:
    currency = body.currency_code or shop.currency_code
    transactions = [
        Transaction(
            transaction_id=state.next_id("transaction"),
            title=t.title,
            description=t.description,
            sku=t.sku,
            quantity=t.quantity,
            price=to_minor(t.price),
            shipping_cost=to_minor(t.shipping_cost, "shipping_cost"),
            listing_id=t.listing_id if t.listing_id is not None else state.next_id("listing"),
            product_id=t.product_id,
            is_digital=t.is_digital,
            variations=[
                Variation(
                    property_id=v.property_id if v.property_id is not None else 513 + min(i, 1),
                    value_id=v.value_id,
                    formatted_name=v.formatted_name,
                    formatted_value=v.formatted_value,
                )
                for i, v in enumerate(t.variations)
            ],
            shipped_timestamp=created if body.is_shipped else None,
        )
        for t in body.transactions
    ]
    status = body.status or ("completed" if body.is_shipped else "paid" if body.is_paid else "open")
    buyer_user_id = body.buyer_user_id or state.next_id("user")
    return Receipt(
        receipt_id=state.next_id("receipt"),
        shop_id=shop.shop_id,
        seller_user_id=shop.user_id,
        buyer_user_id=buyer_user_id,
        buyer_email=body.buyer_email,
        name=body.name,
        first_line=body.first_line,
        second_line=body.second_line,
        city=body.city,
        state=body.state,
        zip=body.zip,
        country_iso=body.country_iso,
        status=status,
        payment_method=body.payment_method,
        payment_email=body.payment_email,
        message_from_seller=body.message_from_seller,
        message_from_buyer=body.message_from_buyer,
        is_paid=body.is_paid,
        is_shipped=body.is_shipped,
        is_delivered=body.is_delivered,
        is_gift=body.is_gift,
        gift_message=body.gift_message,
        gift_sender=body.gift_sender,
        currency_code=currency,
        total_shipping_cost=to_minor(body.shipping_cost, "shipping_cost") + sum(t.shipping_cost for t in transactions),
        total_tax_cost=to_minor(body.tax_cost, "tax_cost"),
        total_vat_cost=to_minor(body.vat_cost, "vat_cost"),
        discount_amt=to_minor(body.discount, "discount"),
        gift_wrap_price=to_minor(body.gift_wrap_price, "gift_wrap_price"),
        created=created,
        updated=updated,
        paid_timestamp=created if body.is_paid else None,
        transactions=transactions,
    )


@router.post("/shops/{shop_id}/receipts", status_code=201)
async def create_receipts(request: Request, shop_id: int, body: ReceiptIn) -> dict[str, Any]:
    """Create `count` receipts; created timestamps are one second apart, oldest first."""
    state = etsy_state(request)
    shop = _shop_or_404(state, shop_id)
    base = body.create_timestamp if body.create_timestamp is not None else state.now_s()
    made = []
    for i in range(body.count):
        created = base - (body.count - 1) + i
        updated = body.update_timestamp if body.update_timestamp is not None else created
        receipt = _build_receipt(state, shop, body, created, max(created, updated))
        state.receipts[receipt.receipt_id] = receipt
        made.append(receipt)
    return {"receipt_ids": [r.receipt_id for r in made], "results": [_receipt_json(state, r) for r in made]}


@router.get("/shops/{shop_id}/receipts/{receipt_id}")
async def read_receipt(request: Request, shop_id: int, receipt_id: int) -> dict[str, Any]:
    state = etsy_state(request)
    return _receipt_json(state, _receipt_or_404(state, shop_id, receipt_id))


@router.patch("/shops/{shop_id}/receipts/{receipt_id}")
async def patch_receipt(request: Request, shop_id: int, receipt_id: int, body: ReceiptPatch) -> dict[str, Any]:
    """Buyer/seller actions outside the API: cancel, pay, deliver, refund. Bumps update time."""
    state = etsy_state(request)
    receipt = _receipt_or_404(state, shop_id, receipt_id)
    changes = body.model_dump(exclude_unset=True, exclude={"add_refund", "update_timestamp"})
    for key, value in changes.items():
        setattr(receipt, key, value)
    if body.is_paid and receipt.paid_timestamp is None:
        receipt.paid_timestamp = state.now_s()
        if "status" not in changes and receipt.status in ("open", "payment processing"):
            receipt.status = "paid"
    if body.add_refund is not None:
        refund = Refund(
            amount=to_minor(body.add_refund.amount, "amount"),
            created_timestamp=state.now_s(),
            reason=body.add_refund.reason,
            note_from_issuer=body.add_refund.note_from_issuer,
            status="completed",
        )
        receipt.refunds.append(refund)
        refunded = sum(r.amount for r in receipt.refunds)
        receipt.status = "fully refunded" if refunded >= receipt.grandtotal else "partially refunded"
    if body.update_timestamp is not None:
        receipt.updated = body.update_timestamp
    else:
        state.bump(receipt)
    return _receipt_json(state, receipt)


@router.get("/shops/{shop_id}/receipts/{receipt_id}/shipments")
async def receipt_shipments(request: Request, shop_id: int, receipt_id: int) -> dict[str, Any]:
    state = etsy_state(request)
    receipt = _receipt_or_404(state, shop_id, receipt_id)
    return {"count": len(receipt.shipments), "results": [_shipment_json(s) for s in receipt.shipments]}


@router.get("/tracking")
async def all_tracking(request: Request) -> dict[str, Any]:
    state = etsy_state(request)
    return {"count": len(state.shipments), "results": [_shipment_json(s) for s in state.shipments]}


@router.post("/tokens", status_code=201)
async def mint_tokens(request: Request, body: TokenIn) -> dict[str, Any]:
    """Skip the browser dance: tokens for a user, as the token endpoint would issue them."""
    state = etsy_state(request)
    if body.user_id not in state.users:
        raise not_found(f"no user {body.user_id}")
    client_id = body.client_id or next(iter(state.apps))
    if client_id not in state.apps:
        raise not_found(f"no app {client_id}")
    access, refresh = state.issue_tokens(body.user_id, client_id, body.scopes)
    return {
        "access_token": access.token,
        "token_type": "Bearer",
        "expires_in": state.settings.access_token_ttl_s,
        "refresh_token": refresh.token,
    }


@router.post("/faults", status_code=201)
async def add_fault(request: Request, body: FaultIn) -> dict[str, Any]:
    """Queue a fault, or apply an immediate one (expire_tokens, revoke_grant)."""
    state = etsy_state(request)
    if body.kind == "expire_tokens":
        return {"kind": body.kind, "affected": state.expire_access_tokens()}
    if body.kind == "revoke_grant":
        if body.user_id is None:
            raise bad_request("revoke_grant needs user_id")
        return {"kind": body.kind, "affected": state.revoke_grant(body.user_id)}
    default_status = 503 if body.kind == "token_server_error" else 500
    fault = Fault(
        fault_id=state.next_id("fault"),
        kind=body.kind,
        remaining=body.count,
        path_prefix=body.path_prefix or FAULT_DEFAULT_PREFIX[body.kind],
        status=body.status or default_status,
        retry_after=body.retry_after,
        delay_s=body.delay_s,
    )
    state.faults.append(fault)
    return dict(vars(fault))


router.include_router(fault_and_log_routes(etsy_state))
