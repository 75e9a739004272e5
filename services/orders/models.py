"""The orders schema: canonical orders and lines, the connections they come from, sync state per connection."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.db.types import StatusText
from shared.statuses import ConnectionStatus, OrderShipmentStatus, OrderStatus

metadata = sa.MetaData()

connections = sa.Table(
    "connections", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("merchant_id", UUID(as_uuid=True), nullable=False),
    sa.Column("marketplace", sa.Text, nullable=False),
    sa.Column("shop_id", sa.Text),
    sa.Column("shop_name", sa.Text),
    sa.Column("status", StatusText(ConnectionStatus), nullable=False,
              comment="active | needs_reauth | disconnected (from auth's events)"),
    sa.Column("version", sa.Integer, nullable=False, server_default="0",
              comment="aggregateversion of the last connection.* event applied"),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("connected_at", sa.DateTime(timezone=True),
              comment="when auth made the connection active (connection.connected)"),
    comment="Projection of auth's connection events: which shops to sync",
)

sync_states = sa.Table(
    "sync_states", metadata,
    sa.Column("connection_id", UUID(as_uuid=True), sa.ForeignKey("connections.id"), primary_key=True),
    sa.Column("cursor", sa.Text),
    sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("last_started_at", sa.DateTime(timezone=True)),
    sa.Column("last_finished_at", sa.DateTime(timezone=True)),
    sa.Column("last_outcome", sa.Text),
    sa.Column("last_error", sa.Text),
    sa.Column("last_counts", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("runs", sa.Integer, nullable=False, server_default="0"),
    sa.Column("manual_requested", sa.Boolean, nullable=False, server_default=sa.false(),
              comment="a POST …/sync asked for this run: it runs even with auto import off"),
    sa.Column("archive_imported_since", sa.Date, comment="the archive import already done for this date"),
    sa.Column("swept_at", sa.DateTime(timezone=True),
              comment="start of the last complete safety-net sweep (journal marketplaces)"),
)

orders = sa.Table(
    "orders", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("merchant_id", UUID(as_uuid=True), nullable=False),
    sa.Column("connection_id", UUID(as_uuid=True), nullable=False),
    sa.Column("marketplace", sa.Text, nullable=False),
    sa.Column("external_id", sa.Text, nullable=False),
    sa.Column("status", StatusText(OrderStatus), nullable=False, comment="paid | shipped | cancelled"),
    sa.Column("marketplace_status", sa.Text, nullable=False, server_default=""),
    sa.Column("buyer", JSONB, nullable=False),
    sa.Column("shipping_address", JSONB, nullable=False),
    sa.Column("billing_address", JSONB, nullable=False),
    sa.Column("billing_copied_from_shipping", sa.Boolean, nullable=False),
    sa.Column("total", sa.Numeric(18, 4), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("placed_at", sa.DateTime(timezone=True)),
    sa.Column("paid_at", sa.DateTime(timezone=True)),
    sa.Column("marketplace_updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("content_hash", sa.Text, nullable=False, comment="detects real changes between syncs"),
    sa.Column("version", sa.Integer, nullable=False, server_default="0",
              comment="bumped with every order.paid/imported/updated/cancelled, which carries it"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("connection_id", "external_id", name="uq_orders_connection_external"),
    sa.Index("ix_orders_merchant_updated", "merchant_id", "updated_at", "id"),
)

order_lines = sa.Table(
    "order_lines", metadata,
    sa.Column("order_id", UUID(as_uuid=True), sa.ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("external_id", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("sku", sa.Text),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_price", sa.Numeric(18, 4), nullable=False),
    sa.Column("variations", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
)

order_shipments = sa.Table(
    "order_shipments", metadata,
    sa.Column("shipment_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("order_id", UUID(as_uuid=True), sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    sa.Column("carrier", sa.Text, comment="null until shipment.booked arrives (order.fulfilled can overtake it)"),
    sa.Column("tracking_number", sa.Text),
    sa.Column("status", StatusText(OrderShipmentStatus), nullable=False, comment="booked | confirmed"),
    sa.Column("version", sa.Integer, nullable=False, server_default="0",
              comment="aggregateversion of the last shipment event applied"),
    sa.Column("booked_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    comment="Projection of fulfilment's shipment events, so an order reads with its shipments",
)

rejected_payloads = sa.Table(
    "rejected_payloads", metadata,
    sa.Column("connection_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("external_id", sa.Text, primary_key=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    comment="Marketplace payloads we could not accept, with the field at fault; retried on every sync",
)

customers = sa.Table(
    "customers", metadata,
    sa.Column("merchant_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("email", sa.Text, primary_key=True, comment="lower-cased buyer e-mail"),
    sa.Column("name", sa.Text),
    sa.Column("first_order_id", UUID(as_uuid=True), nullable=False),
    sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    comment="Buyers registered as customers: customer.registered is emitted once per e-mail and merchant",
)

marketplace_webhooks = sa.Table(
    "marketplace_webhooks", metadata,
    sa.Column("connection_id", UUID(as_uuid=True), sa.ForeignKey("connections.id"), primary_key=True),
    sa.Column("destination", sa.Text, nullable=False),
    sa.Column("secret", sa.Text, nullable=False, comment="SecretBox-sealed, context = 'webhook:<connection_id>'"),
    sa.Column("signing_secret", sa.Text, comment="SecretBox-sealed, context = 'webhook-signing:<connection_id>'"),
    sa.Column("hook_ids", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.Column("registered_at", sa.DateTime(timezone=True)),
    comment="Webhooks we registered at a marketplace for a connection (BigCommerce), and their secret",
)

webhook_deliveries = sa.Table(
    "webhook_deliveries", metadata,
    sa.Column("connection_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("delivery_id", sa.Text, primary_key=True,
              comment="'id:<webhook-id>' of a signed delivery, else 'hash:<payload hash>'"),
    sa.Column("delivery_hash", sa.Text, nullable=False, comment="the payload's hash (BigCommerce's digest)"),
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("external_order_id", sa.Text),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    comment="Deliveries already handled: a retried or replayed one is acknowledged and skipped",
)
