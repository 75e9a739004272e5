"""Per-aggregate versions: counted by the owner, compared by every projection of another service's aggregate.

The owner bumps the aggregate row's `version` in the transaction that stages the event (the UPDATE takes the
row lock, so two writers of one aggregate get consecutive versions in commit order). A projection keeps the
last version it applied and applies an event only when it is newer, because one aggregate's events travel on
several topics and arrive in any order.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession


async def next_version(session: AsyncSession, table: sa.Table, key: sa.Column, value) -> int:
    """Bump the aggregate's version and return it (the caller stages its event with it)."""
    return (await session.execute(
        sa.update(table).where(key == value).values(version=table.c.version + 1).returning(table.c.version)
    )).scalar_one()


def is_newer(stored: sa.ColumnElement, incoming: sa.ColumnElement) -> sa.ColumnElement[bool]:
    """Whether an incoming event's version may replace the stored state.

    Version 0 marks state or events from before versions existed: a row at 0 takes any event (what it did
    before), and an unversioned event never overwrites versioned state (it is older than any of it).
    """
    return sa.or_(stored < incoming, stored == 0)
