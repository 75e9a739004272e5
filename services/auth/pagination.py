"""Opaque keyset cursors over `(created_at, id)`: stable while rows are added, cheap on an index."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from services.auth.errors import InvalidField

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True)
class Cursor:
    """Position after the last row of a page: the next page starts strictly after it."""

    created_at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        raw = json.dumps({"t": self.created_at.isoformat(), "id": str(self.id)}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            data = json.loads(raw)
            created_at = datetime.fromisoformat(data["t"])
            if created_at.tzinfo is None:
                raise ValueError("naive timestamp")
            return cls(created_at=created_at, id=uuid.UUID(data["id"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidField("cursor", "not a cursor this API issued") from exc


def next_cursor(rows, limit: int) -> str | None:
    """The cursor for the page after `rows` (fetched with limit + 1 to know whether one exists)."""
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return Cursor(created_at=last["created_at"], id=last["id"]).encode()
