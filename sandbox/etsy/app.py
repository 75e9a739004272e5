"""FastAPI app of the Etsy emulator: `uvicorn sandbox.etsy.app:app`.

One middleware does what cuts across every Etsy route: queued faults fire before any
handler (Etsy's edge fails before auth too), rate-limit headers set by the api-key check are
copied onto every response, and each non-control request is logged so tests can assert on
what the client actually sent (e.g. "no retry after a 400").
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sandbox.etsy import api, control, listings_api, listings_control, oauth, profiles_api
from sandbox.etsy.errors import EtsyError, etsy_error_handler, http_error_handler
from sandbox.etsy.state import EtsyState
from sandbox.faults import take_fault

CONTROL_PREFIX = "/_sandbox/"


async def apply_fault(state: EtsyState, path: str) -> tuple[str, EtsyError | None] | None:
    """Consume the first fault matching `path`: sleep for `slow`, else return the error to send."""
    fault = take_fault(state.faults, lambda f: path.startswith(f.path_prefix))
    if fault is None:
        return None
    if fault.kind == "slow":
        await asyncio.sleep(fault.delay_s)
        return fault.kind, None
    if fault.kind == "rate_limit":
        message = "You have exceeded your quota of requests; please retry later."
        return fault.kind, EtsyError(429, message, headers={"retry-after": str(fault.retry_after)})
    message = "Service Unavailable" if fault.status == 503 else "Internal Server Error"
    return fault.kind, EtsyError(fault.status, message)


def create_app(state: EtsyState | None = None) -> FastAPI:
    app = FastAPI(
        title="Etsy Open API v3 sandbox", docs_url="/_sandbox/etsy/docs", openapi_url="/_sandbox/etsy/openapi.json"
    )
    app.state.etsy = state or EtsyState()
    app.add_exception_handler(EtsyError, etsy_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.include_router(oauth.router)
    app.include_router(api.router)
    app.include_router(listings_api.router)
    app.include_router(profiles_api.router)
    app.include_router(control.router)
    app.include_router(listings_control.router)

    @app.middleware("http")
    async def etsy_edge(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        if path.startswith(CONTROL_PREFIX):
            return await call_next(request)
        world: EtsyState = request.app.state.etsy
        fired = await apply_fault(world, path)
        fault_kind, error = fired if fired else (None, None)
        if error is not None:
            response: Response = JSONResponse(error.body(), status_code=error.status, headers=error.headers)
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
                "status": response.status_code,
                "fault": fault_kind,
            }
        )
        return response

    return app


app = create_app()
