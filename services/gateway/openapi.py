"""One OpenAPI document for the public API, merged from the services' own documents.

Only operations in the route table are published, each with the OAuth scope the gateway enforces.
Schema names that two services define differently are prefixed with the service name.
"""

from __future__ import annotations

import asyncio
import copy
import json

import httpx

from services.gateway.routes import ROUTES, Route

_REF = "#/components/schemas/"
PROBLEM_JSON = "application/problem+json"

# RFC 9457 problem details, as every service and the gateway answer errors.
PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string"}, "location": {"type": "string"}, "message": {"type": "string"}}}},
    },
    "additionalProperties": True,
}

# What any operation may answer besides its own documented results: the gateway's own refusals
# (400 path, 401/403 token and scope, 413 body, 429 limits, 503/504 service down or slow) and the
# services' (404 unknown or another tenant's, 409 state conflicts, 422 validation naming the field).
_ERRORS = {
    "400": "Malformed request (e.g. a path with dot segments or encoded separators)",
    "401": "Missing, invalid or expired credentials",
    "403": "The token lacks the scope this operation needs",
    "404": "No such resource, or it belongs to another tenant",
    "409": "The resource's state does not allow this",
    "413": "The request body is larger than this endpoint accepts",
    "422": "Invalid input; `errors` names each offending field",
    "429": "Rate limit or failed-authentication limit reached; see Retry-After",
    "503": "The service that owns this operation is unavailable; retry later",
    "504": "The service that owns this operation did not answer in time",
}


def _route_for(method: str, path: str) -> Route | None:
    return next((r for r in ROUTES if r.template == path and r.method == method.upper()), None)


def _rename_refs(node, renames: dict[str, str]):
    if isinstance(node, dict):
        return {k: (_REF + renames.get(v[len(_REF):], v[len(_REF):]) if k == "$ref" and isinstance(v, str)
                    and v.startswith(_REF) else _rename_refs(v, renames)) for k, v in node.items()}
    if isinstance(node, list):
        return [_rename_refs(v, renames) for v in node]
    return node


def merge(documents: dict[str, dict], *, scopes: list[str]) -> dict:
    merged: dict = {
        "openapi": "3.1.0",
        "info": {"title": "ChannelBridge API", "version": "1.0.0",
                 "description": "One API for marketplace connections, orders, listings and fulfilment."},
        "paths": {},
        "components": {
            "schemas": {},
            "securitySchemes": {
                "oauth2": {"type": "oauth2", "flows": {"clientCredentials": {
                    "tokenUrl": "/v1/oauth/token", "scopes": {s: s for s in scopes}}}},
            },
        },
    }
    schemas = merged["components"]["schemas"]
    schemas["Problem"] = PROBLEM_SCHEMA
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
                operation = dict(operation)
                operation["security"] = [] if route.public else [{"oauth2": [route.scope] if route.scope else []}]
                operation["responses"] = _with_problems(operation.get("responses", {}))
                merged["paths"].setdefault(path, {})[method] = operation
    return merged


def _with_problems(responses: dict) -> dict:
    """Every error an operation can answer, documented as problem+json (FastAPI's own 422 shape is not what we send)."""
    responses = dict(responses)
    for code, description in _ERRORS.items():
        existing = responses.get(code)
        if existing is None or "HTTPValidationError" in json.dumps(existing):
            responses[code] = {"description": description,
                               "content": {PROBLEM_JSON: {"schema": {"$ref": _REF + "Problem"}}}}
    return responses


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
