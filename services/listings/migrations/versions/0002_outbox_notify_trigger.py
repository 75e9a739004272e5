"""The outbox wakes the relay with a statement trigger instead of a NOTIFY the writer sends itself.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from shared.messaging.tables import install_outbox_notify, remove_outbox_notify

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    install_outbox_notify(op)


def downgrade() -> None:
    remove_outbox_notify(op)
