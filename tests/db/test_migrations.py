"""Every service's migrations produce exactly the tables its models declare (no drift either way)."""

from __future__ import annotations

import importlib
import importlib.util

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, text

from shared.db import create_engine_for_schema
from shared.messaging.tables import metadata as messaging_metadata


def _declared(service: str) -> MetaData:
    """The service's own tables plus the outbox/inbox every service gets from revision 0001."""
    combined = MetaData()
    has_models = importlib.util.find_spec(f"services.{service}.models") is not None
    models = importlib.import_module(f"services.{service}.models") if has_models else None
    for source in filter(None, (messaging_metadata, getattr(models, "metadata", None))):
        for table in source.tables.values():
            table.to_metadata(combined)
    return combined


@pytest.mark.parametrize("service", ["auth", "orders", "listings", "fulfilment"])
async def test_migrated_schema_matches_the_models(stack, settings, service):
    engine = create_engine_for_schema(settings.database_url, service, pool_size=1)
    declared = _declared(service)

    def diff(sync_conn):
        context = MigrationContext.configure(sync_conn, opts={"include_schemas": False, "compare_server_default": False,
                                                              "version_table_schema": service})
        changes = compare_metadata(context, declared)
        return [c for c in changes if not (c[0] == "remove_table" and c[1].name == "alembic_version")]

    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await engine.dispose()


@pytest.mark.parametrize("service", ["auth", "orders", "listings", "fulfilment"])
async def test_migrated_outbox_wakes_the_relay_with_its_statement_trigger(stack, settings, service):
    engine = create_engine_for_schema(settings.database_url, service, pool_size=1)
    try:
        async with engine.connect() as conn:
            trigger = (await conn.execute(text(
                "SELECT t.tgname, p.proname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
                "WHERE t.tgrelid = 'outbox'::regclass AND NOT t.tgisinternal"
            ))).all()
    finally:
        await engine.dispose()
    assert [tuple(row) for row in trigger] == [("outbox_notify", "outbox_notify")]


async def test_ratelimit_schema_matches_the_shared_budget_table(settings):
    """The shared marketplace rate budgets have their own small chain (`shared/marketplaces/budget_migrations`)."""
    from shared.db.migrations import migrate_to_head
    from shared.marketplaces import budget

    engine = create_engine_for_schema(settings.database_url, budget.SCHEMA, pool_size=1)

    def diff(sync_conn):
        context = MigrationContext.configure(sync_conn, opts={"include_schemas": False,
                                                              "version_table_schema": budget.SCHEMA})
        return [c for c in compare_metadata(context, budget.metadata)
                if not (c[0] == "remove_table" and c[1].name == "alembic_version")]

    try:
        await migrate_to_head(engine, budget.MIGRATIONS, budget.SCHEMA, budget.metadata)
        async with engine.connect() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await engine.dispose()
