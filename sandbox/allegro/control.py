"""Control API (`/_sandbox/allegro/...`): arrange the world, inject faults, read back effects.

Not part of Allegro. Creating an order walks it through the same steps a real purchase takes
(BOUGHT → FILLED_IN → READY_FOR_PROCESSING, or a cancellation before/after payment), so the
journal holds exactly the events Allegro would have written. Errors use Allegro's ErrorsHolder.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request

from sandbox.allegro import fulfillment, journal, lifecycle, payloads, tokens
from sandbox.allegro.auth import allegro_state
from sandbox.allegro.control_models import (
    AppIn,
    CancelIn,
    CheckoutFormIn,
    ClockIn,
    EventsIn,
    FaultIn,
    FulfillmentIn,
    ModifyIn,
    PayIn,
    SettingsIn,
    TokenIn,
    UserIn,
)
from sandbox.allegro.errors import AllegroError, not_found, validation_error
from sandbox.allegro.state import AllegroState, App, CheckoutForm, Fault, LineItem, User, iso
from sandbox.control_common import fault_and_log_routes

router = APIRouter(prefix="/_sandbox/allegro")

FAULT_DEFAULT_PREFIX = {
    "rate_limit": "/order",
    "server_error": "/order",
    "slow": "/order",
    "token_server_error": "/auth/oauth/token",
    "stale_revision": "/order/checkout-forms",
    "offer_conflict": "/sale/product-offers",
}


def _form_or_404(state: AllegroState, form_id: str) -> CheckoutForm:
    form = state.checkout_forms.get(form_id)
    if form is None:
        raise not_found(f"no checkout form {form_id}")
    return form


def _timestamp(raw: str | None, default: float) -> float:
    if raw is None:
        return default
    try:
        return round(datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp(), 3)
    except ValueError:
        raise validation_error(f"not an ISO 8601 date-time: {raw!r}", "boughtAt") from None


def _user_json(user: User) -> dict[str, Any]:
    return payloads.me_payload(user)


# -- world ------------------------------------------------------------------------------------
@router.post("/reset")
async def reset(request: Request) -> dict[str, Any]:
    allegro_state(request).reset()
    return {"ok": True}


@router.get("/settings")
async def get_settings(request: Request) -> dict[str, Any]:
    return dict(vars(allegro_state(request).settings))


@router.put("/settings")
async def put_settings(request: Request, body: SettingsIn) -> dict[str, Any]:
    state = allegro_state(request)
    for key, value in body.model_dump(exclude_unset=True).items():
        setattr(state.settings, key, value)
    return dict(vars(state.settings))


@router.post("/clock")
async def advance_clock(request: Request, body: ClockIn) -> dict[str, Any]:
    """Move the emulator's clock (tokens, grace window, retention, rate window) without sleeping."""
    state = allegro_state(request)
    state.clock_offset_s += body.advance_s
    return {"now": iso(state.now()), "offset_s": state.clock_offset_s}


@router.post("/apps", status_code=201)
async def create_app_credentials(request: Request, body: AppIn) -> dict[str, Any]:
    state = allegro_state(request)
    n = len(state.apps) + 1
    app = App(
        client_id=body.client_id or f"sandbox-allegro-client-id-{n}",
        client_secret=body.client_secret or f"sandbox-allegro-client-secret-{n}",
        redirect_uris=body.redirect_uris,
    )
    if body.scopes is not None:
        app.scopes = body.scopes
    state.apps[app.client_id] = app
    return dict(vars(app))


@router.post("/users", status_code=201)
async def create_user(request: Request, body: UserIn) -> dict[str, Any]:
    """A seller account (what `/me` returns and what OAuth approves as)."""
    state = allegro_state(request)
    user_id = body.id or str(state.next_id("user"))
    if user_id in state.users:
        raise AllegroError(409, "CONFLICT", f"user {user_id} exists")
    user = User(
        id=user_id,
        login=body.login or f"Sprzedawca_{user_id}",
        email=body.email or f"seller-{user_id}@allegromail.pl",
        first_name=body.firstName,
        last_name=body.lastName,
        company_name=body.companyName,
        tax_id=body.taxId,
        base_marketplace=body.baseMarketplace,
        features=body.features,
    )
    state.users[user.id] = user
    return _user_json(user)


@router.get("/users")
async def list_users(request: Request) -> dict[str, Any]:
    return {"users": [_user_json(u) for u in allegro_state(request).users.values()]}


@router.post("/tokens", status_code=201)
async def mint_tokens(request: Request, body: TokenIn) -> dict[str, Any]:
    """Skip the browser dance: a token pair for a user, as the token endpoint would issue it."""
    state = allegro_state(request)
    if body.user_id not in state.users:
        raise not_found(f"no user {body.user_id}")
    app = state.apps.get(body.client_id or next(iter(state.apps)))
    if app is None:
        raise not_found(f"no app {body.client_id}")
    access, refresh = tokens.issue_pair(state, body.user_id, app.client_id, body.scopes or list(app.scopes))
    return tokens.token_response(state, access, refresh)


