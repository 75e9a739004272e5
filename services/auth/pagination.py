"""Paging auth's lists: limits, and the shared cursor codec's answers in auth's errors."""

from __future__ import annotations

from services.auth.errors import InvalidField
from shared.web.pagination import Cursor, InvalidCursor

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def parse_cursor(text: str | None) -> Cursor | None:
    """The position a `?cursor=` names (None: the first page); a cursor we did not issue is InvalidField."""
    if not text:
        return None
    try:
        return Cursor.decode(text)
    except InvalidCursor as exc:
        raise InvalidField("cursor", str(exc)) from exc


def next_cursor(rows, limit: int) -> str | None:
    """The cursor for the page after `rows` (fetched with limit + 1 to know whether one exists)."""
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return Cursor(at=last["created_at"], id=last["id"]).encode()
