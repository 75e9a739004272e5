"""Event type ⇄ payload model ⇄ topic. One topic per event type, named as the type."""

from __future__ import annotations

from pydantic import BaseModel

from shared.events import payloads as p

EVENT_TYPES: dict[str, type[BaseModel]] = {
    "connection.connected": p.ConnectionConnected,
    "connection.disconnected": p.ConnectionDisconnected,
    "connection.needs_reauth": p.ConnectionNeedsReauth,
    "order.paid": p.OrderPaid,
    "order.imported": p.OrderImported,
    "order.updated": p.OrderUpdated,
    "order.cancelled": p.OrderCancelled,
    "order.confirmation_requested": p.OrderConfirmationRequested,
    "customer.registered": p.CustomerRegistered,
    "listing.published": p.ListingPublished,
    "listing.failed": p.ListingFailed,
    "inventory.changed": p.InventoryChanged,
    "shipment.booked": p.ShipmentBooked,
    "shipment.cancelled": p.ShipmentCancelled,
    "order.fulfilled": p.OrderFulfilled,
}

_TYPE_OF = {model: name for name, model in EVENT_TYPES.items()}


def payload_model(event_type: str) -> type[BaseModel] | None:
    return EVENT_TYPES.get(event_type)


def event_type_of(model: type[BaseModel]) -> str:
    try:
        return _TYPE_OF[model]
    except KeyError:
        raise KeyError(f"{model.__name__} is not a registered event payload") from None


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


def all_topics() -> list[str]:
    """Every event topic and its dead-letter topic, created up front with the partition count we want."""
    return [t for name in EVENT_TYPES for t in (name, dlq_topic(name))]
