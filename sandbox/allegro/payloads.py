"""Render the emulator's records exactly as Allegro's JSON (field names and shapes from the spec).

Optional objects are omitted rather than sent as `null`: the spec marks almost nothing nullable,
and Allegro leaves out what a checkout form does not have yet (no `payment` before the buyer
chose one, no `pickupPoint` for courier deliveries, no `invoice.address` without an invoice).
"""

from __future__ import annotations

from typing import Any

from sandbox.allegro.state import CheckoutForm, LineItem, Payment, Shipment, User, iso, money


def line_item_payload(item: LineItem, currency: str) -> dict[str, Any]:
    offer: dict[str, Any] = {"id": item.offer_id, "name": item.offer_name}
    if item.external_id is not None:
        offer["external"] = {"id": item.external_id}
    return {
        "id": item.id,
        "offer": offer,
        "quantity": item.quantity,
        "originalPrice": money(item.original_price, currency),
        "price": money(item.price, currency),
        "boughtAt": iso(item.bought_at),
    }


def payment_payload(payment: Payment, currency: str) -> dict[str, Any]:
    body: dict[str, Any] = {"id": payment.id, "type": payment.type}
    if payment.provider is not None:
        body["provider"] = payment.provider
    if payment.finished_at is not None:
        body["finishedAt"] = iso(payment.finished_at)
    if payment.paid_amount is not None:
        body["paidAmount"] = money(payment.paid_amount, currency)
    return body


def checkout_form_payload(form: CheckoutForm) -> dict[str, Any]:
    """`CheckoutForm` as `GET /order/checkout-forms/{id}` returns it."""
    body: dict[str, Any] = {"id": form.id}
    if form.message_to_seller is not None:
        body["messageToSeller"] = form.message_to_seller
    body["buyer"] = form.buyer
    if form.payment is not None:
        body["payment"] = payment_payload(form.payment, form.currency)
    body["status"] = form.status
    body["fulfillment"] = {
        "status": form.fulfillment_status,
        "shipmentSummary": {"lineItemsSent": form.line_items_sent()},
        "provider": {"id": form.provider_id},
    }
    if form.delivery is not None:
        body["delivery"] = form.delivery
    body["invoice"] = form.invoice if form.invoice is not None else {"required": False}
    body["lineItems"] = [line_item_payload(item, form.currency) for item in form.line_items]
    body["surcharges"] = [payment_payload(s, form.currency) for s in form.surcharges]
    if form.note is not None:
        body["note"] = {"text": form.note}
    body["marketplace"] = {"id": form.marketplace_id}
    body["summary"] = {"totalToPay": money(form.total_to_pay, form.currency)}
    body["updatedAt"] = iso(form.updated_at)
    body["revision"] = form.revision
    return body


def event_order_payload(form: CheckoutForm) -> dict[str, Any]:
    """`OrderEventData`: the slice of the order an event carries, frozen when it happens."""
    buyer = {key: form.buyer[key] for key in ("id", "email", "login", "guest")}
    return {
        "seller": {"id": form.seller_id},
        "buyer": buyer,
        "lineItems": [line_item_payload(item, form.currency) for item in form.line_items],
        "checkoutForm": {"id": form.id, "revision": form.revision},
        "marketplace": {"id": form.marketplace_id},
    }


def shipment_payload(shipment: Shipment) -> dict[str, Any]:
    """`CheckoutFormAddWaybillCreated`; `carrierName` only exists for carrier `OTHER`."""
    body: dict[str, Any] = {"id": shipment.id, "waybill": shipment.waybill, "carrierId": shipment.carrier_id}
    if shipment.carrier_name is not None:
        body["carrierName"] = shipment.carrier_name
    body["lineItems"] = [{"id": item_id} for item_id in shipment.line_item_ids]
    body["createdAt"] = iso(shipment.created_at)
    return body


def me_payload(user: User) -> dict[str, Any]:
    body: dict[str, Any] = {"id": user.id, "login": user.login, "email": user.email}
    if user.first_name is not None:
        body["firstName"] = user.first_name
    if user.last_name is not None:
        body["lastName"] = user.last_name
    body["baseMarketplace"] = {"id": user.base_marketplace}
    body["company"] = {"name": user.company_name, "taxId": user.tax_id}
    body["features"] = list(user.features)
    return body
