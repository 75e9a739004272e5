"""Pure translation between Etsy Open API v3 payloads and our canonical types. No I/O.

Receipts are read as the spec's `ShopReceipt` describes them. What Etsy leaves out is carried as
None rather than invented: `buyer_email` is null unless Etsy approved the app for it, address
lines may be null outside "preferred partner" regions, `sku` is null when the seller never set one.
Etsy has no billing address, so the shipping address is copied and the order says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from shared.events.payloads import Address, Buyer, OrderLine
from shared.marketplaces.base import MarketplaceOrder, OrderPage, OrderState, RejectedOrder
from shared.marketplaces.fields import integer, optional_str, positive_int, required

# Receipt statuses (spec `ShopReceipt.status`) that end the order without shipping it.
CANCELLED_STATUSES = frozenset({"canceled", "fully refunded"})
OTHER_CARRIER = "other"


# --- receipts -----------------------------------------------------------------------------------------


def receipt_to_order(receipt: Mapping[str, Any]) -> MarketplaceOrder:
    """Translate one `ShopReceipt`; raises ValueError naming the first field we cannot accept.

    The state comes from `status` only for cancellations; otherwise from `is_shipped`/`is_paid`, so
    a status value newer than our spec copy is kept in `marketplace_status` and never crashes us.
    """
    if not isinstance(receipt, Mapping):
        raise ValueError(f"receipt must be an object, got {type(receipt).__name__}")
    receipt_id = positive_int(receipt, "receipt_id")
    status = optional_str(receipt, "status") or ""
    total, currency = money(required(receipt, "grandtotal"), "grandtotal")
    address = _shipping_address(receipt)
    lines = tuple(_order_line(tx, f"transactions[{i}]", currency) for i, tx in enumerate(_list(receipt, "transactions")))
    if not lines:
        raise ValueError("transactions: a receipt without transactions has nothing to fulfil")
    placed_at = _first_timestamp(receipt, "created_timestamp", "create_timestamp")
    updated_at = _first_timestamp(receipt, "updated_timestamp", "update_timestamp") or placed_at
    if updated_at is None:
        raise ValueError("updated_timestamp is missing")
    paid_times = [
        _timestamp(tx.get("paid_timestamp"), f"transactions[{i}].paid_timestamp")
        for i, tx in enumerate(_list(receipt, "transactions"))
    ]
    return MarketplaceOrder(
        external_id=str(receipt_id),
        state=order_state(status, is_paid=_bool(receipt, "is_paid"), is_shipped=_bool(receipt, "is_shipped")),
        buyer=Buyer(
            name=optional_str(receipt, "name"),
            email=optional_str(receipt, "buyer_email"),
            external_id=_optional_id(receipt, "buyer_user_id"),
        ),
        shipping_address=address,
        billing_address=address.model_copy(),
        billing_copied_from_shipping=True,
        lines=lines,
        total=total,
        currency=currency,
        placed_at=placed_at,
        paid_at=min((t for t in paid_times if t is not None), default=None),
        updated_at=updated_at,
        marketplace_status=status,
    )


def parse_receipts(results: Iterable[Any]) -> OrderPage:
    """Translate one page of `getShopReceipts` results; a bad receipt is rejected, never blocking."""
    orders: list[MarketplaceOrder] = []
    rejected: list[RejectedOrder] = []
    for index, receipt in enumerate(results):
        try:
            orders.append(receipt_to_order(receipt))
        except (ValueError, TypeError, ArithmeticError) as exc:
            rejected.append(RejectedOrder(external_id=_id_for_rejection(receipt, index), reason=str(exc)))
    return OrderPage(orders=tuple(orders), rejected=tuple(rejected))


def order_state(status: str, *, is_paid: bool, is_shipped: bool) -> OrderState:
    """Etsy's status + flags → ours. `partially refunded` stays live: something is still owed."""
    if status.strip().lower() in CANCELLED_STATUSES:
        return "cancelled"
    if is_shipped:
        return "shipped"
    if is_paid:
        return "paid"
    return "unpaid"


