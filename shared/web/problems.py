"""RFC 9457 problem+json for every error, with the offending field named for validation errors."""

from __future__ import annotations

from http import HTTPStatus

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.db.engine import is_statement_timeout

PROBLEM_JSON = "application/problem+json"


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
