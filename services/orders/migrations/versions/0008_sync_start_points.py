"""Where a connection's sync starts: when the connection became active, and when the safety-net sweep last ran.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("connections", sa.Column("connected_at", sa.DateTime(timezone=True), nullable=True,
                                           comment="when auth made the connection active (connection.connected)"))
    op.add_column("sync_states", sa.Column("swept_at", sa.DateTime(timezone=True), nullable=True,
                                           comment="start of the last complete safety-net sweep (journal marketplaces)"))


def downgrade() -> None:
    op.drop_column("sync_states", "swept_at")
    op.drop_column("connections", "connected_at")
