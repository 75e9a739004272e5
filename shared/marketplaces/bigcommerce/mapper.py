"""Pure translation between BigCommerce Orders V2 payloads and our canonical types. No I/O.

An order arrives in three parts: the order (`order_Resp`), its products (`orderProducts`) and its
shipping addresses (`orderShippingAddress`). V2 links the last two instead of embedding them, unless
the order was read with `include=consignments.line_items&consignment_structure=object`: then its
`consignments` carry both (`consignment_parts` takes them out).
Money is a string with four decimals ("12.5000"), dates are RFC 2822, and blank fields come as "" as
often as they are missing; all of that is read here so the client only moves bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any

from shared.events.payloads import Address, Buyer, OrderLine
from shared.marketplaces.base import MarketplaceOrder, OrderPage, OrderState, RejectedOrder
from shared.marketplaces.fields import integer, optional_str, positive_int, required

# Order status ids (spec `GET /order_statuses`); merchants may rename them, the ids are fixed.
SHIPPED = 2
PARTIALLY_SHIPPED = 3
REFUNDED = 4
CANCELLED = 5
AWAITING_SHIPMENT = 9
COMPLETED = 10
AWAITING_FULFILLMENT = 11
PARTIALLY_REFUNDED = 14

PAID_UNSHIPPED_STATUSES = (AWAITING_FULFILLMENT, AWAITING_SHIPMENT, PARTIALLY_SHIPPED)
# Statuses an imported order moves to when it leaves our hands; the sync follows them.
FOLLOW_UP_STATUSES = (CANCELLED, SHIPPED, REFUNDED)
# Everything that was paid for, for an archive import (8 = Awaiting Pickup, 14 = Partially Refunded).
ARCHIVE_STATUSES = (AWAITING_FULFILLMENT, AWAITING_SHIPMENT, 8, PARTIALLY_SHIPPED, SHIPPED, COMPLETED, PARTIALLY_REFUNDED)

_STATES: dict[int, OrderState] = {
    0: "unpaid",  # Incomplete
    1: "unpaid",  # Pending
    SHIPPED: "shipped",
    PARTIALLY_SHIPPED: "paid",  # the remainder is still to ship
    REFUNDED: "cancelled",
    CANCELLED: "cancelled",
    6: "cancelled",  # Declined
    7: "unpaid",  # Awaiting Payment
    8: "paid",  # Awaiting Pickup
    AWAITING_SHIPMENT: "paid",
    COMPLETED: "shipped",  # digital goods delivered
    AWAITING_FULFILLMENT: "paid",
    12: "unpaid",  # Manual Verification Required: on hold, not yet safe to ship
    13: "unpaid",  # Disputed
}

_ADDRESS_FIELDS = ("first_name", "last_name", "company", "street_1", "street_2", "city", "state", "zip", "country",
                   "country_iso2")


# --- orders -------------------------------------------------------------------------------------------


def order_state(status_id: int, *, items_total: int = 0, items_shipped: int = 0) -> OrderState:
    """BigCommerce status id → ours. Partially Refunded (14) says nothing about shipping, so it is
    shipped when every item went out and paid otherwise. Unknown ids raise: they would be guessed."""
    if status_id == PARTIALLY_REFUNDED:
        return "shipped" if items_total and items_shipped >= items_total else "paid"
    state = _STATES.get(status_id)
    if state is None:
        raise ValueError(f"status_id {status_id} is not a BigCommerce order status")
    return state


def to_order(order: Mapping[str, Any], products: Sequence[Any], shipping_addresses: Sequence[Any]) -> MarketplaceOrder:
    """Translate one order with its products and shipping addresses; ValueError names the first bad field.

    While the order is live (state "paid") its lines carry what is still to ship (quantity minus
    quantity_shipped), which is what a Partially Shipped order needs; ended orders keep the quantities
    bought. The billing address is the order's own; only when BigCommerce gives an empty one is the
    first shipping address copied (and the order says so).
    """
    if not isinstance(order, Mapping):
        raise ValueError(f"order must be an object, got {type(order).__name__}")
    order_id = positive_int(order, "id")
    status_id = integer(required(order, "status_id"), "status_id")
    state = order_state(
        status_id,
        items_total=_count(order, "items_total"),
        items_shipped=_count(order, "items_shipped"),
    )
    currency = _currency(order)
    total = money(required(order, "total_inc_tax"), "total_inc_tax")
    placed_at = rfc2822(order.get("date_created"), "date_created")
    updated_at = rfc2822(order.get("date_modified"), "date_modified") or placed_at
    if updated_at is None:
        raise ValueError("date_modified is missing")

    shipping = [address(a, f"shipping_addresses[{i}]") for i, a in enumerate(shipping_addresses)]
    shipping_address = shipping[0] if shipping else Address()
    billing_raw = order.get("billing_address")
    if billing_raw is not None and not isinstance(billing_raw, Mapping):
        raise ValueError("billing_address must be an object")
    if billing_raw and not is_blank_address(billing_raw):
        billing, copied = address(billing_raw, "billing_address"), False
    else:
        billing, copied = shipping_address.model_copy(), True

    lines = order_lines(products, remaining_only=state == "paid")
    if not lines:
        what = "nothing is left to ship" if state == "paid" and products else "an order without products"
        raise ValueError(f"products: {what}")
    customer_id = order.get("customer_id")
    return MarketplaceOrder(
        external_id=str(order_id),
        state=state,
        buyer=Buyer(
            name=billing.name,
            email=optional_str(billing_raw or {}, "email", "billing_address") or shipping_address.email,
            # customer_id 0 is a guest checkout: no account to refer to.
            external_id=str(int(customer_id)) if isinstance(customer_id, int | float) and customer_id else None,
        ),
        shipping_address=shipping_address,
        billing_address=billing,
        billing_copied_from_shipping=copied,
        lines=lines,
        total=total,
        currency=currency,
        placed_at=placed_at,
        paid_at=None,  # V2 orders carry no payment time; inventing one would mislead
        updated_at=updated_at,
        marketplace_status=optional_str(order, "status") or str(status_id),
    )


def consignment_parts(order: Any) -> tuple[list[Any], list[Any]] | None:
    """(products, shipping addresses) embedded in an order read with `include=consignments.line_items`.

    Every product sits in one consignment: shipping (one per address; the consignment carries the
    address fields and its id is the order address id), pickup, download or gift-certificate e-mail.
    Products are returned in id order, as `GET …/products` lists them. None when the order carries no
    embedded products (no `consignments`, links only, or none at all), or fewer items than its
    `items_total` (a kind of consignment this code does not know): the caller then reads the
    sub-resources, so a store that ignores `include` costs calls, never lines.
    """
    raw = order.get("consignments") if isinstance(order, Mapping) else None
    groups = [raw] if isinstance(raw, Mapping) else [g for g in raw if isinstance(g, Mapping)] if isinstance(raw, list) else []
    products: dict[Any, Any] = {}
    addresses: list[Any] = []
    for group in groups:
        email = group.get("email")
        consignments = [
            *_objects(group.get("shipping")), *_objects(group.get("pickups")), *_objects(group.get("downloads")),
            *_objects(email.get("gift_certificates") if isinstance(email, Mapping) else None),
        ]
        addresses.extend(c for c in _objects(group.get("shipping")))
        for consignment in consignments:
            items = consignment.get("line_items")
            for item in items if isinstance(items, list) else [items] if isinstance(items, Mapping) else []:
                if not isinstance(item, Mapping) or "quantity" not in item:
                    return None  # a `{url, resource}` link: the products were not embedded
                products.setdefault(item.get("id"), item)
    if not products:
        return None
    items_total = order.get("items_total")
    counted = sum(p.get("quantity") for p in products.values() if isinstance(p.get("quantity"), int | float))
    if isinstance(items_total, int | float) and not isinstance(items_total, bool) and counted != items_total:
        return None
    ordered = sorted(products.values(), key=lambda p: (0, p["id"]) if isinstance(p.get("id"), int) else (1, 0))
    return ordered, [{k: v for k, v in a.items() if k != "line_items"} for a in addresses]


def _objects(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def parse_orders(bundles: Iterable[tuple[Any, Sequence[Any], Sequence[Any]]]) -> OrderPage:
    """Translate one page of (order, products, shipping addresses); a bad order is rejected, never blocking."""
    orders: list[MarketplaceOrder] = []
    rejected: list[RejectedOrder] = []
    for index, (order, products, addresses) in enumerate(bundles):
        try:
            orders.append(to_order(order, products, addresses))
        except (ValueError, TypeError, ArithmeticError) as exc:
            rejected.append(RejectedOrder(external_id=rejection_id(order, index), reason=str(exc)))
    return OrderPage(orders=tuple(orders), rejected=tuple(rejected))


def order_lines(products: Sequence[Any], *, remaining_only: bool) -> tuple[OrderLine, ...]:
    """`orderProducts` → lines; with `remaining_only`, quantities still to ship and no fully shipped lines."""
    if not isinstance(products, Sequence):
        raise ValueError("products must be an array")
    lines: list[OrderLine] = []
    for i, product in enumerate(products):
        path = f"products[{i}]"
        if not isinstance(product, Mapping):
            raise ValueError(f"{path} must be an object")
        quantity = remaining_quantity(product, path) if remaining_only else _quantity(product, path)
        if quantity < 1:
            continue
        lines.append(
            OrderLine(
                external_id=str(positive_int(product, "id", path)),
                title=(optional_str(product, "name_customer", path) or optional_str(product, "name", path)
                       or f"BigCommerce product {product.get('product_id') or product['id']}"),
                sku=optional_str(product, "sku", path),
                quantity=quantity,
                unit_price=money(required(product, "price_inc_tax", path), f"{path}.price_inc_tax"),
                variations=_variations(product, path),
            )
        )
    return tuple(lines)


def remaining_quantity(product: Mapping[str, Any], path: str = "product") -> int:
    """What is still to ship of one order product."""
    shipped = _whole_number(product.get("quantity_shipped") or 0, f"{path}.quantity_shipped")
    return max(0, _quantity(product, path) - shipped)


def _variations(product: Mapping[str, Any], path: str) -> dict[str, str]:
    variations: dict[str, str] = {}
    options = product.get("product_options") or []
    if not isinstance(options, list):
        raise ValueError(f"{path}.product_options must be an array")
    for j, option in enumerate(options):
        where = f"{path}.product_options[{j}]"
        if not isinstance(option, Mapping):
            raise ValueError(f"{where} must be an object")
        name = (optional_str(option, "display_name_customer", where) or optional_str(option, "display_name", where)
                or optional_str(option, "name", where) or "")
        value = (optional_str(option, "display_value_customer", where) or optional_str(option, "display_value", where)
                 or optional_str(option, "value", where) or "")
        # Two options may share a label (e.g. two text fields); keep both answers.
        variations[name] = f"{variations[name]}; {value}" if name in variations else value
    return variations


# --- addresses ----------------------------------------------------------------------------------------


def address(raw: Any, path: str) -> Address:
    """`billingAddress_Base` / `orderShippingAddress` → Address; blank strings read as absent."""
    if not isinstance(raw, Mapping):
        raise ValueError(f"{path} must be an object")
    name = " ".join(p for p in (optional_str(raw, "first_name", path), optional_str(raw, "last_name", path)) if p)
    country = optional_str(raw, "country_iso2", path)
    if country is not None and not re.fullmatch(r"[A-Za-z]{2}", country):
        raise ValueError(f"{path}.country_iso2 must be an ISO 3166-1 alpha-2 code, got {country!r}")
    return Address(
        name=name or None,
        company=optional_str(raw, "company", path),
        line1=optional_str(raw, "street_1", path),
        line2=optional_str(raw, "street_2", path),
        city=optional_str(raw, "city", path),
        region=optional_str(raw, "state", path),
        postal_code=optional_str(raw, "zip", path),
        country_code=country.upper() if country else None,
        phone=optional_str(raw, "phone", path),
        email=optional_str(raw, "email", path),
    )


def is_blank_address(raw: Mapping[str, Any]) -> bool:
    """True when no address field carries text (an e-mail alone is a contact, not an address)."""
    return not any(isinstance(raw.get(f), str) and raw[f].strip() for f in _ADDRESS_FIELDS)


# --- values -------------------------------------------------------------------------------------------


def money(value: Any, field: str) -> Decimal:
    """A money string ("12.5000"; the spec also allows numbers) → Decimal, exactly."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{field} must be a decimal string, got {value!r}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{field} must be a decimal string, got {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"{field} must be a finite amount, got {value!r}")
    return amount


