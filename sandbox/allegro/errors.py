"""Allegro-shaped error responses.

Allegro answers API errors with `ErrorsHolder` (`{"errors": [{code, message, details, path,
userMessage, metadata}]}`) and OAuth / bearer failures with `AuthError`
(`{"error", "error_description"}`). Raising either exception anywhere in a handler produces
exactly that body with the vendor media type.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

MEDIA_TYPE = "application/vnd.allegro.public.v1+json"

# `userMessage` is what Allegro localises by Accept-Language; two languages are enough to prove a
# client shows it verbatim instead of `message`.
_USER_MESSAGES = {
    "en-US": "The request contains incorrect data. Contact the author of the application.",
    "pl-PL": "Żądanie zawiera niepoprawne dane. Skontaktuj się z autorem aplikacji.",
}


class AllegroError(Exception):
    """One `ErrorsHolder` response; `path` names the offending field when there is one."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        path: str | None = None,
        user_message: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.path = path
        self.user_message = user_message
        self.headers = headers or {}

    def body(self, language: str = "en-US") -> dict[str, Any]:
        user_message = self.user_message or _USER_MESSAGES.get(language, _USER_MESSAGES["en-US"])
        error = {"code": self.code, "message": self.message, "details": None, "path": self.path, "userMessage": user_message}
        return {"errors": [error]}


class AuthError(Exception):
    """RFC 6749 style `{"error", "error_description"}`: token endpoint and bearer checks."""

    def __init__(self, status: int, error: str, description: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {error}: {description}")
        self.status = status
        self.error = error
        self.description = description
        self.headers = headers or {}

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def validation_error(message: str, path: str | None = None, status: int = 400) -> AllegroError:
    return AllegroError(status, "VALIDATION_ERROR", message, path=path)


def not_found(message: str) -> AllegroError:
    return AllegroError(404, "NOT_FOUND", message)


def language_of(request: Request) -> str:
    return request.headers.get("accept-language", "en-US").split(",")[0].strip() or "en-US"


def vendor_json(body: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status_code, headers=headers, media_type=MEDIA_TYPE)


async def allegro_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AllegroError)
    return vendor_json(exc.body(language_of(request)), exc.status, exc.headers)


async def auth_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """The token endpoint speaks plain JSON; REST resources send `AuthError` in the vendor type."""
    assert isinstance(exc, AuthError)
    headers = {"cache-control": "no-store", **exc.headers}
    if request.url.path.startswith("/auth/oauth/"):
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)
    return vendor_json(exc.body(), exc.status, headers)


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Unknown routes and wrong methods answer in Allegro's shape, not FastAPI's `detail`."""
    assert isinstance(exc, StarletteHTTPException)
    code = "NOT_FOUND" if exc.status_code == 404 else "METHOD_NOT_ALLOWED" if exc.status_code == 405 else "ERROR"
    error = AllegroError(exc.status_code, code, str(exc.detail))
    return vendor_json(error.body(language_of(request)), exc.status_code, dict(exc.headers or {}))
