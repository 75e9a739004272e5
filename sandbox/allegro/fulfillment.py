"""The seller's side of an order: tracking numbers (shipments) and the seller status.

Rules from the spec and the fact sheet: carrier ids come from `/order/carriers`; `waybill` is
1-64 characters; `carrierName` (≤30) is read only for carrier `OTHER`, where the sandbox requires
it; line items must belong to the order (422) and an empty list means the whole order; a waybill
already used on `waybill_max_orders` other orders answers 409. The seller may set any status
except `RETURNED` (422). Every visible change bumps the form's revision, and a status change is
written to the journal as FULFILLMENT_STATUS_CHANGED.
"""

from __future__ import annotations

import base64
from typing import Any

from sandbox.allegro import journal
from sandbox.allegro.errors import AllegroError, validation_error
from sandbox.allegro.state import FULFILLMENT_STATUSES, AllegroState, CheckoutForm, FulfillmentChange, Shipment

WAYBILL_MAX = 64
CARRIER_NAME_MAX = 30
AUTO_SENT_FROM = ("NEW", "PROCESSING", "READY_FOR_SHIPMENT")


def _unprocessable(message: str, path: str) -> AllegroError:
    return AllegroError(422, "VALIDATION_ERROR", message, path=path)


def add_shipment(state: AllegroState, form: CheckoutForm, body: Any, source: str = "api") -> Shipment:
    """Validate a `CheckoutFormAddWaybillRequest` and attach the tracking number to the order."""
    if not isinstance(body, dict):
        raise validation_error("Request body must be a JSON object")
    carrier_id = body.get("carrierId")
    waybill = body.get("waybill")
    if not isinstance(carrier_id, str) or not carrier_id:
        raise validation_error("carrierId is required", "carrierId")
    if carrier_id not in {c["id"] for c in state.settings.carriers}:
        raise validation_error(f"Unknown carrier id: {carrier_id}", "carrierId")
    if not isinstance(waybill, str) or not waybill.strip():
        raise validation_error("waybill cannot be empty", "waybill")
    if len(waybill) > WAYBILL_MAX:
        raise validation_error(f"waybill must be no longer than {WAYBILL_MAX} characters", "waybill")
    carrier_name = None
    if carrier_id == "OTHER":
        carrier_name = body.get("carrierName")
        if not isinstance(carrier_name, str) or not carrier_name.strip():
            raise validation_error("carrierName is required when carrierId is OTHER", "carrierName")
        if len(carrier_name) > CARRIER_NAME_MAX:
            raise validation_error(f"carrierName must be no longer than {CARRIER_NAME_MAX} characters", "carrierName")

    raw_items = body.get("lineItems") or []
    if not isinstance(raw_items, list) or not all(isinstance(i, dict) and isinstance(i.get("id"), str) for i in raw_items):
        raise validation_error("lineItems must be a list of {id}", "lineItems")
    own = [item.id for item in form.line_items]
    foreign = [i["id"] for i in raw_items if i["id"] not in own]
    if foreign:
        raise _unprocessable(f"Line items do not belong to order {form.id}: {', '.join(foreign)}", "lineItems")
    item_ids = list(dict.fromkeys(i["id"] for i in raw_items)) or own

    other_orders = {s.checkout_form_id for s in state.shipments if s.waybill == waybill and s.carrier_id == carrier_id}
    other_orders.discard(form.id)
    if len(other_orders) >= state.settings.waybill_max_orders:
        raise AllegroError(409, "WAYBILL_USAGE_EXCEEDED", f"Waybill {waybill} is already used in too many orders", "waybill")

    sequence = state.next_id("shipment")
    shipment = Shipment(
        id=base64.b64encode(f"{carrier_id}:{waybill}:{sequence}".encode()).decode("ascii"),
        checkout_form_id=form.id,
        seller_id=form.seller_id,
        waybill=waybill,
        carrier_id=carrier_id,
        carrier_name=carrier_name,
        line_item_ids=item_ids,
        created_at=state.now(),
        source=source,
    )
    sent_before = form.line_items_sent()
    form.shipments.append(shipment)
    state.shipments.append(shipment)
    if form.line_items_sent() != sent_before:
        state.bump(form)
    if state.settings.auto_sent_on_tracking and form.fulfillment_status in AUTO_SENT_FROM:
        set_status(state, form, "SENT", source="auto")
    return shipment


def set_status(state: AllegroState, form: CheckoutForm, status: Any, source: str = "api") -> bool:
    """Apply a seller status; returns False when it was already the current one (no new revision)."""
    if status not in FULFILLMENT_STATUSES:
        raise _unprocessable(f"Unrecognized fulfillment status: {status!r}", "status")
    if status == "RETURNED" and source == "api":
        raise _unprocessable("Status RETURNED cannot be set by the seller", "status")
    if status == form.fulfillment_status:
        return False
    previous = form.fulfillment_status
    form.fulfillment_status = status
    state.bump(form)
    state.fulfillment_changes.append(FulfillmentChange(form.id, previous, status, form.revision, state.now(), source))
    journal.emit(state, form, "FULFILLMENT_STATUS_CHANGED")
    return True
