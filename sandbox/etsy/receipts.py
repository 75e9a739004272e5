"""Receipt queries and the shipment state transition, independent of HTTP.

`query_receipts` implements getShopReceipts' filters, sort and offset paging with the spec's
parameter ranges; `ship_receipt` is createReceiptShipment's rule set (tracking pairs, carriers,
the US > $10 / India tracking requirement, 409 on cancelled receipts).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sandbox.etsy.errors import EtsyError, bad_request
from sandbox.etsy.state import EtsyState, Receipt, Shipment

MIN_TIMESTAMP = 946_684_800
SORT_KEYS = {
    "created": lambda r: (r.created, r.receipt_id),
    "updated": lambda r: (r.updated, r.receipt_id),
    "receipt_id": lambda r: (r.receipt_id,),
}
ASCENDING = {"asc", "ascending", "up"}
DESCENDING = {"desc", "descending", "down"}
_TRACKING_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-_.]{2,63}$")


def parse_int(params: Mapping[str, str], name: str, default: int | None, lo: int, hi: int | None = None) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"Expected int for parameter '{name}', got '{raw}'.") from None
    if value < lo or (hi is not None and value > hi):
        bound = f"between {lo} and {hi}" if hi is not None else f">= {lo}"
        raise bad_request(f"Parameter '{name}' must be {bound}, got {value}.")
    return value


def parse_bool(params: Mapping[str, str], name: str) -> bool | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    lowered = raw.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise bad_request(f"Expected boolean for parameter '{name}', got '{raw}'.")


def query_receipts(state: EtsyState, shop_id: int, params: Mapping[str, str]) -> tuple[int, list[Receipt]]:
    """Return (total matching, requested page) for getShopReceipts."""
    bounds = {
        name: parse_int(params, name, None, MIN_TIMESTAMP)
        for name in ("min_created", "max_created", "min_last_modified", "max_last_modified")
    }
    limit = parse_int(params, "limit", 25, 1, 100)
    offset = parse_int(params, "offset", 0, 0)
    sort_on = params.get("sort_on") or "created"
    if sort_on not in SORT_KEYS:
        raise bad_request(f"Parameter 'sort_on' must be one of created, updated, receipt_id, got '{sort_on}'.")
    sort_order = params.get("sort_order") or "desc"
    if sort_order not in ASCENDING | DESCENDING:
        raise bad_request(
            f"Parameter 'sort_order' must be one of asc, ascending, desc, descending, up, down, got '{sort_order}'."
        )
    flags = {name: parse_bool(params, name) for name in ("was_paid", "was_shipped", "was_delivered", "was_canceled")}

    def matches(r: Receipt) -> bool:
        checks = (
            (bounds["min_created"], lambda v: r.created >= v),
            (bounds["max_created"], lambda v: r.created <= v),
            (bounds["min_last_modified"], lambda v: r.updated >= v),
            (bounds["max_last_modified"], lambda v: r.updated <= v),
            (flags["was_paid"], lambda v: r.is_paid is v),
            (flags["was_shipped"], lambda v: r.is_shipped is v),
            (flags["was_delivered"], lambda v: r.is_delivered is v),
            (flags["was_canceled"], lambda v: (r.status == "canceled") is v),
        )
        return all(value is None or test(value) for value, test in checks)

    found = [r for r in state.receipts.values() if r.shop_id == shop_id and matches(r)]
    found.sort(key=SORT_KEYS[sort_on], reverse=sort_order in DESCENDING)
    assert limit is not None and offset is not None
    return len(found), found[offset : offset + limit]


def _normalise_carrier(name: str) -> str:
    return re.sub(r"[\s_]+", "-", name.strip().lower())


def _needs_tracking(receipt: Receipt) -> bool:
    if receipt.country_iso == "IN":
        return True
    return receipt.country_iso == "US" and receipt.currency_code == "USD" and receipt.grandtotal > 10 * 100


def ship_receipt(state: EtsyState, receipt: Receipt, body: Mapping[str, str]) -> Shipment | None:
    """Apply createReceiptShipment; returns the new shipment, or None for 'mark shipped only'."""
    tracking_code = (body.get("tracking_code") or "").strip()
    carrier_name = (body.get("carrier_name") or "").strip()
    send_bcc = parse_bool(body, "send_bcc") or False
    note = body.get("note_to_buyer") or None

    if receipt.status in ("canceled", "fully refunded"):
        raise EtsyError(409, f"Cannot submit tracking for a receipt with status '{receipt.status}'.")
    if tracking_code and not carrier_name:
        raise bad_request("Parameter 'carrier_name' is required when 'tracking_code' is given.")
    if carrier_name and not tracking_code:
        raise bad_request("Parameter 'tracking_code' is required when 'carrier_name' is given.")
    if not tracking_code and _needs_tracking(receipt):
        raise bad_request(
            "Parameters 'tracking_code' and 'carrier_name' are required for orders shipping within the "
            "United States over $10 or shipping to India."
        )
    if carrier_name:
        carriers = state.settings.carriers
        if carriers is not None and _normalise_carrier(carrier_name) not in {_normalise_carrier(c) for c in carriers}:
            raise bad_request(
                f"Parameter 'carrier_name' has an unsupported carrier '{carrier_name}'; use 'other' instead."
            )
        if not _TRACKING_RE.match(tracking_code):
            raise bad_request(f"Parameter 'tracking_code' is not a valid tracking code: '{tracking_code}'.")

    now = state.now_s()
    shipment = None
    if tracking_code:
        shipment = Shipment(
            receipt_shipping_id=state.next_id("shipment"),
            shop_id=receipt.shop_id,
            receipt_id=receipt.receipt_id,
            shipment_notification_timestamp=now,
            carrier_name=carrier_name,
            tracking_code=tracking_code,
            send_bcc=send_bcc,
            note_to_buyer=note,
        )
        receipt.shipments.append(shipment)
        state.shipments.append(shipment)
    receipt.is_shipped = True
    if receipt.status in ("paid", "open", "payment processing"):
        receipt.status = "completed"
    for tx in receipt.transactions:
        tx.shipped_timestamp = tx.shipped_timestamp or now
    state.bump(receipt)
    return shipment
