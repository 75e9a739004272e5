"""Per-connection settings with an audit trail.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("connections", sa.Column("settings", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb"),
                                           comment="only the values a merchant changed; defaults live in code"))
    op.create_table(
        "connection_settings_audit",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("connection_id", UUID(as_uuid=True), sa.ForeignKey("connections.id"), nullable=False),
        sa.Column("changed_by", sa.Text, nullable=False, comment="the API client that made the change"),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("setting", sa.Text, nullable=False),
        sa.Column("old_value", JSONB),
        sa.Column("new_value", JSONB),
    )
    op.create_index("ix_connection_settings_audit_connection", "connection_settings_audit", ["connection_id", "id"])


def downgrade() -> None:
    op.drop_table("connection_settings_audit")
    op.drop_column("connections", "settings")
