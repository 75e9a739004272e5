"""The order projection remembers the version it applied; shipments count theirs and fingerprint their key.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orders", sa.Column(
        "version", sa.Integer(), server_default="0", nullable=False,
        comment="aggregateversion of the last order event applied"))
    op.create_table_comment("orders", "Projection of order.paid / order.updated / order.cancelled: what can be shipped")
    op.add_column("shipments", sa.Column(
        "idempotency_fingerprint", sa.Text(), nullable=True,
        comment="sha256 of the route and canonical body the key was first used with"))
    op.add_column("shipments", sa.Column(
        "version", sa.Integer(), server_default="1", nullable=False,
        comment="bumped with every shipment event, which carries it as aggregateversion"))


def downgrade() -> None:
    op.drop_column("shipments", "version")
    op.drop_column("shipments", "idempotency_fingerprint")
    op.create_table_comment("orders", "Projection of order.paid / order.cancelled: what can be shipped")
    op.drop_column("orders", "version")
