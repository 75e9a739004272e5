"""Typed payloads of every event in DESIGN.md. Small, immutable, and the only shape consumers rely on.

Money travels as a decimal string with its ISO currency; times are UTC ISO-8601; ids we mint are UUIDs.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from shared.statuses import OrderStatus

Marketplace = Literal["etsy", "bigcommerce", "allegro"]


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- connections -------------------------------------------------------------------------------------


class ConnectionConnected(_Payload):
    connection_id: UUID
    merchant_id: UUID
    marketplace: Marketplace
    shop_id: str
    shop_name: str | None = None
    # When the connection became active: where the orders sync starts looking (absent from older producers).
    connected_at: datetime | None = None


class ConnectionDisconnected(_Payload):
    connection_id: UUID
    merchant_id: UUID
    marketplace: Marketplace


class ConnectionNeedsReauth(_Payload):
    connection_id: UUID
    merchant_id: UUID
    marketplace: Marketplace
    reason: str


# --- orders ------------------------------------------------------------------------------------------


class Address(_Payload):
    name: str | None = None
    company: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country_code: str | None = Field(None, description="ISO 3166-1 alpha-2")
    phone: str | None = None
    email: str | None = None
    pickup_point_id: str | None = None


class Buyer(_Payload):
    name: str | None = None
    email: str | None = None
    external_id: str | None = None


class OrderLine(_Payload):
    external_id: str
    title: str
    sku: str | None = None
    quantity: int = Field(ge=1)
    unit_price: Decimal
    variations: dict[str, str] = Field(default_factory=dict)


class OrderSnapshot(_Payload):
    """The canonical order as shipping platforms need it to book a parcel."""

    order_id: UUID
    merchant_id: UUID
    connection_id: UUID
    marketplace: Marketplace
    external_id: str
    status: OrderStatus
    buyer: Buyer
    shipping_address: Address
    billing_address: Address
    billing_copied_from_shipping: bool
    lines: list[OrderLine]
    total: Decimal
    currency: str = Field(min_length=3, max_length=3)
    placed_at: datetime | None = None
    paid_at: datetime | None = None


class OrderPaid(OrderSnapshot):
    update_stock: bool = Field(True, description="the connection's update_stock_after_sale setting")


class OrderImported(OrderSnapshot):
    """An order found by an archive import: history, not a new sale."""


class OrderUpdated(OrderSnapshot):
    pass


class OrderCancelled(_Payload):
    order_id: UUID
    merchant_id: UUID
    connection_id: UUID
    marketplace: Marketplace
    external_id: str
    reason: str | None = None


class OrderConfirmationRequested(_Payload):
    order_id: UUID
    merchant_id: UUID
    buyer_email: EmailStr
    buyer_name: str | None = None


class CustomerRegistered(_Payload):
    merchant_id: UUID
    email: EmailStr
    name: str | None = None
    first_order_id: UUID


# --- listings and stock ------------------------------------------------------------------------------


class ListingPublished(_Payload):
    listing_id: UUID
    merchant_id: UUID
    connection_id: UUID
    marketplace: Marketplace
    external_id: str


class ListingFailed(_Payload):
    listing_id: UUID
    merchant_id: UUID
    connection_id: UUID
    marketplace: Marketplace
    reason: str


class InventoryChanged(_Payload):
    merchant_id: UUID
    sku: str
    quantity: int = Field(ge=0)
    delta: int
    cause: str = Field(description="what moved the stock: a sale's order id, a manual set, …")


# --- fulfilment --------------------------------------------------------------------------------------


class ShipmentLine(_Payload):
    order_line_external_id: str
    quantity: int = Field(ge=1)


class ShipmentBooked(_Payload):
    shipment_id: UUID
    order_id: UUID
    merchant_id: UUID
    carrier: str
    tracking_number: str
    lines: list[ShipmentLine] = Field(default_factory=list, description="empty: the whole order")


class ShipmentCancelled(_Payload):
    shipment_id: UUID
    order_id: UUID
    merchant_id: UUID
    reason: str | None = None


class OrderFulfilled(_Payload):
    order_id: UUID
    merchant_id: UUID
    shipment_id: UUID
    marketplace: Marketplace
    fully_shipped: bool = True
