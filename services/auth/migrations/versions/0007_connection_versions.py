"""Connections count their events: `version` rides on every connection.* event as `aggregateversion`.

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
    op.add_column("connections", sa.Column(
        "version", sa.Integer(), server_default="0", nullable=False,
        comment="bumped with every connection.* event, which carries it as aggregateversion"))


def downgrade() -> None:
    op.drop_column("connections", "version")
