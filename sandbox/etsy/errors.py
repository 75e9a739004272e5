"""Etsy-shaped error responses.

Etsy answers `{"error": "..."}` (`ErrorSchema`) on API errors and RFC 6749 style
`{"error": code, "error_description": ...}` on OAuth errors; raising `EtsyError` anywhere in a
handler or dependency produces exactly that body, plus any headers (e.g. `retry-after`).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class EtsyError(Exception):
    def __init__(
        self,
        status: int,
        error: str,
        description: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {error}: {description or ''}")
        self.status = status
        self.error = error
        self.description = description
        self.headers = headers or {}

    def body(self) -> dict[str, str]:
        body = {"error": self.error}
        if self.description is not None:
            body["error_description"] = self.description
        return body


def bad_request(message: str) -> EtsyError:
    return EtsyError(400, message)


def not_found(message: str) -> EtsyError:
    return EtsyError(404, message)


async def etsy_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, EtsyError)
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


async def http_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    """Unknown routes and wrong methods answer in Etsy's shape, not FastAPI's `detail`."""
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)
