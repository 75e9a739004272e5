"""What buyers and Allegro itself do to an order, driven by the control API.

The order's own status walks BOUGHT → FILLED_IN → READY_FOR_PROCESSING, each step a journal
event; cancellation ends in CANCELLED with BUYER_CANCELLED (the buyer, before or after paying)
or AUTO_CANCELLED (Allegro, only for unpaid forms). Buyers may cancel only while the seller has
not started (`PROCESSING`, `READY_FOR_SHIPMENT`, `SENT`) and no tracking number exists [issues
#3085]; sellers cannot cancel through the API at all, so there is no REST route for it.
"""

from __future__ import annotations

import uuid
from typing import Any

from sandbox.allegro import journal
from sandbox.allegro.errors import AllegroError
from sandbox.allegro.state import AllegroState, CheckoutForm, Payment

SELLER_STARTED = ("PROCESSING", "READY_FOR_SHIPMENT", "SENT")


def _conflict(message: str) -> AllegroError:
    return AllegroError(409, "ILLEGAL_STATE", message)


def fill_in(state: AllegroState, form: CheckoutForm) -> None:
    """The buyer completes the checkout form: payment method chosen, not paid yet."""
    if form.status != "BOUGHT":
        raise _conflict(f"checkout form {form.id} is {form.status}, not BOUGHT")
    form.payment = Payment(str(uuid.uuid4()), form.payment_type, form.payment_provider, None, None)
    form.status = "FILLED_IN"
    state.bump(form)
    journal.emit(state, form, "FILLED_IN")


def pay(state: AllegroState, form: CheckoutForm, extra_copies: int = 0) -> None:
    """Payment finished (or cash on delivery confirmed): READY_FOR_PROCESSING."""
    if form.status == "BOUGHT":
        fill_in(state, form)
    if form.status != "FILLED_IN":
        raise _conflict(f"checkout form {form.id} is {form.status}, not FILLED_IN")
    assert form.payment is not None
    if form.payment.type != "CASH_ON_DELIVERY":
        form.payment.finished_at = state.now()
        form.payment.paid_amount = form.total_to_pay
    form.status = "READY_FOR_PROCESSING"
    state.bump(form)
    journal.emit(state, form, "READY_FOR_PROCESSING", copies=1 + extra_copies)


def cancel(
    state: AllegroState, form: CheckoutForm, kind: str, force: bool = False, fulfillment_status: str | None = None
) -> None:
    """BUYER_CANCELLED or AUTO_CANCELLED; `force` skips the buyer-cancellation window rules."""
    if form.status == "CANCELLED":
        raise _conflict(f"checkout form {form.id} is already CANCELLED")
    if kind == "AUTO_CANCELLED" and form.status == "READY_FOR_PROCESSING" and not force:
        raise _conflict("Allegro cancels automatically only unpaid checkout forms")
    if kind == "BUYER_CANCELLED" and not force:
        if form.fulfillment_status in SELLER_STARTED:
            raise _conflict(f"buyer cannot cancel: seller status is {form.fulfillment_status}")
        if form.shipments:
            raise _conflict("buyer cannot cancel: a tracking number was already added")
    form.status = "CANCELLED"
    if fulfillment_status is not None:
        form.fulfillment_status = fulfillment_status
    state.bump(form)
    journal.emit(state, form, kind)


def modify(state: AllegroState, form: CheckoutForm, changes: dict[str, Any], emit_event: bool = True) -> None:
    """The buyer edits the form (address, invoice data, message): new revision + BUYER_MODIFIED."""
    for key, value in changes.items():
        if key == "delivery":
            form.delivery = {**(form.delivery or {}), **value}
        elif key == "invoice":
            form.invoice = value
        elif key == "buyer":
            form.buyer = {**form.buyer, **value}
        elif key == "messageToSeller":
            form.message_to_seller = value
        elif key == "note":
            form.note = value
    state.bump(form)
    if emit_event:
        journal.emit(state, form, "BUYER_MODIFIED")
