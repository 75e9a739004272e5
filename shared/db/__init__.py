"""Database plumbing: one async engine per service, confined to the service's own schema."""

from shared.db.engine import create_engine_for_schema, session_factory
from shared.db.migrations import migrate_to_head

__all__ = ["create_engine_for_schema", "migrate_to_head", "session_factory"]
