"""Every status an aggregate can be in, as the one vocabulary of tables, API bodies and event payloads.

`StrEnum`s: a member is its string, so JSON on the wire, SQL parameters and comparisons with stored
values are unchanged, while the OpenAPI and AsyncAPI documents list the values and a typo is an error.
"""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    """Where an order we hold stands; only orders seen paid are ever imported."""

    PAID = "paid"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


class ShipmentStatus(StrEnum):
    """A booked shipment's tracking push to its marketplace: waiting (and retried), accepted, or refused;
    or withdrawn unpushed because its order was cancelled."""

    PENDING = "pending"
    PUSHED = "pushed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class OrderShipmentStatus(StrEnum):
    """A shipment as its order shows it: booked with fulfilment, then confirmed by the marketplace, or
    cancelled when fulfilment withdrew it unpushed after the order's cancellation."""

    BOOKED = "booked"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class ConnectionStatus(StrEnum):
    """A marketplace connection: only `active` ones sync, push tracking or cancel."""

    PENDING = "pending"
    ACTIVE = "active"
    NEEDS_ATTENTION = "needs_attention"
    NEEDS_REAUTH = "needs_reauth"
    DISCONNECTED = "disconnected"


class PublicationStatus(StrEnum):
    """A listing's publication at a marketplace (listings service, next)."""

    PENDING = "pending"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    FAILED = "failed"
