"""Alembic entry point; the schema, metadata and connection come from shared.db.migrations."""

from alembic import context

from shared.db.migrations import run_env

run_env(context)
