"""`GET /order/checkout-forms` filtering, sorting and offset paging, independent of HTTP.

Filters and ranges are the spec's: `offset` ≥ 0 and `limit` 1-100 answer 422 when out of range,
illegal values (unknown status, unparsable date, unknown sort) answer 400. Without `sort` the
newest purchase comes first; `lineItems.boughtAt` means the form's latest line-item purchase.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from sandbox.allegro.errors import AllegroError, validation_error
from sandbox.allegro.state import CHECKOUT_FORM_STATUSES, FULFILLMENT_STATUSES, AllegroState, CheckoutForm

SORTS: dict[str, Callable[[CheckoutForm], tuple[float, str]]] = {
    "lineItems.boughtAt": lambda f: (f.bought_at, f.id),
    "updatedAt": lambda f: (f.updated_at, f.id),
}
ENUM_FILTERS: dict[str, tuple[tuple[str, ...], Callable[[CheckoutForm], str]]] = {
    "status": (CHECKOUT_FORM_STATUSES, lambda f: f.status),
    "fulfillment.status": (FULFILLMENT_STATUSES, lambda f: f.fulfillment_status),
    "fulfillment.provider.id": (("SELLER", "ALLEGRO"), lambda f: f.provider_id),
    "fulfillment.shipmentSummary.lineItemsSent": (("NONE", "SOME", "ALL"), lambda f: f.line_items_sent()),
}
# Compared in whole milliseconds: the precision Allegro renders, so a client echoing a rendered
# `updatedAt` back as `updatedAt.gte` gets that form again.
DATE_FILTERS: dict[str, Callable[[CheckoutForm], int]] = {
    "lineItems.boughtAt": lambda f: round(f.bought_at * 1000),
    "updatedAt": lambda f: round(f.updated_at * 1000),
}


def _int(params: Mapping[str, str], name: str, default: int, lo: int, hi: int | None) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise validation_error(f"{name} must be an integer, got '{raw}'", name) from None
    if value < lo or (hi is not None and value > hi):
        bound = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        raise AllegroError(422, "VALIDATION_ERROR", f"{name} must be {bound}", path=name)
    return value


def _instant_ms(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise validation_error(f"{name} must be an ISO 8601 date-time, got '{raw}'", name) from None
    if parsed.tzinfo is None:
        raise validation_error(f"{name} must carry a time zone, got '{raw}'", name)
    return round(parsed.timestamp() * 1000)


def query_checkout_forms(state: AllegroState, seller_id: str, params: Mapping[str, str]) -> tuple[int, list[CheckoutForm]]:
    """Return (totalCount, requested page) of the seller's checkout forms."""
    offset = _int(params, "offset", 0, 0, None)
    limit = _int(params, "limit", 100, 1, 100)
    sort = params.get("sort") or "-lineItems.boughtAt"
    if sort.lstrip("-") not in SORTS:
        raise validation_error(f"Unsupported sort: '{sort}'", "sort")

    forms = [f for f in state.checkout_forms.values() if f.seller_id == seller_id]
    for name, (allowed, value_of) in ENUM_FILTERS.items():
        wanted = params.get(name)
        if wanted:
            if wanted not in allowed:
                raise validation_error(f"Illegal value of {name}: '{wanted}'", name)
            forms = [f for f in forms if value_of(f) == wanted]
    for name, instant_of in DATE_FILTERS.items():
        gte, lte = _instant_ms(params, f"{name}.gte"), _instant_ms(params, f"{name}.lte")
        if gte is not None:
            forms = [f for f in forms if instant_of(f) >= gte]
        if lte is not None:
            forms = [f for f in forms if instant_of(f) <= lte]
    if params.get("payment.id"):
        forms = [f for f in forms if f.payment is not None and f.payment.id == params["payment.id"]]
    if params.get("surcharges.id"):
        forms = [f for f in forms if any(s.id == params["surcharges.id"] for s in f.surcharges)]
    if params.get("delivery.method.id"):
        forms = [f for f in forms if ((f.delivery or {}).get("method") or {}).get("id") == params["delivery.method.id"]]
    if params.get("buyer.login"):
        forms = [f for f in forms if f.buyer.get("login") == params["buyer.login"]]
    if params.get("marketplace.id"):
        forms = [f for f in forms if f.marketplace_id == params["marketplace.id"]]

    forms.sort(key=SORTS[sort.lstrip("-")], reverse=sort.startswith("-"))
    return len(forms), forms[offset : offset + limit]