# -- orders -----------------------------------------------------------------------------------
def _build_form(state: AllegroState, seller_id: str, body: CheckoutFormIn, form_id: str) -> CheckoutForm:
    now = state.now()
    buyer_id = body.buyer.id or str(state.next_id("user"))
    login = body.buyer.login or f"Klient_{buyer_id}"
    buyer: dict[str, Any] = {
        "id": buyer_id,
        "email": body.buyer.email or f"{login.lower()}+{uuid.uuid4().hex[:10]}@allegromail.pl",
        "login": login,
        **body.buyer.model_dump(by_alias=True, exclude_none=True, exclude={"id", "email", "login", "language"}),
        "preferences": {"language": body.buyer.language},
    }
    items = []
    for item in body.lineItems:
        price = Decimal(item.price)
        items.append(
            LineItem(
                id=str(uuid.uuid4()),
                offer_id=item.offer.id or str(state.next_id("user") * 300),
                offer_name=item.offer.name,
                external_id=item.offer.external.id if item.offer.external else None,
                quantity=item.quantity,
                price=price,
                original_price=Decimal(item.originalPrice) if item.originalPrice else price,
                bought_at=_timestamp(item.boughtAt, now),
            )
        )
    delivery = None
    if body.delivery is not None:
        delivery = body.delivery.shaped()
        delivery["cost"] = {"amount": body.delivery.cost, "currency": body.currency}
    return CheckoutForm(
        id=form_id,
        seller_id=seller_id,
        buyer=buyer,
        status="BOUGHT",
        fulfillment_status="NEW",
        currency=body.currency,
        line_items=items,
        revision=uuid.uuid4().hex[:8],
        updated_at=now,
        marketplace_id=body.marketplaceId,
        delivery=delivery,
        invoice=body.invoice.shaped() if body.invoice is not None else None,
        payment_type=body.payment.type,
        payment_provider=body.payment.provider,
        message_to_seller=body.messageToSeller,
        note=body.note,
    )


def _walk_to_status(state: AllegroState, form: CheckoutForm, body: CheckoutFormIn) -> None:
    """Replay a purchase: the same transitions (and events) a buyer's actions would produce."""
    journal.emit(state, form, "BOUGHT")
    cancellation = body.cancellation
    if body.status == "CANCELLED" and cancellation is None:
        raise validation_error("status CANCELLED needs a cancellation {type, afterPayment}", "cancellation")
    if body.status != "CANCELLED" and cancellation is not None:
        raise validation_error("cancellation is only allowed with status CANCELLED", "cancellation")
    if body.status in ("FILLED_IN", "READY_FOR_PROCESSING") or (cancellation and cancellation.afterPayment):
        lifecycle.fill_in(state, form)
    if body.status == "READY_FOR_PROCESSING" or (cancellation and cancellation.afterPayment):
        lifecycle.pay(state, form, extra_copies=body.duplicateReadyForProcessing)
    if body.fulfillmentStatus != "NEW":
        fulfillment.set_status(state, form, body.fulfillmentStatus, source="control")
    if cancellation is not None:
        if cancellation.type == "AUTO_CANCELLED" and cancellation.afterPayment:
            raise validation_error("Allegro auto-cancels only unpaid checkout forms", "cancellation.type")
        lifecycle.cancel(state, form, cancellation.type)


@router.post("/users/{seller_id}/checkout-forms", status_code=201)
async def create_checkout_forms(request: Request, seller_id: str, body: CheckoutFormIn) -> dict[str, Any]:
    """Create `count` orders for a seller in any state, with the journal events that led there."""
    state = allegro_state(request)
    if seller_id not in state.users:
        raise not_found(f"no user {seller_id}")
    if body.id is not None and (body.count != 1 or body.id in state.checkout_forms):
        raise validation_error("an explicit id needs count=1 and must be unused", "id")
    made = []
    for _ in range(body.count):
        form = _build_form(state, seller_id, body, body.id or str(uuid.uuid4()))
        events_before = len(state.events)
        state.checkout_forms[form.id] = form
        try:
            _walk_to_status(state, form, body)
        except AllegroError:
            del state.checkout_forms[form.id]
            del state.events[events_before:]
            raise
        if not body.emitEvents:
            del state.events[events_before:]
        made.append(form)
    return {"ids": [f.id for f in made], "checkoutForms": [payloads.checkout_form_payload(f) for f in made]}


@router.get("/checkout-forms/{form_id}")
async def read_checkout_form(request: Request, form_id: str) -> dict[str, Any]:
    return payloads.checkout_form_payload(_form_or_404(allegro_state(request), form_id))


@router.post("/checkout-forms/{form_id}/fill-in")
async def fill_in(request: Request, form_id: str) -> dict[str, Any]:
    state = allegro_state(request)
    form = _form_or_404(state, form_id)
    lifecycle.fill_in(state, form)
    return payloads.checkout_form_payload(form)


@router.post("/checkout-forms/{form_id}/pay")
async def pay(request: Request, form_id: str, body: PayIn | None = None) -> dict[str, Any]:
    state = allegro_state(request)
    form = _form_or_404(state, form_id)
    lifecycle.pay(state, form, extra_copies=body.duplicateReadyForProcessing if body else 0)
    return payloads.checkout_form_payload(form)