def money(value: Any, field: str) -> tuple[Decimal, str]:
    """Etsy `Money` {amount, divisor, currency_code} → (Decimal, ISO currency), exactly."""
    if not isinstance(value, Mapping):
        raise ValueError(f"{field} must be a Money object")
    amount = integer(value.get("amount"), f"{field}.amount")
    divisor = integer(value.get("divisor"), f"{field}.divisor")
    if divisor <= 0:
        raise ValueError(f"{field}.divisor must be positive, got {divisor}")
    currency = value.get("currency_code")
    if not isinstance(currency, str) or not re.fullmatch(r"[A-Za-z]{3}", currency):
        raise ValueError(f"{field}.currency_code must be an ISO 4217 code, got {currency!r}")
    return Decimal(amount) / Decimal(divisor), currency.upper()


def _shipping_address(receipt: Mapping[str, Any]) -> Address:
    country = optional_str(receipt, "country_iso")
    return Address(
        name=optional_str(receipt, "name"),
        line1=optional_str(receipt, "first_line"),
        line2=optional_str(receipt, "second_line"),
        city=optional_str(receipt, "city"),
        region=optional_str(receipt, "state"),
        postal_code=optional_str(receipt, "zip"),
        country_code=country.upper() if country else None,
    )


def _order_line(tx: Any, path: str, currency: str) -> OrderLine:
    if not isinstance(tx, Mapping):
        raise ValueError(f"{path} must be an object")
    transaction_id = positive_int(tx, "transaction_id", path)
    quantity = integer(tx.get("quantity"), f"{path}.quantity")
    if quantity < 1:
        raise ValueError(f"{path}.quantity must be at least 1, got {quantity}")
    unit_price, price_currency = money(tx.get("price"), f"{path}.price")
    if price_currency != currency:
        raise ValueError(f"{path}.price.currency_code {price_currency} differs from the receipt's {currency}")
    variations: dict[str, str] = {}
    for j, variation in enumerate(tx.get("variations") or ()):
        where = f"{path}.variations[{j}]"
        if not isinstance(variation, Mapping):
            raise ValueError(f"{where} must be an object")
        name = optional_str(variation, "formatted_name", where) or ""
        value = optional_str(variation, "formatted_value", where) or ""
        # Two personalisation fields may share a label; keep both answers rather than the last one.
        variations[name] = f"{variations[name]}; {value}" if name in variations else value
    return OrderLine(
        external_id=str(transaction_id),
        title=optional_str(tx, "title", path) or f"Etsy listing {tx.get('listing_id') or transaction_id}",
        sku=optional_str(tx, "sku", path),
        quantity=quantity,
        unit_price=unit_price,
        variations=variations,
    )


# --- carriers and tracking ----------------------------------------------------------------------------

# Etsy carrier names as createReceiptShipment takes them (the sandbox's accepted list), keyed by the
# names merchants and shipping platforms actually type. Keys are compared after `_carrier_key`.
_CARRIER_ALIASES: dict[str, tuple[str, ...]] = {
    "usps": ("usps", "united states postal service", "us postal service", "u.s. postal service", "us mail"),
    "ups": ("ups", "united parcel service", "ups ground"),
    "fedex": ("fedex", "fed ex", "federal express", "fedex ground"),
    "dhl": ("dhl", "dhl parcel", "dhl paket"),
    "dhl-express": ("dhl express", "dhlexpress", "dhl worldwide express"),
    "dhl-ecommerce": ("dhl ecommerce", "dhl e-commerce", "dhl global mail", "dhl ecommerce solutions"),
    "royal-mail": ("royal mail", "royalmail"),
    "parcelforce": ("parcelforce", "parcel force", "parcelforce worldwide"),
    "canada-post": ("canada post", "postes canada"),
    "australia-post": ("australia post", "auspost", "aus post"),
    "deutsche-post": ("deutsche post",),
    "dpd": ("dpd", "dpd uk", "dpd local", "dpd germany"),
    "gls": ("gls", "general logistics systems"),
    "hermes": ("hermes", "hermes germany", "hermes de"),
    "evri": ("evri", "hermes uk", "myhermes"),
    "la-poste": ("la poste",),
    "colissimo": ("colissimo",),
    "chronopost": ("chronopost",),
    "poste-italiane": ("poste italiane", "italian post"),
    "correos": ("correos", "correos espana", "correos de espana"),
    "postnl": ("postnl", "post nl"),
    "bpost": ("bpost", "belgian post"),
    "an-post": ("an post",),
    "swiss-post": ("swiss post", "die post", "la poste suisse"),
    "posti": ("posti",),
    "postnord": ("postnord", "post nord"),
    "japan-post": ("japan post", "jp post"),
    "india-post": ("india post",),
    "china-post": ("china post",),
    "new-zealand-post": ("new zealand post", "nz post"),
    "inpost": ("inpost",),
    "poczta-polska": ("poczta polska", "polish post"),
    "tnt": ("tnt", "tnt express"),
    "aramex": ("aramex",),
}


