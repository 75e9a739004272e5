"""Outbox and inbox tables, declared without a schema: `search_path` puts them in the owning service's schema."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = sa.MetaData()

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("id", UUID(as_uuid=True), nullable=False, unique=True, comment="the CloudEvent id"),
    sa.Column("topic", sa.Text, nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("event", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("published_at", sa.DateTime(timezone=True)),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
    sa.Column("parked_at", sa.DateTime(timezone=True),
              comment="set when the broker kept refusing the event: the relay skips it until `outbox retry`"),
    sa.Index("ix_outbox_unpublished", "seq", postgresql_where=sa.text("published_at IS NULL")),
)

inbox = sa.Table(
    "inbox",
    metadata,
    sa.Column("consumer", sa.Text, primary_key=True),
    sa.Column("event_id", sa.Text, primary_key=True),
    sa.Column("topic", sa.Text, nullable=False),
    sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)


# The relay LISTENs on cb_outbox_<schema>. A statement trigger raises the NOTIFY inside the writer's transaction,
# so it is delivered at commit and never for a rollback, and it costs the writer no extra round trip. Postgres
# folds identical notifications of one transaction into one, so a transaction wakes the relay once.
_NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cb_outbox_' || TG_TABLE_SCHEMA, '');
    RETURN NULL;
END $$
"""
_NOTIFY_TRIGGER = """
CREATE OR REPLACE TRIGGER outbox_notify AFTER INSERT ON outbox
FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()
"""
sa.event.listen(outbox, "after_create", sa.DDL(_NOTIFY_FUNCTION))
sa.event.listen(outbox, "after_create", sa.DDL(_NOTIFY_TRIGGER))


def create_messaging_tables(op) -> None:
    """Called from each service's first Alembic revision so every service gets its own outbox and inbox."""
    bind = op.get_bind()
    metadata.create_all(bind, tables=[outbox, inbox])


def install_outbox_notify(op) -> None:
    """For schemas whose outbox predates the trigger (idempotent: `create_all` installs it with the table)."""
    op.execute(_NOTIFY_FUNCTION)
    op.execute(_NOTIFY_TRIGGER)


def remove_outbox_notify(op) -> None:
    op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
    op.execute("DROP FUNCTION IF EXISTS outbox_notify()")


def add_outbox_parking(op) -> None:
    """For schemas whose outbox predates parking (idempotent: `create_all` makes the column with the table)."""
    op.execute("ALTER TABLE outbox ADD COLUMN IF NOT EXISTS parked_at timestamptz")
    op.execute("COMMENT ON COLUMN outbox.parked_at IS "
               "'set when the broker kept refusing the event: the relay skips it until `outbox retry`'")


def remove_outbox_parking(op) -> None:
    op.execute("ALTER TABLE outbox DROP COLUMN IF EXISTS parked_at")


def drop_messaging_tables(op) -> None:
    bind = op.get_bind()
    metadata.drop_all(bind, tables=[inbox, outbox])
