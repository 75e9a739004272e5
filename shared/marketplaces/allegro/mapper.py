"""Pure translation between Allegro REST API payloads and our canonical types. No I/O.

Checkout forms are read as the spec's `CheckoutForm` describes them. Allegro has two status axes:
`status` (the buyer's side: BOUGHT, FILLED_IN, READY_FOR_PROCESSING = paid, CANCELLED) and
`fulfillment.status` (the seller's side: NEW … SENT, PICKED_UP, CANCELLED, …); our state needs both.
Money is `{"amount": "123.45", "currency": "PLN"}` with the amount a decimal *string*. Variants are
separate offers on Allegro, so lines carry no variations; the SKU is the offer's `external.id`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.events.payloads import Address, Buyer, OrderLine
from shared.marketplaces.base import MarketplaceOrder, OrderPage, OrderState, RejectedOrder
from shared.marketplaces.fields import field_path, optional_str, required

# `CheckoutFormStatus`: the buyer's progress. Anything else cannot tell us whether the order is paid.
PAID_STATUS = "READY_FOR_PROCESSING"
UNPAID_STATUSES = frozenset({"BOUGHT", "FILLED_IN"})
CANCELLED_STATUS = "CANCELLED"
FORM_STATUSES = frozenset({*UNPAID_STATUSES, PAID_STATUS, CANCELLED_STATUS})

# `CheckoutFormFulfillmentStatus`: the seller's progress. RETURNED was shipped first; a status newer
# than our spec copy keeps the order live (shipping it twice is caught by the merchant, losing it is not).
SHIPPED_FULFILMENT = frozenset({"SENT", "PICKED_UP", "RETURNED"})
CANCELLED_FULFILMENT = "CANCELLED"

_CURRENCY = re.compile(r"[A-Za-z]{3}")


# --- checkout forms -----------------------------------------------------------------------------------


def checkout_form_to_order(form: Mapping[str, Any]) -> MarketplaceOrder:
    """Translate one `CheckoutForm`; raises ValueError naming the first field we cannot accept."""
    if not isinstance(form, Mapping):
        raise ValueError(f"checkout form must be an object, got {type(form).__name__}")
    form_id = _required_str(form, "id")
    status = _required_str(form, "status")
    fulfillment = _optional_object(form, "fulfillment")
    fulfillment_status = optional_str(fulfillment, "status", "fulfillment") if fulfillment else None
    lines_sent = None
    if fulfillment and fulfillment.get("shipmentSummary") is not None:
        summary_of_shipments = _optional_object(fulfillment, "shipmentSummary", "fulfillment")
        lines_sent = optional_str(summary_of_shipments or {}, "lineItemsSent", "fulfillment.shipmentSummary")
    state = order_state(status, fulfillment_status, lines_sent)

    summary = _required_object(form, "summary")
    total, currency = price(required(summary, "totalToPay", "summary"), "summary.totalToPay")
    buyer = _required_object(form, "buyer")
    buyer_email = optional_str(buyer, "email", "buyer")
    items = _required_list(form, "lineItems")
    if not items:
        raise ValueError("lineItems: a checkout form without line items has nothing to fulfil")
    lines = tuple(_order_line(item, f"lineItems[{i}]", currency) for i, item in enumerate(items))
    bought = [_timestamp(item.get("boughtAt"), f"lineItems[{i}].boughtAt") for i, item in enumerate(items)]
    placed_at = min((t for t in bought if t is not None), default=None)
    payment = _optional_object(form, "payment")
    paid_at = _timestamp(payment.get("finishedAt"), "payment.finishedAt") if payment else None
    updated_at = _timestamp(form.get("updatedAt"), "updatedAt") or placed_at
    if updated_at is None:
        raise ValueError("updatedAt is missing (and no lineItems[].boughtAt to fall back on)")

    shipping = shipping_address(form, buyer_email)
    billing = billing_address(form)
    return MarketplaceOrder(
        external_id=form_id,
        state=state,
        buyer=Buyer(
            name=_buyer_name(buyer),
            email=buyer_email,
            external_id=optional_str(buyer, "id", "buyer"),
        ),
        shipping_address=shipping,
        billing_address=billing or shipping.model_copy(),
        billing_copied_from_shipping=billing is None,
        lines=lines,
        total=total,
        currency=currency,
        placed_at=placed_at,
        paid_at=paid_at,
        updated_at=updated_at,
        marketplace_status=f"{status}/{fulfillment_status}" if fulfillment_status else status,
    )


def parse_checkout_forms(forms: Iterable[Any], *, cursor: str | None = None) -> OrderPage:
    """Translate a batch of checkout forms into one page; a bad form is rejected, never blocking."""
    orders: list[MarketplaceOrder] = []
    rejected: list[RejectedOrder] = []
    for index, form in enumerate(forms):
        try:
            orders.append(checkout_form_to_order(form))
        except (ValueError, TypeError, ArithmeticError) as exc:
            rejected.append(RejectedOrder(external_id=_id_for_rejection(form, index), reason=str(exc)))
    return OrderPage(orders=tuple(orders), rejected=tuple(rejected), cursor=cursor)


def order_state(status: str, fulfillment_status: str | None, line_items_sent: str | None = None) -> OrderState:
    """Both status axes → ours. Cancelled on either side wins; shipped needs the seller's SENT/PICKED_UP
    (or every line carrying a tracking number); an unknown buyer-side status is refused, not guessed."""
    if status not in FORM_STATUSES:
        raise ValueError(f"status: unknown checkout form status {status!r}")
    if status == CANCELLED_STATUS or fulfillment_status == CANCELLED_FULFILMENT:
        return "cancelled"
    if status in UNPAID_STATUSES:
        return "unpaid"
    if fulfillment_status in SHIPPED_FULFILMENT or line_items_sent == "ALL":
        return "shipped"
    return "paid"


def price(value: Any, field: str) -> tuple[Decimal, str]:
    """Allegro `Price` {amount: "123.45", currency: "PLN"} → (Decimal, ISO currency), exactly.

    The amount is a string in the spec; an integer is exact too, a float is refused (it is not)."""
    if not isinstance(value, Mapping):
        raise ValueError(f"{field} must be a Price object")
    raw = value.get("amount")
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise ValueError(f"{field}.amount must be a decimal string, got {raw!r}")
    try:
        amount = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ValueError(f"{field}.amount is not a decimal number: {raw!r}") from None
    if not amount.is_finite():
        raise ValueError(f"{field}.amount must be finite, got {raw!r}")
    currency = value.get("currency")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise ValueError(f"{field}.currency must be an ISO 4217 code, got {currency!r}")
    return amount, currency.upper()


def shipping_address(form: Mapping[str, Any], buyer_email: str | None = None) -> Address:
    """`delivery.address`, moved to the pickup point when the buyer chose one.

    For pickup-point deliveries the recipient (name, phone) stays from `delivery.address` while the
    street, city and postcode are the point's, `line2` names the point and `pickup_point_id` is the id
    a carrier label needs. Digital deliveries may have no address: the buyer's own is the best we have.
    """
    delivery = _optional_object(form, "delivery") or {}
    recipient = _optional_object(delivery, "address", "delivery")
    if recipient is not None:
        where = "delivery.address"
        address = Address(
            name=_person_name(recipient, where),
            company=optional_str(recipient, "companyName", where),
            line1=optional_str(recipient, "street", where),
            city=optional_str(recipient, "city", where),
            postal_code=optional_str(recipient, "zipCode", where),
            country_code=_country(recipient, where),
            phone=optional_str(recipient, "phoneNumber", where),
            email=buyer_email,
        )
    else:
        buyer = _required_object(form, "buyer")
        home = _optional_object(buyer, "address", "buyer") or {}
        address = Address(
            name=_person_name(buyer, "buyer"),
            company=optional_str(buyer, "companyName", "buyer"),
            line1=optional_str(home, "street", "buyer.address"),
            city=optional_str(home, "city", "buyer.address"),
            postal_code=optional_str(home, "postCode", "buyer.address"),
            country_code=_country(home, "buyer.address"),
            phone=optional_str(buyer, "phoneNumber", "buyer"),
            email=buyer_email,
        )
    point = _optional_object(delivery, "pickupPoint", "delivery")
    if point is None:
        return address
    point_id = _required_str(point, "id", "delivery.pickupPoint")
    point_address = _optional_object(point, "address", "delivery.pickupPoint") or {}
    where = "delivery.pickupPoint.address"
    moved: dict[str, Any] = {"pickup_point_id": point_id, "line2": optional_str(point, "name", "delivery.pickupPoint")}
    if point_address:
        moved |= {
            "line1": optional_str(point_address, "street", where),
            "city": optional_str(point_address, "city", where),
            "postal_code": optional_str(point_address, "zipCode", where),
            "country_code": _country(point_address, where) or address.country_code,
        }
    return address.model_copy(update=moved)


def billing_address(form: Mapping[str, Any]) -> Address | None:
    """`invoice.address` when the buyer asked for an invoice (company or natural person), else None."""
    invoice = _optional_object(form, "invoice")
    address = _optional_object(invoice, "address", "invoice") if invoice else None
    if address is None:
        return None
    where = "invoice.address"
    company = _optional_object(address, "company", where)
    person = _optional_object(address, "naturalPerson", where)
    return Address(
        name=_person_name(person, f"{where}.naturalPerson") if person else None,
        company=optional_str(company, "name", f"{where}.company") if company else None,
        line1=optional_str(address, "street", where),
        city=optional_str(address, "city", where),
        postal_code=optional_str(address, "zipCode", where),
        country_code=_country(address, where),
    )


def _order_line(item: Any, path: str, currency: str) -> OrderLine:
    if not isinstance(item, Mapping):
        raise ValueError(f"{path} must be an object")
    line_id = _required_str(item, "id", path)
    offer = _required_object(item, "offer", path)
    quantity = _whole_number(required(item, "quantity", path), f"{path}.quantity")
    if quantity < 1:
        raise ValueError(f"{path}.quantity must be at least 1, got {quantity}")
    unit_price, price_currency = price(required(item, "price", path), f"{path}.price")
    if price_currency != currency:
        raise ValueError(f"{path}.price.currency {price_currency} differs from summary.totalToPay's {currency}")
    external = _optional_object(offer, "external", f"{path}.offer")
    offer_id = optional_str(offer, "id", f"{path}.offer")
    return OrderLine(
        external_id=line_id,
        title=optional_str(offer, "name", f"{path}.offer") or f"Allegro offer {offer_id or line_id}",
        sku=optional_str(external, "id", f"{path}.offer.external") if external else None,
        quantity=quantity,
        unit_price=unit_price,
    )


# --- the order event journal --------------------------------------------------------------------------


def checkout_form_ids(events: Sequence[Any]) -> tuple[list[str], list[RejectedOrder]]:
    """The distinct checkout forms a batch of `OrderEvent`s touches, in order of first mention.

    Allegro repeats READY_FOR_PROCESSING and one form changes several times (revisions) within a batch;
    the client reads each form once, at its current revision, so one form yields one order per batch.
    An event without `order.checkoutForm.id` is reported, not dropped silently.
    """
    ids: dict[str, None] = {}
    rejected: list[RejectedOrder] = []
    for index, event in enumerate(events):
        event_id = event.get("id") if isinstance(event, Mapping) else None
        order = event.get("order") if isinstance(event, Mapping) else None
        form = order.get("checkoutForm") if isinstance(order, Mapping) else None
        form_id = form.get("id") if isinstance(form, Mapping) else None
        if isinstance(form_id, str) and form_id.strip():
            ids.setdefault(form_id.strip())
        else:
            label = f"event {event_id}" if event_id else f"events[{index}]"
            rejected.append(RejectedOrder(external_id=label, reason="order.checkoutForm.id is missing"))
    return list(ids), rejected


def earliest_event_time(events: Sequence[Any]) -> datetime | None:
    """When the batch's oldest event happened (`occurredAt`): every form it touches was updated since.
    Events without a readable time are skipped (their forms, if not found by time, are read by id)."""
    times = []
    for event in events:
        try:
            moment = _timestamp(event.get("occurredAt"), "occurredAt") if isinstance(event, Mapping) else None
        except ValueError:
            moment = None
        if moment is not None:
            times.append(moment)
    return min(times, default=None)


def last_event_id(events: Sequence[Any]) -> str:
    """The batch's checkpoint: the id of its last event (`from` is exclusive, so reading resumes after it)."""
    last = events[-1]
    event_id = last.get("id") if isinstance(last, Mapping) else None
    if not isinstance(event_id, str) or not event_id:
        raise ValueError(f"events[{len(events) - 1}].id is missing: cannot checkpoint the journal")
    return event_id


