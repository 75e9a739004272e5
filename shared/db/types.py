"""Column types shared by every service's tables."""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa


class StatusText(sa.types.TypeDecorator):
    """A status column: plain `text` in the database (adding a status needs no migration), its `StrEnum`
    in Python. Reads come back as members; writing a value outside the enum fails before any SQL is sent."""

    impl = sa.Text
    cache_ok = True

    def __init__(self, enum: type[StrEnum]) -> None:
        super().__init__()
        self.enum = enum

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        try:
            return self.enum(value).value
        except ValueError:
            raise ValueError(f"status {value!r} is not a {self.enum.__name__}: one of {', '.join(self.enum)}") from None

    def process_result_value(self, value, dialect):
        return None if value is None else self.enum(value)
