"""Connections made with API credentials (BigCommerce): scopes, needs_attention, tokens that never expire.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint("ck_connections_status", "connections", type_="check")
    op.create_check_constraint("ck_connections_status", "connections",
                               "status IN ('pending', 'active', 'needs_attention', 'needs_reauth', 'disconnected')")
    op.add_column("connections", sa.Column("granted_scopes", ARRAY(sa.Text),
                                           comment="API-credential connections: what the token may do"))
    op.add_column("connections", sa.Column("missing_scopes", ARRAY(sa.Text),
                                           comment="…and what it lacks for the integration"))
    op.alter_column("connection_tokens", "refresh_token", nullable=True,
                    comment="SecretBox-sealed, context = '<connection_id>:refresh'; null for API credentials")
    op.alter_column("connection_tokens", "expires_at", nullable=True,
                    comment="when the access token expires; never for API credentials")
    op.add_column("connection_tokens", sa.Column(
        "signing_secret", sa.Text,
        comment="SecretBox-sealed, context = '<connection_id>:signing': keys the marketplace's webhook signatures"))


def downgrade() -> None:
    op.drop_column("connection_tokens", "signing_secret")
    op.execute("DELETE FROM connection_tokens WHERE refresh_token IS NULL OR expires_at IS NULL")
    op.alter_column("connection_tokens", "expires_at", nullable=False, comment="when the access token expires")
    op.alter_column("connection_tokens", "refresh_token", nullable=False,
                    comment="SecretBox-sealed, context = '<connection_id>:refresh'")
    op.drop_column("connections", "missing_scopes")
    op.drop_column("connections", "granted_scopes")
    op.drop_constraint("ck_connections_status", "connections", type_="check")
    op.create_check_constraint("ck_connections_status", "connections",
                               "status IN ('pending', 'active', 'needs_reauth', 'disconnected')")
