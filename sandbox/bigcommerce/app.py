"""FastAPI app of the BigCommerce emulator: `uvicorn sandbox.bigcommerce.app:app`.

One middleware does what cuts across every API route: queued faults fire before any handler
(BigCommerce's edge fails before auth too), the `X-Rate-Limit-*` headers computed by the
gateway check are copied onto every response, and each non-control request is logged so tests
can assert on what the client actually sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sandbox.bigcommerce import catalog_api, catalog_control, control, hooks_api, inventory_api, orders_api, store_api
from sandbox.bigcommerce.errors import BigCommerceError, bigcommerce_error_handler, http_error_handler, shape_for
from sandbox.bigcommerce.state import BigCommerceState
from sandbox.faults import take_fault

CONTROL_PREFIX = "/_sandbox/"
SERVER_ERROR_TITLES = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


async def apply_fault(state: BigCommerceState, path: str) -> tuple[str, BigCommerceError | None] | None:
    """Consume the first fault matching `path`: sleep for `slow`, else return the error to send."""
    fault = take_fault(state.faults, lambda f: path.startswith(f.path_prefix))
    if fault is None:
        return None
    if fault.kind == "slow":
        await asyncio.sleep(fault.delay_s)
        return fault.kind, None
    if fault.kind == "rate_limit":
        # Platform load shedding: a 429 carrying only the reset header (api-rate-limits.mdx).
        headers = {"X-Rate-Limit-Time-Reset-Ms": str(fault.reset_ms)}
        if fault.with_quota_headers:
            headers |= {
                "X-Rate-Limit-Time-Window-Ms": str(state.settings.rate_limit_window_ms),
                "X-Rate-Limit-Requests-Left": "0",
            }
            headers["X-Rate-Limit-Requests-Quota"] = str(state.settings.rate_limit_quota)
        return fault.kind, BigCommerceError(429, "Too many requests", shape="v3", errors={}, headers=headers)
    title = SERVER_ERROR_TITLES.get(fault.status, "Server Error")
    return fault.kind, BigCommerceError(fault.status, title, shape=shape_for(path))


def create_app(state: BigCommerceState | None = None) -> FastAPI:
    app = FastAPI(
        title="BigCommerce REST Management API sandbox",
        docs_url="/_sandbox/bigcommerce/docs",
        openapi_url="/_sandbox/bigcommerce/openapi.json",
    )
    app.state.bigcommerce = state or BigCommerceState()
    app.add_exception_handler(BigCommerceError, bigcommerce_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.include_router(orders_api.router)
    app.include_router(store_api.router)
    app.include_router(hooks_api.router)
    app.include_router(catalog_api.router)
    app.include_router(inventory_api.router)
    app.include_router(control.router)
    app.include_router(catalog_control.router)

    @app.middleware("http")
    async def bigcommerce_edge(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        if path.startswith(CONTROL_PREFIX):
            return await call_next(request)
        world: BigCommerceState = request.app.state.bigcommerce
        fired = await apply_fault(world, path)
        fault_kind, error = fired if fired else (None, None)
        if error is not None:
            response: Response = JSONResponse(error.body(path), status_code=error.status, headers=error.headers)
        else:
            response = await call_next(request)
            for name, value in getattr(request.state, "rate_headers", {}).items():
                response.headers.setdefault(name, value)
        world.request_log.append(
            {
                "at": world.now(),
                "method": request.method,
                "path": path,
                "query": request.url.query,
                "params": dict(request.query_params),
                "client_id": getattr(request.state, "client_id", None),
                "status": response.status_code,
                "fault": fault_kind,
            }
        )
        return response

    return app


app = create_app()