@router.post("/checkout-forms/{form_id}/modify")
async def modify(request: Request, form_id: str, body: ModifyIn) -> dict[str, Any]:
    state = allegro_state(request)
    form = _form_or_404(state, form_id)
    changes: dict[str, Any] = {}
    # Only what the buyer changed: a new address must not reset the delivery method or cost.
    if body.delivery is not None:
        delivery = body.delivery.model_dump(by_alias=True, exclude_none=True, exclude_unset=True)
        if "cost" in delivery:
            delivery["cost"] = {"amount": body.delivery.cost, "currency": form.currency}
        changes["delivery"] = delivery
    if body.invoice is not None:
        changes["invoice"] = body.invoice.shaped()
    if body.buyer is not None:
        changes["buyer"] = body.buyer.model_dump(by_alias=True, exclude_none=True, exclude_unset=True, exclude={"id", "language"})
    for key in ("messageToSeller", "note"):
        if getattr(body, key) is not None:
            changes[key] = getattr(body, key)
    lifecycle.modify(state, form, changes, emit_event=body.emitEvent)
    return payloads.checkout_form_payload(form)


@router.post("/checkout-forms/{form_id}/cancel")
async def cancel(request: Request, form_id: str, body: CancelIn) -> dict[str, Any]:
    state = allegro_state(request)
    form = _form_or_404(state, form_id)
    lifecycle.cancel(state, form, body.type, force=body.force, fulfillment_status=body.fulfillmentStatus)
    return payloads.checkout_form_payload(form)


@router.put("/checkout-forms/{form_id}/fulfillment")
async def set_fulfillment(request: Request, form_id: str, body: FulfillmentIn) -> dict[str, Any]:
    """The seller (Sales Center) or Allegro changes the seller status; RETURNED allowed here."""
    state = allegro_state(request)
    form = _form_or_404(state, form_id)
    fulfillment.set_status(state, form, body.status, source="control")
    return payloads.checkout_form_payload(form)


@router.post("/checkout-forms/{form_id}/events", status_code=201)
async def emit_events(request: Request, form_id: str, body: EventsIn) -> dict[str, Any]:
    """Write extra journal events for the form's current revision (duplicates, replays)."""
    state = allegro_state(request)
    form = _form_or_404(state, form_id)
    events = journal.emit(state, form, body.type, copies=body.count)
    return {"events": [journal.event_payload(e) for e in events]}


@router.post("/checkout-forms/{form_id}/shipments", status_code=201)
async def add_external_shipment(request: Request, form_id: str) -> dict[str, Any]:
    """A tracking number added outside the API (Moje Allegro, the carrier); same body as the API."""
    state = allegro_state(request)
    form = _form_or_404(state, form_id)
    shipment = fulfillment.add_shipment(state, form, await request.json(), source="control")
    return payloads.shipment_payload(shipment)


@router.get("/events")
async def all_events(request: Request, seller_id: str | None = None) -> dict[str, Any]:
    """The raw journal, including events past retention (which `/order/events` no longer shows)."""
    events = [e for e in allegro_state(request).events if seller_id is None or e.seller_id == seller_id]
    return {"count": len(events), "events": [journal.event_payload(e) for e in events]}


@router.get("/shipments")
async def all_shipments(request: Request, checkout_form_id: str | None = None) -> dict[str, Any]:
    shipments = [s for s in allegro_state(request).shipments if checkout_form_id in (None, s.checkout_form_id)]
    return {
        "count": len(shipments),
        "shipments": [
            payloads.shipment_payload(s) | {"checkoutFormId": s.checkout_form_id, "source": s.source} for s in shipments
        ],
    }


@router.get("/fulfillment-changes")
async def fulfillment_changes(request: Request, checkout_form_id: str | None = None) -> dict[str, Any]:
    changes = [c for c in allegro_state(request).fulfillment_changes if checkout_form_id in (None, c.checkout_form_id)]
    return {
        "count": len(changes),
        "changes": [
            {
                "checkoutFormId": c.checkout_form_id,
                "previous": c.previous,
                "status": c.status,
                "revision": c.revision,
                "at": iso(c.at),
                "source": c.source,
            }
            for c in changes
        ],
    }


# -- faults and the request log ---------------------------------------------------------------
@router.post("/faults", status_code=201)
async def add_fault(request: Request, body: FaultIn) -> dict[str, Any]:
    """Queue a fault, or apply an immediate one (expire_tokens, revoke_grant)."""
    state = allegro_state(request)
    if body.kind == "expire_tokens":
        return {"kind": body.kind, "affected": state.expire_access_tokens()}
    if body.kind == "revoke_grant":
        if body.user_id is None:
            raise validation_error("revoke_grant needs user_id", "user_id")
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
        checkout_form_id=body.checkout_form_id,
    )
    state.faults.append(fault)
    return dict(vars(fault))


router.include_router(fault_and_log_routes(allegro_state, faults_key="faults", requests_key="requests"))
