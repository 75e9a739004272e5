"""The auth service's tables: merchants (tenants), API clients, JWT signing keys and marketplace connections.

Declared without a schema like every service's tables: the engine's `search_path` puts them in `auth`.
Revisions 0002 and 0003 create them; this metadata is what queries are written against.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from shared.db.types import StatusText
from shared.statuses import ConnectionStatus

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

connections = sa.Table(
    "connections",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("merchant_id", UUID(as_uuid=True), sa.ForeignKey("merchants.id"), nullable=False),
    sa.Column("marketplace", sa.Text, nullable=False),
    sa.Column("status", StatusText(ConnectionStatus), nullable=False),
    sa.Column("shop_id", sa.Text, comment="the marketplace's shop id, known once authorized"),
    sa.Column("shop_name", sa.Text),
    sa.Column("status_reason", sa.Text, comment="why the connection is in its status, for the merchant"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("connected_at", sa.DateTime(timezone=True)),
    sa.Column("disconnected_at", sa.DateTime(timezone=True)),
    sa.Column("settings", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb"),
              comment="only the values a merchant changed; defaults live in code"),
    sa.Column("granted_scopes", ARRAY(sa.Text), comment="API-credential connections: what the token may do"),
    sa.Column("missing_scopes", ARRAY(sa.Text), comment="…and what it lacks for the integration"),
    sa.Column("version", sa.Integer, nullable=False, server_default="0",
              comment="bumped with every connection.* event, which carries it as aggregateversion"),
    sa.CheckConstraint(f"status IN ({', '.join(repr(status.value) for status in ConnectionStatus)})",
                       name="ck_connections_status"),
    sa.Index("ix_connections_created_at_id", "created_at", "id"),
    sa.Index("ix_connections_merchant_id_created_at_id", "merchant_id", "created_at", "id"),
    # One live connection per shop and merchant: a re-authorization revives it instead of duplicating it.
    sa.Index("ux_connections_live_shop", "merchant_id", "marketplace", "shop_id", unique=True,
             postgresql_where=sa.text("status <> 'disconnected' AND shop_id IS NOT NULL")),
)

oauth_states = sa.Table(
    "oauth_states",
    metadata,
    sa.Column("state_hash", sa.Text, primary_key=True, comment="sha256 hex of the state, never the state"),
    sa.Column("connection_id", UUID(as_uuid=True), sa.ForeignKey("connections.id"), nullable=False),
    sa.Column("code_verifier", sa.Text, nullable=False, comment="SecretBox-sealed PKCE verifier, context = state_hash"),
    sa.Column("redirect_uri", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True)),
    sa.Index("ix_oauth_states_connection_id", "connection_id"),
)

connection_tokens = sa.Table(
    "connection_tokens",
    metadata,
    sa.Column("connection_id", UUID(as_uuid=True), sa.ForeignKey("connections.id"), primary_key=True),
    sa.Column("access_token", sa.Text, nullable=False, comment="SecretBox-sealed, context = '<connection_id>:access'"),
    sa.Column("refresh_token", sa.Text,
              comment="SecretBox-sealed, context = '<connection_id>:refresh'; null for API credentials"),
    sa.Column("expires_at", sa.DateTime(timezone=True),
              comment="when the access token expires; never for API credentials"),
    sa.Column("refreshed_at", sa.DateTime(timezone=True), comment="last refresh; null until the first one"),
    sa.Column("signing_secret", sa.Text,
              comment="SecretBox-sealed, context = '<connection_id>:signing': keys the marketplace's webhook signatures"),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

connection_settings_audit = sa.Table(
    "connection_settings_audit",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("connection_id", UUID(as_uuid=True), sa.ForeignKey("connections.id"), nullable=False),
    sa.Column("changed_by", sa.Text, nullable=False, comment="the API client that made the change"),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("setting", sa.Text, nullable=False),
    sa.Column("old_value", JSONB),
    sa.Column("new_value", JSONB),
    sa.Index("ix_connection_settings_audit_connection", "connection_id", "id"),
)
