"""Marketplace connections, their pending OAuth authorizations and their sealed tokens.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connections",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("merchant_id", UUID(as_uuid=True), sa.ForeignKey("merchants.id"), nullable=False),
        sa.Column("marketplace", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("shop_id", sa.Text, comment="the marketplace's shop id, known once authorized"),
        sa.Column("shop_name", sa.Text),
        sa.Column("status_reason", sa.Text, comment="why the connection is in its status, for the merchant"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("connected_at", sa.DateTime(timezone=True)),
        sa.Column("disconnected_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('pending', 'active', 'needs_reauth', 'disconnected')",
                           name="ck_connections_status"),
    )
    op.create_index("ix_connections_created_at_id", "connections", ["created_at", "id"])
    op.create_index("ix_connections_merchant_id_created_at_id", "connections", ["merchant_id", "created_at", "id"])
    op.create_index("ux_connections_live_shop", "connections", ["merchant_id", "marketplace", "shop_id"],
                    unique=True, postgresql_where=sa.text("status <> 'disconnected' AND shop_id IS NOT NULL"))
    op.create_table(
        "oauth_states",
        sa.Column("state_hash", sa.Text, primary_key=True, comment="sha256 hex of the state, never the state"),
        sa.Column("connection_id", UUID(as_uuid=True), sa.ForeignKey("connections.id"), nullable=False),
        sa.Column("code_verifier", sa.Text, nullable=False,
                  comment="SecretBox-sealed PKCE verifier, context = state_hash"),
        sa.Column("redirect_uri", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_oauth_states_connection_id", "oauth_states", ["connection_id"])
    op.create_table(
        "connection_tokens",
        sa.Column("connection_id", UUID(as_uuid=True), sa.ForeignKey("connections.id"), primary_key=True),
        sa.Column("access_token", sa.Text, nullable=False,
                  comment="SecretBox-sealed, context = '<connection_id>:access'"),
        sa.Column("refresh_token", sa.Text, nullable=False,
                  comment="SecretBox-sealed, context = '<connection_id>:refresh'"),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False, comment="when the access token expires"),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), comment="last refresh; null until the first one"),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("connection_tokens")
    op.drop_index("ix_oauth_states_connection_id", table_name="oauth_states")
    op.drop_table("oauth_states")
    op.drop_index("ux_connections_live_shop", table_name="connections")
    op.drop_index("ix_connections_merchant_id_created_at_id", table_name="connections")
    op.drop_index("ix_connections_created_at_id", table_name="connections")
    op.drop_table("connections")
