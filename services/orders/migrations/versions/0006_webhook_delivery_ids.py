"""Webhook deliveries deduplicated by delivery id (`webhook-id`) instead of the payload hash.

Rows recorded before keep their hash as id (`hash:<hash>`), which is what an unsigned delivery uses.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("webhook_deliveries", sa.Column(
        "delivery_id", sa.Text(), nullable=True,
        comment="'id:<webhook-id>' of a signed delivery, else 'hash:<payload hash>'"))
    op.execute("UPDATE webhook_deliveries SET delivery_id = 'hash:' || delivery_hash")
    op.alter_column("webhook_deliveries", "delivery_id", nullable=False)
    op.drop_constraint("webhook_deliveries_pkey", "webhook_deliveries", type_="primary")
    op.create_primary_key("webhook_deliveries_pkey", "webhook_deliveries", ["connection_id", "delivery_id"])
    op.alter_column("webhook_deliveries", "delivery_hash", comment="the payload's hash (BigCommerce's digest)",
                    existing_comment="the marketplace's idempotency hash", existing_type=sa.Text(),
                    existing_nullable=False)


def downgrade() -> None:
    op.drop_constraint("webhook_deliveries_pkey", "webhook_deliveries", type_="primary")
    op.execute("DELETE FROM webhook_deliveries a USING webhook_deliveries b WHERE a.connection_id = b.connection_id "
               "AND a.delivery_hash = b.delivery_hash AND a.ctid > b.ctid")
    op.create_primary_key("webhook_deliveries_pkey", "webhook_deliveries", ["connection_id", "delivery_hash"])
    op.alter_column("webhook_deliveries", "delivery_hash", comment="the marketplace's idempotency hash",
                    existing_type=sa.Text(), existing_nullable=False)
    op.drop_column("webhook_deliveries", "delivery_id")
