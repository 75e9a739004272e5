"""Outbox rows the broker keeps refusing are parked (`parked_at`) so they stop blocking the events after them.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

from shared.messaging.tables import add_outbox_parking, remove_outbox_parking

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_parking(op)


def downgrade() -> None:
    remove_outbox_parking(op)
