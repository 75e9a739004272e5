"""Alembic entry point of the `ratelimit` schema (shared marketplace rate budgets)."""

from alembic import context

from shared.db.migrations import run_env

run_env(context)
