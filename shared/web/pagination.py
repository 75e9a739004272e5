"""Opaque keyset cursors: `?cursor=&limit=` on every list endpoint."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime

from shared.web.problems import Problem


def encode_cursor(updated_at: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([updated_at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        stamp, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(stamp), uuid.UUID(row_id)
    except (ValueError, TypeError) as exc:
        raise Problem(422, "cursor: not a cursor this API returned", type_="validation-error") from exc
