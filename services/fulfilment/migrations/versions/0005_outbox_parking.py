"""Outbox rows the broker keeps refusing are parked (`parked_at`) so they stop blocking the events after them.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

from shared.messaging.tables import add_outbox_parking, remove_outbox_parking

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_parking(op)


def downgrade() -> None:
    remove_outbox_parking(op)
