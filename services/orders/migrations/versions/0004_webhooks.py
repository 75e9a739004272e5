"""Marketplace webhooks registered per connection, and the deliveries already handled.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "marketplace_webhooks",
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("destination", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False, comment="SecretBox-sealed, context = 'webhook:<connection_id>'"),
        sa.Column("signing_secret", sa.Text(), nullable=True,
                  comment="SecretBox-sealed, context = 'webhook-signing:<connection_id>'"),
        sa.Column("hook_ids", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"),
                  nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["connection_id"], ["connections.id"]),
        sa.PrimaryKeyConstraint("connection_id"),
        comment="Webhooks we registered at a marketplace for a connection (BigCommerce), and their secret",
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("delivery_hash", sa.Text(), nullable=False, comment="the marketplace's idempotency hash"),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("external_order_id", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("connection_id", "delivery_hash"),
        comment="Deliveries already handled: a retried or replayed one is acknowledged and skipped",
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("marketplace_webhooks")
