"""The gateway app: `uvicorn services.gateway.main:app`.

Every public request goes through `gateway`: match the route table, authenticate (JWT verified
locally), authorize the route's scope, rate-limit per client, then stream it to the owning service
with the caller's identity in signed headers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import structlog
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from services.gateway import openapi
from services.gateway.failed_auth import token_client_id
from services.gateway.paths import PathGuardMiddleware
from services.gateway.proxy import UpstreamClient, upstream_headers
from services.gateway.ratelimit import RateLimiter
from services.gateway.routes import SERVICES, MethodNotAllowed, RouteNotFound, match
from services.gateway.tokens import InvalidToken, TokenVerifier
from shared.heap import freeze_startup_objects
from shared.logging import configure_logging
from shared.settings import Settings, get_settings
from shared.web.body_limit import TOKEN_PATH, BodyLimitMiddleware, BodyLimits
from shared.web.health import healthz, metrics
from shared.web.identity import REQUEST_ID, identity_headers, request_target
from shared.web.middleware import ProblemOnUnhandledError, RequestContextMiddleware
from shared.web.problems import install_problem_handlers, problem_response

log = structlog.get_logger(__name__)

SCOPES = ["connections:read", "connections:write", "orders:read", "orders:write", "listings:read",
          "listings:write", "fulfilment:write", "admin"]


def service_urls(settings: Settings) -> dict[str, str]:
    return {name: getattr(settings, f"{name}_url").rstrip("/") for name in SERVICES}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = (settings or get_settings()).model_copy(update={"service_name": "gateway"})
    urls = service_urls(settings)
    trusted_proxies = settings.trusted_proxy_networks()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("gateway", settings.log_level)
        settings.require_secrets("internal_secret")
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
        timeout = httpx.Timeout(settings.upstream_timeout_s, connect=5.0)
        upstream = UpstreamClient(timeout_s=settings.upstream_timeout_s)
        async with httpx.AsyncClient(limits=limits, timeout=timeout) as http:
            app.state.http = http  # JWKS, /readyz and OpenAPI: low-rate calls
            app.state.upstream = upstream  # proxied requests
            app.state.verifier = TokenVerifier(http, f"{urls['auth']}/.well-known/jwks.json",
                                               issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                                               cache_ttl_s=settings.jwks_cache_ttl_s)
            app.state.limiter = RateLimiter(settings.rate_limit, settings.rate_limit_storage_uri)
            app.state.failed_auth = RateLimiter(settings.failed_auth_limit, settings.rate_limit_storage_uri,
                                                storage=app.state.limiter.storage)
            freeze_startup_objects()
            try:
                yield
            finally:
                await upstream.aclose()

    app = FastAPI(title="ChannelBridge gateway", lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    app.state.settings = settings
    # Innermost first: unhandled errors as problems, the body limit, the path check, the caller's address,
    # then request ids around all.
    app.add_middleware(ProblemOnUnhandledError)
    app.add_middleware(BodyLimitMiddleware, limits=BodyLimits.from_settings(settings))
    app.add_middleware(PathGuardMiddleware)
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=trusted_proxies)
    app.add_middleware(RequestContextMiddleware, service="gateway")
    install_problem_handlers(app)
    app.add_api_route("/healthz", healthz, include_in_schema=False)
    app.add_api_route("/metrics", metrics, include_in_schema=False)

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        """Ready when the gateway's own dependency (the rate-limit storage) answers.

        Services are not probed: one of them down or hung must not take every gateway replica out of the
        Kubernetes Service; its routes answer 503 problems instead while the others keep working.
        """
        ok = await request.app.state.limiter.storage_ok()
        return JSONResponse({"status": "ready" if ok else "not ready",
                             "checks": {"rate_limit_storage": "ok" if ok else "unreachable"}},
                            status_code=200 if ok else 503)

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_document(request: Request) -> JSONResponse:
        documents = await openapi.fetch_documents(request.app.state.http, urls)
        return JSONResponse(openapi.merge(documents, scopes=SCOPES))

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="ChannelBridge API")

    # Registered as a raw ASGI endpoint: the app's middleware still wraps it, but no Request object,
    # dependency solving or StreamingResponse task group is built per proxied request.
    app.add_route("/{path:path}", Gateway(settings, urls), include_in_schema=False)
    return app


class Gateway:
    """Every public request: match the route table, authenticate, authorize the scope, rate-limit, forward."""

    def __init__(self, settings: Settings, urls: dict[str, str]) -> None:
        self._secret = settings.internal_secret.get_secret_value()
        self._urls = urls

    async def __call__(self, scope, receive, send) -> None:
        response = await self._refusal_or_forward(scope, receive, send)
        if response is not None:
            await response(scope, receive, send)

    async def _refusal_or_forward(self, scope, receive, send) -> Response | None:
        method, path, state = scope["method"], scope["path"], scope["app"].state
        try:
            route = match(method, path)
        except RouteNotFound:
            return problem_response(404, f"no route for {path}", type_="not-found")
        except MethodNotAllowed as exc:
            return problem_response(405, f"{method} not allowed here", headers={"Allow": ", ".join(exc.allowed)})

        identity = None
        if route.public:
            # The peer, or the first untrusted address in X-Forwarded-For when the peer is a trusted proxy.
            limit_key = f"ip:{scope['client'][0] if scope.get('client') else 'unknown'}"
        else:
            authorization, request_id = _header(scope, b"authorization"), _header(scope, REQUEST_ID.encode())
            scheme, _, token = authorization.partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token:
                return _unauthorized("a bearer token is required")
            try:
                identity = await state.verifier.verify(token)
            except InvalidToken as exc:
                log.info("gateway.token_rejected", reason=str(exc))
                return _unauthorized("the bearer token is invalid or expired")
            except httpx.HTTPError:
                return problem_response(503, "signing keys unavailable", type_="auth-unavailable")
            if route.scope and route.scope not in identity.scopes:
                return problem_response(
                    403, f"this operation needs the {route.scope!r} scope", type_="insufficient-scope",
                    headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{route.scope}"'})
            limit_key = f"client:{identity.client_id}"

        retry_after = await state.limiter.acquire(limit_key)
        if retry_after is not None:
            return problem_response(429, "rate limit exceeded", type_="rate-limited",
                                    headers={"Retry-After": str(retry_after)})
        extra: dict[str, str] = {}
        if identity is not None:
            target = request_target(scope["raw_path"], scope["query_string"])
            extra = identity_headers(self._secret, identity, request_id, method=method, target=target)
        headers = upstream_headers(scope, keep_authorization=route.public, extra=extra)
        base_url = self._urls[route.service]
        if route.template == TOKEN_PATH:
            return await self._token_request(scope, receive, send, base_url, headers)
        await state.upstream.forward(scope, receive, send, base_url, headers)
        return None

    async def _token_request(self, scope, receive, send, base_url: str, headers) -> Response | None:
        """Forward a token request unless its client id has used up its failed authentications."""
        state = scope["app"].state
        body = await _read_body(receive)  # at most CB_MAX_TOKEN_BODY_BYTES (the body limit runs first)
        client_id = token_client_id(_header(scope, b"authorization"), body)
        key = f"auth-failures:{client_id[:128]}" if client_id else None
        if key is not None and (retry_after := await state.failed_auth.exhausted(key)) is not None:
            log.info("gateway.failed_auth_limited", client_id=client_id[:128])
            return problem_response(429, "too many failed authentications for this client id; retry later",
                                    type_="failed-auth-limited", headers={"Retry-After": str(retry_after)})
        status = await state.upstream.forward(scope, receive, send, base_url, headers, body=body)
        if key is not None and status == 401:
            await state.failed_auth.record(key)
        return None


async def _read_body(receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _header(scope, name: bytes) -> str:
    """The first value of header `name` (lower-case), without building a headers mapping per request."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return ""


def _unauthorized(detail: str) -> Response:
    return problem_response(401, detail, type_="unauthorized", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


app = create_app()