# --- shipments ----------------------------------------------------------------------------------------


def shipment_body(carrier_id: str, carrier_name: str | None, waybill: str, line_ids: Sequence[str]) -> dict[str, Any]:
    """The `CheckoutFormAddWaybillRequest`; no `lineItems` means the whole order.

    Allegro takes line-item ids only, no quantities: a parcel carries (some of) a line, never "2 of 3".
    """
    body: dict[str, Any] = {"carrierId": carrier_id, "waybill": waybill}
    if carrier_name:
        body["carrierName"] = carrier_name
    if line_ids:
        body["lineItems"] = [{"id": line_id} for line_id in line_ids]
    return body


def recorded_shipment(shipments: Iterable[Any], waybill: str) -> Mapping[str, Any] | None:
    """The order's shipment already carrying `waybill` (an earlier try whose answer was lost), if any."""
    wanted = waybill.strip().casefold()
    for shipment in shipments:
        if isinstance(shipment, Mapping) and str(shipment.get("waybill") or "").strip().casefold() == wanted:
            return shipment
    return None


def sent_line_ids(shipments: Iterable[Any], all_line_ids: Iterable[str]) -> set[str]:
    """Line items that carry a tracking number; a shipment naming no line items covers the whole order."""
    everything = set(all_line_ids)
    sent: set[str] = set()
    for shipment in shipments:
        if not isinstance(shipment, Mapping):
            continue
        items = shipment.get("lineItems") or []
        ids = {str(item["id"]) for item in items if isinstance(item, Mapping) and item.get("id")}
        sent |= ids or everything
    return sent


