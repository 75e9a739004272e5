"""The scopes an API client can hold; `admin` belongs only to clients without a merchant (tenant)."""

from __future__ import annotations

ADMIN = "admin"

KNOWN_SCOPES: frozenset[str] = frozenset({
    "connections:read",
    "connections:write",
    "orders:read",
    "orders:write",
    "listings:read",
    "listings:write",
    "fulfilment:write",
    ADMIN,
})


def format_scopes(scopes) -> str:
    """Space-separated, sorted: the form used in tokens and token responses (RFC 6749 §3.3)."""
    return " ".join(sorted(scopes))
