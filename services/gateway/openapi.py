"""One OpenAPI document for the public API, merged from the services' own documents.

Only operations in the route table are published, each with the OAuth scope the gateway enforces and
the problem answers the gateway itself gives on that route (401/403/429, upstream failures) beside the
ones the service documents. Schema names that two services define differently are prefixed with the
service name.
"""

from __future__ import annotations

import asyncio
import copy
import json

import httpx

from services.gateway.routes import ROUTES, Route
from shared.web.problems import PROBLEM_SCHEMA, problem_responses

_REF = "#/components/schemas/"

def _route_for(method: str, path: str) -> Route | None:
    return next((r for r in ROUTES if r.template == path and r.method == method.upper()), None)


def _rename_refs(node, renames: dict[str, str]):
    if isinstance(node, dict):
        return {k: (_REF + renames.get(v[len(_REF):], v[len(_REF):]) if k == "$ref" and isinstance(v, str)
                    and v.startswith(_REF) else _rename_refs(v, renames)) for k, v in node.items()}
    if isinstance(node, list):
        return [_rename_refs(v, renames) for v in node]
    return node


def edge_statuses(route: Route) -> list[int]:
    """What the gateway can answer on `route` before or instead of the service: the one place that says so."""
    # a raw path with dot segments or encoded separators; rate limit (per client, or per address on public
    # routes, and failed authentications at the token endpoint); the owning service down or too slow
    statuses = [400, 429, 503, 504]
    if route.method in ("POST", "PUT", "PATCH"):
        statuses.append(413)  # body over the limit
    if not route.public:
        statuses.append(401)  # no valid token (503 also covers signing keys unavailable)
        if route.scope:
            statuses.append(403)  # token without the route's scope
    return sorted(statuses)


def _with_edge_responses(operation: dict, route: Route) -> dict:
    responses = {str(status): body for status, body in problem_responses(*edge_statuses(route)).items()}
    responses.update(operation.get("responses", {}))  # the service's own wording wins for a shared status
    return {**operation, "responses": dict(sorted(responses.items()))}


def merge(documents: dict[str, dict], *, scopes: list[str]) -> dict:
    merged: dict = {
        "openapi": "3.1.0",
        "info": {"title": "ChannelBridge API", "version": "1.0.0",
                 "description": "One API for marketplace connections, orders, listings and fulfilment."},
        "paths": {},
        "components": {
            "schemas": {"Problem": PROBLEM_SCHEMA},
            "securitySchemes": {
                "oauth2": {"type": "oauth2", "flows": {"clientCredentials": {
                    "tokenUrl": "/v1/oauth/token", "scopes": {s: s for s in scopes}}}},
            },
        },
    }
    schemas = merged["components"]["schemas"]
    for service, doc in sorted(documents.items()):
        own = doc.get("components", {}).get("schemas", {})
        renames = {name: f"{service}_{name}" for name, body in own.items()
                   if name in schemas and schemas[name] != body}
        doc = _rename_refs(copy.deepcopy(doc), renames)
        for name, body in doc.get("components", {}).get("schemas", {}).items():
            schemas[renames.get(name, name)] = body
        for path, operations in doc.get("paths", {}).items():
            for method, operation in operations.items():
                route = _route_for(method, path)
                if route is None or route.service != service:
                    continue
                operation = _with_edge_responses(operation, route)
                operation["security"] = [] if route.public else [{"oauth2": [route.scope] if route.scope else []}]
                merged["paths"].setdefault(path, {})[method] = operation
    return merged


async def fetch_documents(http: httpx.AsyncClient, service_urls: dict[str, str]) -> dict[str, dict]:
    async def one(url: str) -> dict | None:
        try:
            response = await http.get(f"{url}/openapi.json", timeout=5.0)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, json.JSONDecodeError):
            return None

    results = await asyncio.gather(*(one(url) for url in service_urls.values()))
    return {name: doc for name, doc in zip(service_urls, results, strict=True) if doc is not None}
