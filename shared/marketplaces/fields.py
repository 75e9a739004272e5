"""Readers for marketplace payload fields whose errors name the field (`shipping_address.city is missing`).

Every mapper validates by hand, field by field, so that one bad order is rejected with a reason a merchant
can act on while the rest of its page is imported; these are the readers all three mappers share.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def field_path(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def required(obj: Mapping[str, Any], name: str, path: str = "") -> Any:
    if obj.get(name) is None:
        raise ValueError(f"{field_path(path, name)} is missing")
    return obj[name]


def integer(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where} must be an integer, got {value!r}")
    return value


def positive_int(obj: Mapping[str, Any], name: str, path: str = "") -> int:
    value = integer(required(obj, name, path), field_path(path, name))
    if value < 1:
        raise ValueError(f"{field_path(path, name)} must be positive, got {value}")
    return value


def optional_str(obj: Mapping[str, Any], name: str, path: str = "") -> str | None:
    """Strings as given, with blank ones (marketplaces send "" as often as null) read as absent."""
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{field_path(path, name)} must be a string, got {type(value).__name__}")
    return value.strip() or None
