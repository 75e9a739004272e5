"""Order use cases shared by the V2 API and the control API: list, ship, change status.

Every change bumps `date_modified` and emits the webhooks BigCommerce would: a status change
sends `store/order/statusUpdated` (with previous/new ids) and `store/order/updated`; a shipment
sends `store/shipment/created` and moves the order to Partially Shipped (3) or, once every
item has shipped, Shipped (2).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any

from sandbox.bigcommerce import webhooks
from sandbox.bigcommerce.errors import v2_bad_request
from sandbox.bigcommerce.order_statuses import INCOMPLETE, ORDER_STATUSES, PARTIALLY_SHIPPED, SHIPPED
from sandbox.bigcommerce.payloads import SHIPPING_PROVIDER_NAMES
from sandbox.bigcommerce.state import BigCommerceState, Order, Shipment, ShipmentItem, Store

SORT_FIELDS = ("id", "customer_id", "date_created", "date_modified", "status_id", "channel_id", "external_id")
CUSTOM_CARRIER = re.compile(r"^carrier_[A-Za-z0-9_-]+$")
DEFAULT_LIMIT = 50


def parse_date(raw: str, name: str) -> float:
    """RFC 2822 (`Thu, 20 Apr 2017 11:32:00 -0400`) or ISO 8601, as the spec allows."""
    try:
        parsed = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise v2_bad_request(f"The field '{name}' is invalid.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _int_param(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise v2_bad_request(f"The field '{name}' is invalid.") from None


def _decimal_param(params: Mapping[str, str], name: str) -> Decimal | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise v2_bad_request(f"The field '{name}' is invalid.") from None


def page_window(params: Mapping[str, str], max_limit: int) -> tuple[int, int]:
    """`page` (default 1) and `limit` (default 50, silently capped at the maximum)."""
    page = _int_param(params, "page") or 1
    limit = _int_param(params, "limit")
    limit = DEFAULT_LIMIT if limit is None else limit
    if page < 1 or limit < 1:
        raise v2_bad_request("The field 'page' is invalid." if page < 1 else "The field 'limit' is invalid.")
    return page, min(limit, max_limit)


def paginate(items: list[Any], params: Mapping[str, str], max_limit: int) -> list[Any]:
    page, limit = page_window(params, max_limit)
    return items[(page - 1) * limit : page * limit]


def _order_total(order: Order) -> Decimal:
    subtotal = sum((p.price_inc_tax * p.quantity for p in order.products), Decimal(0))
    return subtotal + order.shipping_cost_inc_tax - order.discount_amount


def query_orders(state: BigCommerceState, store_hash: str, params: Mapping[str, str]) -> list[Order]:
    """`GET /v2/orders` filters, sort and page. Incomplete (0) orders only show when asked for.
    `include` is read by `includes` (the caller renders what it asks for)."""
    includes(params)
    status_id = _int_param(params, "status_id")
    min_id, max_id = _int_param(params, "min_id"), _int_param(params, "max_id")
    customer_id, channel_id = _int_param(params, "customer_id"), _int_param(params, "channel_id")
    min_total, max_total = _decimal_param(params, "min_total"), _decimal_param(params, "max_total")
    dates = {name: parse_date(params[name], name) for name in _DATE_FILTERS if params.get(name)}
    email = params.get("email")
    sort = params.get("sort") or "id"
    field_name, _, direction = sort.partition(":")
    if field_name not in SORT_FIELDS or direction not in ("", "asc", "desc"):
        raise v2_bad_request("The field 'sort' is invalid.")

    def keep(o: Order) -> bool:
        checks = (
            o.store_hash == store_hash and not o.is_deleted,
            o.status_id == status_id if status_id is not None else o.status_id != INCOMPLETE,
            min_id is None or o.id >= min_id,
            max_id is None or o.id <= max_id,
            customer_id is None or o.customer_id == customer_id,
            channel_id is None or o.channel_id == channel_id,
            min_total is None or _order_total(o) >= min_total,
            max_total is None or _order_total(o) <= max_total,
            email is None or o.billing_address.email.lower() == email.lower(),
            params.get("cart_id") is None or o.cart_id == params.get("cart_id"),
            params.get("payment_method") is None or o.payment_method == params.get("payment_method"),
            params.get("external_order_id") is None or o.external_order_id == params.get("external_order_id"),
            all(_DATE_FILTERS[name](o, bound) for name, bound in dates.items()),
        )
        return all(checks)

    def sort_key(o: Order) -> tuple[Any, int]:
        value = {"external_id": ""}.get(field_name, getattr(o, field_name, None))
        return (value, o.id)

    matched = sorted(filter(keep, state.orders.values()), key=sort_key, reverse=direction == "desc")
    return paginate(matched, params, state.settings.orders_max_limit)


INCLUDES = frozenset({"consignments", "consignments.line_items", "fees"})


def includes(params: Mapping[str, str]) -> frozenset[str]:
    """`include` (comma list) → the sub-resources to embed; 400 for what the sandbox cannot render.

    Consignments come only in the object structure (`consignment_structure=object`, which the spec says
    goes with them); `fees` are not modelled, and answering without them would let a client believe
    it parsed them.
    """
    raw = params.get("include") or ""
    wanted = frozenset(part.strip() for part in raw.split(",") if part.strip())
    unknown = wanted - INCLUDES
    if unknown:
        raise v2_bad_request(f"The field 'include' is invalid: {', '.join(sorted(unknown))}.")
    if "fees" in wanted:
        raise v2_bad_request("The sandbox does not emulate include=fees.")
    structure = params.get("consignment_structure")
    if structure is not None and structure != "object":
        raise v2_bad_request("The field 'consignment_structure' is invalid.")
    if wanted and structure != "object":
        raise v2_bad_request("The sandbox renders consignments only with consignment_structure=object.")
    return wanted


_DATE_FILTERS = {
    "min_date_created": lambda o, b: o.date_created >= b,
    "max_date_created": lambda o, b: o.date_created <= b,
    "min_date_modified": lambda o, b: o.date_modified >= b,
    "max_date_modified": lambda o, b: o.date_modified <= b,
}


def set_status(state: BigCommerceState, store: Store, order: Order, status_id: int) -> None:
    """Move an order to `status_id`; a real change bumps `date_modified` and fires webhooks."""
    previous = order.status_id
    order.status_id = status_id
    if status_id == SHIPPED and order.date_shipped is None:
        order.date_shipped = state.now_s()
    state.bump(order)
    if previous != status_id:
        data = {"type": "order", "id": order.id, "status": {"previous_status_id": previous, "new_status_id": status_id}}
        webhooks.emit(state, store, "store/order/statusUpdated", data)
    webhooks.emit(state, store, "store/order/updated", {"type": "order", "id": order.id})


def validate_status_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in ORDER_STATUSES:
        raise v2_bad_request("The field 'status_id' is invalid.")
    return value


def _string_field(body: Mapping[str, Any], name: str, max_length: int) -> str:
    value = body.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise v2_bad_request(f"The field '{name}' is invalid.")
    if len(value) > max_length:
        raise v2_bad_request(f"The field '{name}' must be no more than {max_length} characters.")
    return value


def _shipment_items(order: Order, address_id: int, raw_items: Any) -> list[ShipmentItem]:
    if not isinstance(raw_items, list) or not raw_items:
        raise v2_bad_request("The field 'items' cannot be blank.")
    wanted: dict[int, int] = {}
    for raw in raw_items:
        product_id, quantity = (raw.get("order_product_id"), raw.get("quantity")) if isinstance(raw, dict) else (None, None)
        if isinstance(product_id, bool) or not isinstance(product_id, int):
            raise v2_bad_request("The field 'order_product_id' is invalid.")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise v2_bad_request("The field 'quantity' is invalid.")
        product = order.product(product_id)
        if product is None or product.order_address_id != address_id:
            raise v2_bad_request(f"The order product {product_id} does not belong to order address {address_id}.")
        wanted[product_id] = wanted.get(product_id, 0) + quantity
    for product_id, quantity in wanted.items():
        product = order.product(product_id)
        assert product is not None
        if quantity > product.quantity - product.quantity_shipped:
            raise v2_bad_request(
                f"The quantity specified for order product {product_id} is greater than the quantity remaining to ship "
                f"({product.quantity - product.quantity_shipped})."
            )
    return [ShipmentItem(pid, order.product(pid).product_id, q) for pid, q in wanted.items()]  # type: ignore[union-attr]


def create_shipment(state: BigCommerceState, store: Store, order: Order, body: Any, client_id: str) -> Shipment:
    """`POST /v2/orders/{id}/shipments`, validated per `orderShipment_Post` and the docs."""
    if not isinstance(body, dict):
        raise v2_bad_request("The request body must be a JSON object.")
    address_id = body.get("order_address_id")
    if address_id is None:
        raise v2_bad_request("The field 'order_address_id' cannot be blank.")
    if isinstance(address_id, bool) or not isinstance(address_id, int) or order.shipping_address(address_id) is None:
        raise v2_bad_request("The field 'order_address_id' is invalid.")
    items = _shipment_items(order, address_id, body.get("items"))
    tracking_number = _string_field(body, "tracking_number", 50)
    tracking_link = _string_field(body, "tracking_link", 500)
    comments = _string_field(body, "comments", 65535)
    provider = _string_field(body, "shipping_provider", 255)
    if provider not in SHIPPING_PROVIDER_NAMES and not CUSTOM_CARRIER.match(provider):
        raise v2_bad_request("The field 'shipping_provider' is invalid.")
    carrier = _string_field(body, "tracking_carrier", 255)
    method = _string_field(body, "shipping_method", 255)
    try:
        cost = Decimal(str(body.get("merchant_shipping_cost") or "0"))
    except InvalidOperation:
        raise v2_bad_request("The field 'merchant_shipping_cost' is invalid.") from None

    address = order.shipping_address(address_id)
    assert address is not None
    shipment = Shipment(
        id=state.next_id("shipment"),
        store_hash=store.store_hash,
        order_id=order.id,
        customer_id=order.customer_id,
        order_address_id=address_id,
        date_created=state.now_s(),
        tracking_number=tracking_number,
        merchant_shipping_cost=cost,
        shipping_method=method or "None",
        shipping_provider=provider,
        tracking_carrier=carrier,
        tracking_link=tracking_link,
        comments=comments,
        items=items,
        billing_address=order.billing_address,
        shipping_address=address.address,
        created_by_client_id=client_id,
    )
    for item in items:
        product = order.product(item.order_product_id)
        assert product is not None
        product.quantity_shipped += item.quantity
    state.shipments.append(shipment)
    webhooks.emit(state, store, "store/shipment/created", {"type": "shipment", "id": shipment.id, "orderId": order.id})
    physical = [p for p in order.products if p.type == "physical"]
    done = all(p.quantity_shipped >= p.quantity for p in physical)
    set_status(state, store, order, SHIPPED if done else PARTIALLY_SHIPPED)
    return shipment


def apply_order_update(state: BigCommerceState, store: Store, order: Order, body: Any) -> None:
    """`PUT /v2/orders/{id}` for the fields the sandbox models (status, notes, external id).

    Other `order_Put` fields (products, addresses, fees, …) are refused with 400 naming the field,
    so a client relying on them learns at once that the sandbox does not model them.
    """
    if not isinstance(body, dict) or not body:
        raise v2_bad_request("The request body must be a non-empty JSON object.")
    unsupported = sorted(set(body) - {"status_id", "staff_notes", "customer_message", "external_order_id"})
    if unsupported:
        raise v2_bad_request(f"The sandbox does not emulate updating: {', '.join(unsupported)}.")
    new_status = validate_status_id(body["status_id"]) if "status_id" in body else None
    for name in ("staff_notes", "customer_message", "external_order_id"):
        if name in body:
            setattr(order, name, _string_field(body, name, 65535))
    if new_status is not None:
        set_status(state, store, order, new_status)
    else:
        state.bump(order)
        webhooks.emit(state, store, "store/order/updated", {"type": "order", "id": order.id})
