"""Merchants, API clients and JWT signing keys.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "merchants",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_merchants_created_at_id", "merchants", ["created_at", "id"])
    op.create_table(
        "api_clients",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("client_id", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("merchant_id", UUID(as_uuid=True), sa.ForeignKey("merchants.id"),
                  comment="null only for admin clients"),
        sa.Column("secret_hash", sa.Text, nullable=False, comment="scrypt$params$salt$digest, never the secret"),
        sa.Column("scopes", ARRAY(sa.Text), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("disabled_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_api_clients_merchant_id", "api_clients", ["merchant_id"])
    op.create_index("ix_api_clients_created_at_id", "api_clients", ["created_at", "id"])
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.Text, primary_key=True, comment="RFC 7638 thumbprint of the public key"),
        sa.Column("private_jwk", sa.Text, nullable=False,
                  comment="SecretBox-sealed private JWK, context = kid"),
        sa.Column("public_jwk", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("retired_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("signing_keys")
    op.drop_index("ix_api_clients_created_at_id", table_name="api_clients")
    op.drop_index("ix_api_clients_merchant_id", table_name="api_clients")
    op.drop_table("api_clients")
    op.drop_index("ix_merchants_created_at_id", table_name="merchants")
    op.drop_table("merchants")
