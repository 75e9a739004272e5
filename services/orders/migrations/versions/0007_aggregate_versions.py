"""Versions: orders count their events; the connection and shipment projections remember what they applied.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orders", sa.Column(
        "version", sa.Integer(), server_default="0", nullable=False,
        comment="bumped with every order.paid/imported/updated/cancelled, which carries it"))
    op.add_column("connections", sa.Column(
        "version", sa.Integer(), server_default="0", nullable=False,
        comment="aggregateversion of the last connection.* event applied"))
    op.add_column("order_shipments", sa.Column(
        "version", sa.Integer(), server_default="0", nullable=False,
        comment="aggregateversion of the last shipment event applied"))
    op.alter_column("order_shipments", "carrier", nullable=True,
                    comment="null until shipment.booked arrives (order.fulfilled can overtake it)")
    op.alter_column("order_shipments", "tracking_number", nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM order_shipments WHERE carrier IS NULL")
    op.alter_column("order_shipments", "tracking_number", nullable=False)
    op.alter_column("order_shipments", "carrier", nullable=False, comment=None)
    op.drop_column("order_shipments", "version")
    op.drop_column("connections", "version")
    op.drop_column("orders", "version")
