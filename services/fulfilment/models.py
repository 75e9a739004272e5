"""The fulfilment schema: shipments with their tracking push-back state, and the orders they belong to."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.db.types import StatusText
from shared.statuses import OrderStatus, ShipmentStatus

metadata = sa.MetaData()

orders = sa.Table(
    "orders", metadata,
    sa.Column("order_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("merchant_id", UUID(as_uuid=True), nullable=False),
    sa.Column("connection_id", UUID(as_uuid=True), nullable=False),
    sa.Column("marketplace", sa.Text, nullable=False),
    sa.Column("external_id", sa.Text, nullable=False),
    sa.Column("status", StatusText(OrderStatus), nullable=False),
    sa.Column("lines", JSONB, nullable=False, comment="[{external_id, quantity}] to validate partial shipments"),
    sa.Column("version", sa.Integer, nullable=False, server_default="0",
              comment="aggregateversion of the last order event applied"),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    comment="Projection of order.paid / order.updated / order.cancelled: what can be shipped",
)

shipments = sa.Table(
    "shipments", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("order_id", UUID(as_uuid=True), sa.ForeignKey("orders.order_id"), nullable=False),
    sa.Column("merchant_id", UUID(as_uuid=True), nullable=False),
    sa.Column("carrier", sa.Text, nullable=False),
    sa.Column("tracking_number", sa.Text, nullable=False),
    sa.Column("lines", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.Column("note", sa.Text, comment="for the buyer, sent with the tracking where the marketplace takes one"),
    sa.Column("status", StatusText(ShipmentStatus), nullable=False, comment="pending | pushed | failed"),
    sa.Column("push_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("last_error", sa.Text),
    sa.Column("failure_reason", sa.Text, comment="the marketplace's reason when it rejected the tracking"),
    sa.Column("carrier_sent", sa.Text),
    sa.Column("marketplace_shipment_id", sa.Text),
    sa.Column("idempotency_key", sa.Text),
    sa.Column("idempotency_fingerprint", sa.Text,
              comment="sha256 of the route and canonical body the key was first used with"),
    sa.Column("version", sa.Integer, nullable=False, server_default="1",
              comment="bumped with every shipment event, which carries it as aggregateversion"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("merchant_id", "idempotency_key", name="uq_shipments_idempotency"),
    sa.Index("ix_shipments_pending", "next_attempt_at", postgresql_where=sa.text("status = 'pending'")),
)