def rfc2822(value: Any, field: str) -> datetime | None:
    """An RFC 2822 date ("Tue, 05 Mar 2019 21:40:11 +0000") → aware UTC datetime; "" and null → None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ValueError(f"{field} must be an RFC 2822 date string, got {value!r}")
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError):
        raise ValueError(f"{field} must be an RFC 2822 date, got {value!r}") from None
    if parsed.tzinfo is None:  # "-0000" means UTC with unknown local zone (RFC 2822 §3.3)
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _currency(order: Mapping[str, Any]) -> str:
    # default_currency_code is the transactional currency (what the buyer paid in); currency_code is display.
    for name in ("default_currency_code", "currency_code"):
        value = optional_str(order, name)
        if value is not None:
            if not re.fullmatch(r"[A-Za-z]{3}", value):
                raise ValueError(f"{name} must be an ISO 4217 code, got {value!r}")
            return value.upper()
    raise ValueError("default_currency_code is missing")


# --- carriers and shipments ---------------------------------------------------------------------------

# `shipping_provider` enum values (spec `shipping_provider_standard`), keyed by names people type.
_PROVIDERS: dict[str, tuple[str, ...]] = {
    "usps": ("usps", "united states postal service", "us postal service", "u.s. postal service", "us mail"),
    "ups": ("ups", "united parcel service", "ups ground"),
    "fedex": ("fedex", "fed ex", "federal express", "fedex ground"),
    "royalmail": ("royal mail", "royalmail"),
    "canadapost": ("canada post", "canadapost", "postes canada"),
    "auspost": ("australia post", "auspost", "aus post"),
    "endicia": ("endicia",),
}
# Carriers outside that enum go as `tracking_carrier`, which takes AfterShip courier slugs.
_TRACKING_CARRIERS: dict[str, tuple[str, ...]] = {
    "dhl": ("dhl", "dhl express", "dhl parcel", "dhl paket"),
    "dpd": ("dpd", "dpd germany", "dpd de"),
    "dpd-uk": ("dpd uk", "dpd local"),
    "gls": ("gls", "general logistics systems"),
    "tnt": ("tnt", "tnt express"),
    "parcel-force": ("parcelforce", "parcel force", "parcelforce worldwide"),
    "inpost-paczkomaty": ("inpost", "inpost paczkomaty"),
    "poczta-polska": ("poczta polska", "polish post"),
    "postnl": ("postnl", "post nl"),
    "bpost": ("bpost", "belgian post"),
    "an-post": ("an post",),
    "swiss-post": ("swiss post",),
    "postnord": ("postnord", "post nord"),
    "japan-post": ("japan post", "jp post"),
    "china-post": ("china post",),
    "new-zealand-post": ("new zealand post", "nz post"),
    "aramex": ("aramex",),
}


def _carrier_key(name: str) -> str:
    return re.sub(r"[\s_.\-]+", " ", name.strip().lower()).strip()


def _index(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {_carrier_key(alias): value for value, aliases in table.items() for alias in (value, *aliases)}


_PROVIDER_BY_KEY = _index(_PROVIDERS)
_TRACKING_CARRIER_BY_KEY = _index(_TRACKING_CARRIERS)


def carrier_fields(carrier: str) -> dict[str, str]:
    """Our free-text carrier → the shipment's carrier fields.

    A core provider goes as `shipping_provider`, a known AfterShip courier as `tracking_carrier`;
    anything else leaves both empty and goes as `shipping_method`, the spec's free-text field shown
    with the shipment, so the buyer still learns who delivers. Nothing is silently dropped.
    """
    key = _carrier_key(carrier)
    if key in _PROVIDER_BY_KEY:
        return {"shipping_provider": _PROVIDER_BY_KEY[key]}
    if key in _TRACKING_CARRIER_BY_KEY:
        return {"tracking_carrier": _TRACKING_CARRIER_BY_KEY[key]}
    fields = {"shipping_provider": "", "tracking_carrier": ""}
    if carrier.strip():
        fields["shipping_method"] = carrier.strip()
    return fields


def shipment_items(products: Sequence[Mapping[str, Any]], lines: Sequence[tuple[str, int]]) -> list[dict[str, int]]:
    """The shipment's `items`: the pushed lines, or for a whole-order push every physical remainder.

    Quantities above what is left to ship are refused here with the line named, rather than by
    BigCommerce after the buyer was e-mailed about a partial shipment.
    """
    by_id = {str(p.get("id")): p for p in products}
    if not lines:
        return [
            {"order_product_id": int(p["id"]), "quantity": remaining_quantity(p)}
            for p in products
            if remaining_quantity(p) > 0 and p.get("type", "physical") == "physical"
        ]
    items: list[dict[str, int]] = []
    for line_id, quantity in lines:
        product = by_id.get(str(line_id))
        if product is None:
            raise ValueError(f"lines: {line_id} is not a product of this order")
        left = remaining_quantity(product)
        if quantity < 1 or quantity > left:
            raise ValueError(f"lines: {line_id} has {left} left to ship, cannot ship {quantity}")
        items.append({"order_product_id": int(product["id"]), "quantity": quantity})
    return items


def shipment_address_id(products: Sequence[Mapping[str, Any]], items: Sequence[Mapping[str, int]],
                        shipping_addresses: Sequence[Mapping[str, Any]]) -> int:
    """The `order_address_id` of a shipment: where its products go (multi-address orders), else the first."""
    if not shipping_addresses:
        raise ValueError("the order has no shipping address to ship to")
    known = {int(a["id"]) for a in shipping_addresses if isinstance(a.get("id"), int)}
    by_id = {p.get("id"): p for p in products}
    targets = {by_id[i["order_product_id"]].get("order_address_id") for i in items} - {None, 0}
    targets &= known
    if len(targets) > 1:
        raise ValueError("lines: the shipment spans several shipping addresses; push one shipment per address")
    return targets.pop() if targets else int(shipping_addresses[0]["id"])


def shipment_body(address_id: int, items: list[dict[str, int]], tracking_number: str, carrier: str,
                  note: str | None = None) -> dict[str, Any]:
    """The `orderShipment_Post` body."""
    number = tracking_number.strip()
    if not number or len(number) > 50:
        raise ValueError("tracking_number must be 1 to 50 characters (BigCommerce's limit)")
    body: dict[str, Any] = {"order_address_id": address_id, "items": items, "tracking_number": number,
                            **carrier_fields(carrier)}
    if note and note.strip():
        body["comments"] = note.strip()
    return body


def recorded_shipment(shipments: Iterable[Any], tracking_number: str) -> Mapping[str, Any] | None:
    """The latest shipment already carrying `tracking_number`, if BigCommerce has one."""
    wanted = tracking_number.strip().lower()
    matches = [s for s in shipments
               if isinstance(s, Mapping) and str(s.get("tracking_number") or "").strip().lower() == wanted]
    return matches[-1] if matches else None


# --- field readers: each error names the field (the common ones are in shared.marketplaces.fields) --------


def _whole_number(value: Any, where: str) -> int:
    """Counts the spec types as `number` (quantity_shipped, items_total): 2 and 2.0 are both fine."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value) or value < 0:
        raise ValueError(f"{where} must be a non-negative whole number, got {value!r}")
    return int(value)


def _count(obj: Mapping[str, Any], name: str) -> int:
    return _whole_number(obj.get(name) or 0, name)


def _quantity(product: Mapping[str, Any], path: str) -> int:
    quantity = integer(required(product, "quantity", path), f"{path}.quantity")
    if quantity < 1:
        raise ValueError(f"{path}.quantity must be at least 1, got {quantity}")
    return quantity


def rejection_id(order: Any, index: int) -> str:
    """The order's id when it has one, else its position on the page."""
    if isinstance(order, Mapping) and order.get("id") is not None:
        return str(order["id"])
    return f"orders[{index}]"