def ordered_quantities(form: Mapping[str, Any]) -> dict[str, int]:
    """Line item id → quantity bought, for checking what a tracking push may cover."""
    quantities: dict[str, int] = {}
    for i, item in enumerate(_required_list(form, "lineItems")):
        if not isinstance(item, Mapping):
            raise ValueError(f"lineItems[{i}] must be an object")
        quantities[_required_str(item, "id", f"lineItems[{i}]")] = _whole_number(item.get("quantity"), f"lineItems[{i}].quantity")
    return quantities


# --- field readers: each error names the field (the common ones are in shared.marketplaces.fields) --------


def _required_str(obj: Mapping[str, Any], name: str, path: str = "") -> str:
    value = optional_str(obj, name, path)
    if value is None:
        raise ValueError(f"{field_path(path, name)} is missing")
    return value


def _required_object(obj: Mapping[str, Any], name: str, path: str = "") -> Mapping[str, Any]:
    value = _optional_object(obj, name, path)
    if value is None:
        raise ValueError(f"{field_path(path, name)} is missing")
    return value


def _optional_object(obj: Mapping[str, Any], name: str, path: str = "") -> Mapping[str, Any] | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValueError(f"{field_path(path, name)} must be an object, got {type(value).__name__}")
    return value


def _required_list(obj: Mapping[str, Any], name: str, path: str = "") -> list[Any]:
    value = required(obj, name, path)
    if not isinstance(value, list):
        raise ValueError(f"{field_path(path, name)} must be an array")
    return value


