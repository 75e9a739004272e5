"""Alembic, run programmatically on service start.

Each service keeps its revisions in `services/<name>/migrations/versions` and its own version table
inside its own schema. A Postgres advisory lock keyed on the schema serialises replicas that start
together, so exactly one of them migrates and the others find the schema at head.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db.locks import advisory_key, holding_lock

VERSION_TABLE = "alembic_version"


def alembic_config(migrations_dir: Path, schema: str, metadata: MetaData) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.attributes["schema"] = schema
    cfg.attributes["target_metadata"] = metadata
    return cfg


def run_env(context: EnvironmentContext) -> None:
    """Body of every service's `migrations/env.py`: migrate on the connection handed in by migrate_to_head."""
    cfg = context.config
    schema = cfg.attributes["schema"]
    connection = cfg.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=cfg.attributes["target_metadata"],
        version_table=VERSION_TABLE,
        version_table_schema=schema,
        include_schemas=False,
    )
    with context.begin_transaction():
        context.run_migrations()


async def migrate_to_head(engine: AsyncEngine, migrations_dir: Path, schema: str, metadata: MetaData) -> None:
    cfg = alembic_config(migrations_dir, schema, metadata)
    async with engine.connect() as conn, holding_lock(conn, advisory_key(f"migrate:{schema}")):
        await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        await conn.commit()

        def upgrade(sync_conn) -> None:
            cfg.attributes["connection"] = sync_conn
            command.upgrade(cfg, "head")

        await conn.run_sync(upgrade)
        await conn.commit()
