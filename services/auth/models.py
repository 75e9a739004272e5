"""The auth service's tables: merchants (tenants), API clients and JWT signing keys.

Declared without a schema like every service's tables: the engine's `search_path` puts them in `auth`.
Revision 0002 creates them; this metadata is what queries are written against.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

metadata = sa.MetaData()

merchants = sa.Table(
    "merchants",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Index("ix_merchants_created_at_id", "created_at", "id"),
)

api_clients = sa.Table(
    "api_clients",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("client_id", sa.Text, nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("merchant_id", UUID(as_uuid=True), sa.ForeignKey("merchants.id"),
              comment="null only for admin clients"),
    sa.Column("secret_hash", sa.Text, nullable=False, comment="scrypt$params$salt$digest, never the secret"),
    sa.Column("scopes", ARRAY(sa.Text), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("disabled_at", sa.DateTime(timezone=True)),
    sa.Index("ix_api_clients_merchant_id", "merchant_id"),
    sa.Index("ix_api_clients_created_at_id", "created_at", "id"),
)

signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("kid", sa.Text, primary_key=True, comment="RFC 7638 thumbprint of the public key"),
    sa.Column("private_jwk", sa.Text, nullable=False, comment="SecretBox-sealed private JWK, context = kid"),
    sa.Column("public_jwk", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("retired_at", sa.DateTime(timezone=True)),
)