def _whole_number(value: Any, where: str) -> int:
    """The spec types quantities as `number` with format integer: 2 and 2.0 are fine, 2.5 is not."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where} must be a whole number, got {value!r}")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"{where} must be a whole number, got {value!r}")
    return int(value)


def _person_name(obj: Mapping[str, Any], path: str) -> str | None:
    parts = (optional_str(obj, "firstName", path), optional_str(obj, "lastName", path))
    return " ".join(p for p in parts if p) or None


def _buyer_name(buyer: Mapping[str, Any]) -> str | None:
    """The person's name, else the company's, else the Allegro login (always present): never blank."""
    return _person_name(buyer, "buyer") or optional_str(buyer, "companyName", "buyer") or optional_str(buyer, "login", "buyer")


def _country(obj: Mapping[str, Any], path: str) -> str | None:
    code = optional_str(obj, "countryCode", path)
    if code is not None and not re.fullmatch(r"[A-Za-z]{2}", code):
        raise ValueError(f"{field_path(path, 'countryCode')} must be an ISO 3166-1 alpha-2 code, got {code!r}")
    return code.upper() if code else None


def _timestamp(value: Any, where: str) -> datetime | None:
    """ISO-8601 date-times ("2026-03-01T10:15:30.123Z"); a zone-less one is read as UTC."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{where} must be an ISO-8601 date-time string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{where} is not an ISO-8601 date-time: {value!r}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _id_for_rejection(form: Any, index: int) -> str:
    if isinstance(form, Mapping) and isinstance(form.get("id"), str) and form["id"].strip():
        return form["id"].strip()
    return f"checkoutForms[{index}]"
