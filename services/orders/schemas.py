"""The orders API's request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from shared.events.payloads import Address, Buyer, OrderLine
from shared.statuses import ConnectionStatus, OrderShipmentStatus, OrderStatus


class ShipmentSummary(BaseModel):
    shipment_id: uuid.UUID
    carrier: str
    tracking_number: str
    status: OrderShipmentStatus
    booked_at: datetime


class OrderOut(BaseModel):
    id: uuid.UUID
    merchant_id: uuid.UUID
    connection_id: uuid.UUID
    marketplace: str
    external_id: str
    status: OrderStatus
    marketplace_status: str
    buyer: Buyer
    shipping_address: Address
    billing_address: Address
    billing_copied_from_shipping: bool
    lines: list[OrderLine]
    total: Decimal
    currency: str
    placed_at: datetime | None
    paid_at: datetime | None
    created_at: datetime
    updated_at: datetime
    shipments: list[ShipmentSummary]


class OrderPage(BaseModel):
    items: list[OrderOut]
    next_cursor: str | None


class SyncStatus(BaseModel):
    connection_id: uuid.UUID
    connection_status: ConnectionStatus
    cursor: str | None
    running: bool = Field(description="a replica is syncing this connection now")
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_outcome: str | None = Field(
        description="running | ok | failed | skipped | needs_reauth | interrupted (the process running it died)")
    last_error: str | None
    last_counts: dict[str, int]
    next_run_at: datetime
    runs: int


# The webhook route reads the raw body (its signature covers the exact bytes), so FastAPI cannot derive the
# request body's documentation from a model; this is BigCommerce's documented delivery shape.
BIGCOMMERCE_DELIVERY_DOC: dict = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {
        "type": "object",
        "required": ["scope", "data", "hash"],
        "properties": {
            "scope": {"type": "string", "enum": ["store/order/created", "store/order/statusUpdated"]},
            "store_id": {"type": "string"},
            "producer": {"type": "string", "description": "stores/{store_hash}"},
            "created_at": {"type": "integer", "description": "Unix seconds"},
            "hash": {"type": "string"},
            "data": {"type": "object", "required": ["id"], "properties": {
                "type": {"type": "string"}, "id": {"type": "integer", "description": "the BigCommerce order id"},
            }},
        },
    },
    "example": {"scope": "store/order/created", "store_id": "1025646", "producer": "stores/abc123",
                "created_at": 1733570000, "hash": "3f7d9a1c2b4e5f60718293a4b5c6d7e8f9a0b1c2",
                "data": {"type": "order", "id": 250}},
}}}}


class CancelIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "buyer asked to cancel before dispatch"}]})

    reason: str | None = Field(None, max_length=500)
