"""RFC 9457 problem+json for every error, with the offending field named for validation errors.

Also how those answers are documented: one `Problem` schema, `problem_responses(...)` for a route's
`responses=`, and `install_problem_docs` for what every route can give (422 as problem+json, 500).
"""

from __future__ import annotations

from http import HTTPStatus

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.db.engine import is_statement_timeout

PROBLEM_JSON = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"

PROBLEM_SCHEMA: dict = {
    "title": "Problem",
    "description": "An RFC 9457 problem document; `type` is a stable slug URL to branch on.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "examples": ["https://channelbridge.dev/problems/not-found"]},
        "title": {"type": "string", "examples": ["Not Found"]},
        "status": {"type": "integer", "examples": [404]},
        "detail": {"type": "string", "examples": ["order 0b8c7d0e-4f6a-4a53-9c39-2f4ad1f5c0de not found"]},
        "errors": {
            "type": "array", "description": "validation errors only: each field at fault",
            "items": {"type": "object", "required": ["field", "location", "message"], "properties": {
                "field": {"type": "string", "examples": ["tracking_number"]},
                "location": {"type": "string", "description": "body, query, path or header"},
                "message": {"type": "string"},
            }},
        },
        "request_id": {"type": "string", "description": "500 only: quote it when reporting the error"},
    },
    "additionalProperties": True,
}

# What each status means in this API; a route lists the statuses, never re-describes them.
MEANINGS: dict[int, str] = {
    400: "The request cannot be completed as sent (the problem names the parameter at fault).",
    401: "No valid credentials: a bearer token (or, for webhooks, a valid signature) is required.",
    403: "The bearer token lacks the scope this operation needs.",
    404: "Not found, or not visible to the caller's merchant (the two look the same).",
    409: "The resource's current state does not allow this operation.",
    413: "The request body is larger than the API accepts.",
    422: "A field is invalid; `errors` names each field at fault.",
    429: "Rate limit exceeded: retry after the `Retry-After` seconds.",
    500: "An unexpected error; its details are logged, not answered. Quote `request_id` when reporting it.",
    502: "The marketplace (or an upstream service) refused or failed the call.",
    503: "A dependency (marketplace, signing keys) is unavailable for now; retry later.",
    504: "An upstream service did not answer in time.",
}


class Problem(HTTPException):
    """An HTTP error with a machine-readable `type` slug and optional extra members."""

    def __init__(self, status: int, detail: str, *, type_: str | None = None, headers: dict[str, str] | None = None,
                 **extra) -> None:
        super().__init__(status, detail, headers=headers)
        self.type_ = type_
        self.extra = extra


def problem_response(status: int, detail: str, *, type_: str | None = None, headers=None, **extra) -> JSONResponse:
    body = {
        "type": f"https://channelbridge.dev/problems/{type_}" if type_ else "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def problem_responses(*statuses: int) -> dict[int, dict]:
    """`responses=` entries documenting that a route can answer these statuses as problem+json."""
    return {status: {"description": MEANINGS.get(status, HTTPStatus(status).phrase),
                     "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}} for status in statuses}


def install_problem_docs(app: FastAPI) -> None:
    """Make the app's OpenAPI document show its error answers as they are sent: problem+json, one schema.

    Every operation can answer 500; FastAPI's default 422 (its own `HTTPValidationError` as JSON) becomes
    ours. The statuses a route gives for its own reasons it lists itself with `problem_responses(...)`.
    Authentication (401/403) and rate limits (429) are the gateway's, documented when it merges.
    """
    generate = app.openapi

    def openapi() -> dict:
        document = generate()  # cached by FastAPI; the edits below are idempotent
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                if _is_fastapi_validation_error(responses.get("422")):
                    responses.update({"422": problem_responses(422)[422]})
                responses.setdefault("500", problem_responses(500)[500])
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = PROBLEM_SCHEMA
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        return document

    app.openapi = openapi


def _is_fastapi_validation_error(response: dict | None) -> bool:
    schema = (response or {}).get("content", {}).get("application/json", {}).get("schema", {})
    return schema.get("$ref", "").endswith("/HTTPValidationError")


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException):
        type_ = getattr(exc, "type_", None)
        extra = getattr(exc, "extra", {})
        return problem_response(exc.status_code, str(exc.detail), type_=type_, headers=exc.headers, **extra)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError):
        errors = [
            {"field": ".".join(str(p) for p in err["loc"] if p not in ("body", "query", "path", "header")) or "body",
             "location": str(err["loc"][0]) if err["loc"] else "body",
             "message": err["msg"]}
            for err in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem_response(422, detail, type_="validation-error", errors=errors)

    @app.exception_handler(DBAPIError)
    async def database_error(_request: Request, exc: DBAPIError):
        """A statement cancelled by `statement_timeout` is the database being slow, not a bug: 503, retry later."""
        if is_statement_timeout(exc):
            return problem_response(503, "the database did not answer in time", type_="database-timeout",
                                    headers={"Retry-After": "1"})
        raise exc
