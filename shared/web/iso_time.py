"""Date and date-time inputs that accept ISO 8601 text only.

Pydantic's lax mode reads a number (or numeric text such as `?updated_since=0.5`) as a Unix timestamp,
so a value the OpenAPI document calls `format: date-time` was silently taken as 1970. API inputs use
these types instead; a number is a 422 naming the field.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from pydantic import BeforeValidator

_NUMERIC = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def _iso_text(kind: str):
    def check(value):
        if isinstance(value, int | float) or (isinstance(value, str | bytes) and _NUMERIC.fullmatch(
                value.decode() if isinstance(value, bytes) else value)):
            raise ValueError(f"must be an ISO 8601 {kind}, not a number")
        return value

    return BeforeValidator(check)


IsoDatetime = Annotated[datetime, _iso_text("date-time")]
IsoDate = Annotated[date, _iso_text("date")]
