"""The public route table: which service owns a path and which scope a caller needs for it.

One explicit table is the gateway's whole authorization policy; a path not listed here is 404 at the
edge, so a service's internal endpoints are never reachable from outside by accident.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PUBLIC = None  # no bearer token (the route protects itself, e.g. client credentials)
AUTHENTICATED = ""  # any valid token; the service enforces tenancy


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    service: str
    scope: str | None
    pattern: re.Pattern = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\{[^/}]+\}", "[^/]+", re.escape(self.template).replace(r"\{", "{").replace(r"\}", "}"))
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))

    @property
    def public(self) -> bool:
        return self.scope is None


ROUTES: tuple[Route, ...] = (
    Route("POST", "/v1/oauth/token", "auth", PUBLIC),
    Route("GET", "/.well-known/jwks.json", "auth", PUBLIC),
    Route("POST", "/v1/merchants", "auth", "admin"),
    Route("GET", "/v1/merchants", "auth", "admin"),
    Route("GET", "/v1/merchants/{merchant_id}", "auth", AUTHENTICATED),
    Route("POST", "/v1/clients", "auth", "admin"),
    Route("GET", "/v1/clients", "auth", "admin"),
    Route("DELETE", "/v1/clients/{client_id}", "auth", "admin"),
    Route("POST", "/v1/connections", "auth", "connections:write"),
    Route("GET", "/v1/connections", "auth", "connections:read"),
    # The marketplace sends the merchant's browser here without a token; the single-use state protects it.
    # Listed before the "{connection_id}" rows: the first pattern that fits wins.
    Route("GET", "/v1/connections/oauth/callback", "auth", PUBLIC),
    Route("GET", "/v1/connections/{connection_id}", "auth", "connections:read"),
    Route("PATCH", "/v1/connections/{connection_id}", "auth", "connections:write"),
    Route("GET", "/v1/connections/{connection_id}/settings/audit", "auth", "connections:read"),
    Route("DELETE", "/v1/connections/{connection_id}", "auth", "connections:write"),
    Route("POST", "/v1/connections/{connection_id}/sync", "orders", "connections:write"),
    Route("GET", "/v1/connections/{connection_id}/sync", "orders", "connections:read"),
    Route("POST", "/v1/webhooks/bigcommerce/{connection_id}", "orders", PUBLIC),
    Route("GET", "/v1/orders", "orders", "orders:read"),
    Route("GET", "/v1/orders/{order_id}", "orders", "orders:read"),
    Route("POST", "/v1/orders/{order_id}/shipments", "fulfilment", "fulfilment:write"),
    Route("POST", "/v1/orders/{order_id}/cancel", "orders", "orders:write"),
    Route("GET", "/v1/shipments/{shipment_id}", "fulfilment", "orders:read"),
)

SERVICES = ("auth", "orders", "listings", "fulfilment")


class RouteNotFound(LookupError):
    pass


class MethodNotAllowed(LookupError):
    def __init__(self, allowed: list[str]) -> None:
        super().__init__(allowed)
        self.allowed = allowed


def match(method: str, path: str, routes: tuple[Route, ...] = ROUTES) -> Route:
    candidates = [r for r in routes if r.pattern.match(path)]
    if not candidates:
        raise RouteNotFound(path)
    for route in candidates:
        if route.method == method:
            return route
    raise MethodNotAllowed(sorted({r.method for r in candidates}))