def _carrier_key(name: str) -> str:
    return re.sub(r"[\s_.\-]+", " ", name.strip().lower()).strip()


_CARRIERS_BY_KEY = {
    _carrier_key(alias): etsy_name for etsy_name, aliases in _CARRIER_ALIASES.items() for alias in (etsy_name, *aliases)
}


def carrier_for_etsy(carrier: str) -> tuple[str, str | None]:
    """Our free-text carrier → (Etsy `carrier_name`, note for the buyer).

    Etsy refuses carrier names it does not know, so anything unrecognised goes as `other` with the
    original name in the note: the buyer still learns who delivers, nothing is silently dropped.
    """
    key = _carrier_key(carrier)
    if key in ("", OTHER_CARRIER):
        return OTHER_CARRIER, None
    known = _CARRIERS_BY_KEY.get(key)
    if known is not None:
        return known, None
    return OTHER_CARRIER, f"Carrier: {carrier.strip()}"


def tracking_form(tracking_number: str, carrier: str, note: str | None = None) -> dict[str, str]:
    """The createReceiptShipment form body; the carrier note leads any note of ours to the buyer."""
    carrier_name, carrier_note = carrier_for_etsy(carrier)
    form = {"tracking_code": tracking_number.strip(), "carrier_name": carrier_name}
    note_to_buyer = "\n".join(part for part in (carrier_note, (note or "").strip()) if part)
    if note_to_buyer:
        form["note_to_buyer"] = note_to_buyer
    return form


def recorded_shipment(receipt: Mapping[str, Any], tracking_code: str) -> Mapping[str, Any] | None:
    """The latest `shipments[]` entry of a receipt carrying `tracking_code`, if Etsy has one."""
    wanted = tracking_code.strip().lower()
    matches = [
        s
        for s in receipt.get("shipments") or ()
        if isinstance(s, Mapping) and str(s.get("tracking_code") or "").strip().lower() == wanted
    ]
    return matches[-1] if matches else None


# --- field readers: each error names the field (the common ones are in shared.marketplaces.fields) --------


def _optional_id(obj: Mapping[str, Any], name: str) -> str | None:
    value = obj.get(name)
    return None if value is None else str(integer(value, name))


def _bool(obj: Mapping[str, Any], name: str) -> bool:
    value = obj.get(name)
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be a boolean, got {value!r}")
    return value


def _list(obj: Mapping[str, Any], name: str) -> list[Any]:
    value = obj.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{name} must be an array")
    return value


def _timestamp(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    return datetime.fromtimestamp(integer(value, where), UTC)


def _first_timestamp(obj: Mapping[str, Any], *names: str) -> datetime | None:
    """Etsy sends each timestamp twice (`create_timestamp`/`created_timestamp`); either will do."""
    for name in names:
        if obj.get(name) is not None:
            return _timestamp(obj[name], name)
    return None


def _id_for_rejection(receipt: Any, index: int) -> str:
    if isinstance(receipt, Mapping) and receipt.get("receipt_id") is not None:
        return str(receipt["receipt_id"])
    return f"results[{index}]"
