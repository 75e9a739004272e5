"""Opaque keyset cursors: `?cursor=&limit=` on every list endpoint, one codec for every service.

A cursor is the position after the last row of a page on a `(timestamp, id)` key (`created_at` for auth's
lists, `updated_at` for orders): stable while rows are added, cheap on an index. Base64url of compact JSON,
so it travels in a query string untouched.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime


class InvalidCursor(ValueError):
    """Not a cursor this API issued; the API answers 422 naming the `cursor` query parameter."""


@dataclass(frozen=True)
class Cursor:
    """The next page starts strictly after `(at, id)`."""

    at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        raw = json.dumps({"t": self.at.isoformat(), "id": str(self.id)}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Also reads the `[timestamp, id]` form the orders list issued before this codec was shared, so a
        client paging across the upgrade is not refused."""
        try:
            data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            stamp, row_id = (data["t"], data["id"]) if isinstance(data, dict) else data
            at = datetime.fromisoformat(stamp)
            if at.tzinfo is None:
                raise ValueError("naive timestamp")
            return cls(at=at, id=uuid.UUID(row_id))
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidCursor("not a cursor this API issued") from exc
