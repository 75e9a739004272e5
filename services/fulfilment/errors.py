"""What fulfilment's use cases refuse, in business terms; api.py turns each into a problem."""

from __future__ import annotations


class OrderNotFound(LookupError):
    """No such order for this merchant (or `order.paid` has not reached fulfilment yet)."""


class ShipmentNotFound(LookupError):
    """No such shipment for this merchant."""


class OrderCancelled(Exception):
    """The order is cancelled and cannot be shipped."""


class IdempotencyKeyReused(Exception):
    """The Idempotency-Key already booked a shipment for another order or body."""


class InvalidShipmentLine(Exception):
    """A line of the request names no line of the order, or more than is left to ship of it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
