"""FastAPI app of the Allegro emulator: `uvicorn sandbox.allegro.app:app`.

One middleware does what cuts across every Allegro route: queued faults fire first (the edge
fails before auth), REST calls must accept `application/vnd.allegro.public.v1+json` (406
otherwise, as Allegro answers), every response carries a `trace-id` (what Allegro support asks
for), and each non-control request is logged so tests can assert on what the client sent.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sandbox.allegro import api, control, oauth, offers_api, offers_control
from sandbox.allegro.errors import (
    MEDIA_TYPE,
    AllegroError,
    AuthError,
    allegro_error_handler,
    auth_error_handler,
    http_error_handler,
    language_of,
    vendor_json,
)
from sandbox.allegro.state import AllegroState
from sandbox.faults import take_fault

CONTROL_PREFIX = "/_sandbox/"
OAUTH_PREFIX = "/auth/oauth/"
# Faults a handler consumes itself (they change what it does rather than failing at the edge).
IN_HANDLER_FAULTS = ("stale_revision", "offer_conflict")
NOT_ACCEPTABLE = "Not acceptable representation requested. Please check 'Accept' request header"


def accepts_vendor_type(accept: str) -> bool:
    return any(part.split(";")[0].strip().lower() == MEDIA_TYPE for part in accept.split(","))


async def apply_fault(state: AllegroState, path: str) -> tuple[str, Response | None] | None:
    """Consume the first edge fault matching `path`: sleep for `slow`, else build the response to send."""
    fault = take_fault(state.faults, lambda f: f.kind not in IN_HANDLER_FAULTS and path.startswith(f.path_prefix))
    if fault is None:
        return None
    if fault.kind == "slow":
        await asyncio.sleep(fault.delay_s)
        return fault.kind, None
    if fault.kind == "rate_limit":
        headers = {"retry-after": str(fault.retry_after)} if state.settings.retry_after_header else {}
        error = AllegroError(429, "TooManyRequestsException", "Too many requests")
        return fault.kind, vendor_json(error.body(), 429, headers)
    if path.startswith(OAUTH_PREFIX):
        body = {"error": "server_error", "error_description": "The server encountered an unexpected condition"}
        return fault.kind, JSONResponse(body, status_code=fault.status)
    error = AllegroError(fault.status, "InternalServerError", "Internal Server Error")
    return fault.kind, vendor_json(error.body(), fault.status)


def create_app(state: AllegroState | None = None) -> FastAPI:
    app = FastAPI(
        title="Allegro REST API sandbox", docs_url="/_sandbox/allegro/docs", openapi_url="/_sandbox/allegro/openapi.json"
    )
    app.state.allegro = state or AllegroState()
    app.add_exception_handler(AllegroError, allegro_error_handler)
    app.add_exception_handler(AuthError, auth_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.include_router(oauth.router)
    app.include_router(api.router)
    app.include_router(control.router)
    app.include_router(offers_api.router)
    app.include_router(offers_control.router)

    @app.middleware("http")
    async def allegro_edge(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        if path.startswith(CONTROL_PREFIX):
            return await call_next(request)
        world: AllegroState = request.app.state.allegro
        fired = await apply_fault(world, path)
        fault_kind, response = fired if fired else (None, None)
        if response is None:
            needs_vendor_type = not path.startswith(OAUTH_PREFIX) and world.settings.require_vendor_accept
            if needs_vendor_type and not accepts_vendor_type(request.headers.get("accept", "")):
                error = AllegroError(406, "NotAcceptableException", NOT_ACCEPTABLE)
                response = vendor_json(error.body(language_of(request)), 406)
            else:
                response = await call_next(request)
        response.headers["trace-id"] = secrets.token_hex(8)
        world.request_log.append(
            {
                "at": world.now(),
                "method": request.method,
                "path": path,
                "query": request.url.query,
                "params": {k: request.query_params.getlist(k) for k in request.query_params},
                "accept": request.headers.get("accept"),
                "authorization": request.headers.get("authorization", "").split(" ")[0] or None,
                "user_id": _token_user(world, request),
                "status": response.status_code,
                "fault": fault_kind,
            }
        )
        return response

    return app


def _token_user(world: AllegroState, request: Request) -> str | None:
    """Whose bearer token made the call, so tests can count one seller's calls beside other sellers'."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    token = world.access_tokens.get(value.strip()) if scheme.lower() == "bearer" else None
    return token.user_id if token is not None else None


app = create_app()
