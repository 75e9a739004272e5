"""Fulfilment's domain rules, as pure functions: which shipments an order can take.

No I/O here: the use cases load the order and its shipments, these decide. Tested without servers in
tests/fulfilment/.
"""

from __future__ import annotations

from shared.events.payloads import ShipmentLine
from shared.statuses import OrderStatus


def line_error(ordered: dict[str, int], lines: list[ShipmentLine], shipped: dict[str, int]) -> tuple[str, str] | None:
    """The first (field, message) that makes a shipment's lines unshippable, or None.

    Every line named exists, and per line the request's quantities together fit in what is left. A
    whole-order shipment (no `lines`) is not checked: it ships whatever is left, and a marketplace may
    take a second tracking number for the same parcel set (Etsy does)."""
    requested: dict[str, int] = {}
    for i, line in enumerate(lines):
        line_id = line.order_line_external_id
        if line_id not in ordered:
            return f"lines.{i}.order_line_external_id", "no such line on this order"
        requested[line_id] = requested.get(line_id, 0) + line.quantity
        left = ordered[line_id] - shipped.get(line_id, 0)
        if requested[line_id] > left:
            earlier = requested[line_id] - line.quantity
            return f"lines.{i}.quantity", (f"only {left} left to ship of line {line_id}"
                                           + (f", {earlier} of them already in earlier lines of this request"
                                              if earlier else ""))
    return None


def can_book(order_status: OrderStatus) -> bool:
    """A cancelled order takes no shipment; shipped ones may (a second parcel, a corrected tracking)."""
    return order_status != OrderStatus.CANCELLED
