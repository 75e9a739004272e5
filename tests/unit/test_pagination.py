"""The one cursor codec every list endpoint uses (orders and auth alike)."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime

import pytest

from shared.web.pagination import Cursor, InvalidCursor


def test_a_cursor_survives_the_round_trip_and_is_query_string_safe():
    cursor = Cursor(at=datetime(2026, 12, 7, 19, 30, 0, 123456, tzinfo=UTC), id=uuid.uuid4())
    text = cursor.encode()
    assert Cursor.decode(text) == cursor
    assert "=" not in text and "+" not in text and "/" not in text


def test_a_cursor_the_orders_list_issued_before_the_codec_was_shared_still_reads():
    at, row_id = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), uuid.uuid4()
    legacy = base64.urlsafe_b64encode(json.dumps([at.isoformat(), str(row_id)]).encode()).decode().rstrip("=")
    assert Cursor.decode(legacy) == Cursor(at=at, id=row_id)


@pytest.mark.parametrize("text", ["not-a-cursor", "", base64.urlsafe_b64encode(b'{"t":"2026-01-01T00:00:00","id":"'
                                                                            + str(uuid.uuid4()).encode() + b'"}').decode(),
                                  base64.urlsafe_b64encode(b'{"t":"yesterday","id":"x"}').decode(),
                                  base64.urlsafe_b64encode(b"[1, 2, 3]").decode()])
def test_anything_else_is_an_invalid_cursor(text):
    with pytest.raises(InvalidCursor):
        Cursor.decode(text)
