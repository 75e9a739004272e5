"""BigCommerce-shaped error responses.

BigCommerce answers in three shapes, and clients parse them differently:
- the V2 application (orders, store): a JSON *array* `[{"status": 404, "message": "..."}]` (spec `404_Resp`);
- the V3 application (hooks, catalog): an object `{"status", "title", "type", "errors"}` (spec `error_Full`);
- the API gateway in front of both (auth, scopes, rate limit): the V3 object shape even on V2 paths,
  e.g. `{"status":403,"title":"You don't have a required scope to access the endpoint",...}`.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

STATUS_CODES_URL = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"
NOT_FOUND_V2 = "The requested resource was not found."

Shape = Literal["v2", "v3"]


class BigCommerceError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        shape: Shape | None = None,
        errors: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.shape = shape
        self.errors = errors
        self.headers = headers or {}

    def body(self, path: str) -> Any:
        shape = self.shape or shape_for(path)
        if shape == "v2":
            return [{"status": self.status, "message": self.message}]
        body: dict[str, Any] = {"status": self.status, "title": self.message, "type": STATUS_CODES_URL}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def shape_for(path: str) -> Shape:
    """`/stores/{hash}/v2/...` answers like the V2 application, everything else like V3."""
    parts = path.strip("/").split("/")
    return "v2" if len(parts) > 2 and parts[0] == "stores" and parts[2] == "v2" else "v3"


def v2_bad_request(message: str) -> BigCommerceError:
    return BigCommerceError(400, message, shape="v2")


def v2_not_found() -> BigCommerceError:
    return BigCommerceError(404, NOT_FOUND_V2, shape="v2")


def gateway_error(status: int, title: str, headers: dict[str, str] | None = None) -> BigCommerceError:
    return BigCommerceError(status, title, shape="v3", errors={}, headers=headers)


def v3_unprocessable(errors: dict[str, str], title: str = "JSON data is missing or invalid") -> BigCommerceError:
    return BigCommerceError(422, title, shape="v3", errors=errors)


def error_response(request: Request, exc: BigCommerceError) -> JSONResponse:
    return JSONResponse(exc.body(request.url.path), status_code=exc.status, headers=exc.headers)


async def bigcommerce_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BigCommerceError)
    return error_response(request, exc)


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Unknown routes and wrong methods answer in BigCommerce's shape, not FastAPI's `detail`."""
    assert isinstance(exc, StarletteHTTPException)
    if request.url.path.startswith("/_sandbox/"):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
    message = NOT_FOUND_V2 if exc.status_code == 404 else str(exc.detail)
    error = BigCommerceError(exc.status_code, message, headers=dict(exc.headers or {}))
    return error_response(request, error)
