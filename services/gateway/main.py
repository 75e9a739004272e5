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
from starlette.responses import Response
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from services.gateway import openapi
from services.gateway.failed_auth import token_client_id
from services.gateway.paths import PathGuardMiddleware
from services.gateway.proxy import forward, upstream_headers, upstream_url
from services.gateway.ratelimit import RateLimiter
from services.gateway.routes import SERVICES, MethodNotAllowed, RouteNotFound, match
from services.gateway.tokens import InvalidToken, TokenVerifier
from shared.heap import freeze_startup_objects
from shared.logging import configure_logging
from shared.settings import Settings, get_settings
from shared.web.body_limit import TOKEN_PATH, BodyLimitMiddleware, BodyLimits
from shared.web.health import healthz, metrics
from shared.web.identity import REQUEST_ID, identity_headers
from shared.web.middleware import RequestContextMiddleware
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
        async with httpx.AsyncClient(limits=limits, timeout=timeout) as http:
            app.state.http = http
            app.state.verifier = TokenVerifier(http, f"{urls['auth']}/.well-known/jwks.json",
                                               issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                                               cache_ttl_s=settings.jwks_cache_ttl_s)
            app.state.limiter = RateLimiter(settings.rate_limit, settings.rate_limit_storage_uri)
            app.state.failed_auth = RateLimiter(settings.failed_auth_limit, settings.rate_limit_storage_uri,
                                                storage=app.state.limiter.storage)
            freeze_startup_objects()
            yield

    app = FastAPI(title="ChannelBridge gateway", lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    app.state.settings = settings
    # Innermost first: the body limit, the path check, the caller's address, then request ids around all.
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

    # OPTIONS too, so that the route table (not Starlette) answers 405 with the path's real Allow list.
    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
                   include_in_schema=False)
    async def gateway(request: Request) -> Response:
        try:
            route = match(request.method, request.url.path)
        except RouteNotFound:
            return problem_response(404, f"no route for {request.url.path}", type_="not-found")
        except MethodNotAllowed as exc:
            return problem_response(405, f"{request.method} not allowed here", headers={"Allow": ", ".join(exc.allowed)})

        identity = None
        if route.public:
            # The peer, or the first untrusted address in X-Forwarded-For when the peer is a trusted proxy.
            limit_key = f"ip:{request.client.host if request.client else 'unknown'}"
        else:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return _unauthorized("a bearer token is required")
            try:
                identity = await request.app.state.verifier.verify(token.strip())
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

        retry_after = await request.app.state.limiter.acquire(limit_key)
        if retry_after is not None:
            return problem_response(429, "rate limit exceeded", type_="rate-limited",
                                    headers={"Retry-After": str(retry_after)})
        url = upstream_url(urls[route.service], request)
        extra: dict[str, str] = {}
        if identity is not None:
            extra = identity_headers(settings.internal_secret.get_secret_value(), identity,
                                     request.headers.get(REQUEST_ID, ""), method=request.method,
                                     target=url.raw_path.decode("ascii"))
        headers = upstream_headers(request, keep_authorization=route.public, extra=extra)
        if route.template == TOKEN_PATH:
            return await _token_request(request, url, headers)
        return await forward(request.app.state.http, request, url, headers)

    async def _token_request(request: Request, url: httpx.URL, headers: list[tuple[str, str]]) -> Response:
        """Forward a token request unless its client id has used up its failed authentications."""
        body = await request.body()  # at most CB_MAX_TOKEN_BODY_BYTES
        client_id = token_client_id(request.headers.get("authorization"), body)
        key = f"auth-failures:{client_id[:128]}" if client_id else None
        if key is not None and (retry_after := await request.app.state.failed_auth.exhausted(key)) is not None:
            log.info("gateway.failed_auth_limited", client_id=client_id[:128])
            return problem_response(429, "too many failed authentications for this client id; retry later",
                                    type_="failed-auth-limited", headers={"Retry-After": str(retry_after)})
        response = await forward(request.app.state.http, request, url, headers, body=body)
        if key is not None and response.status_code == 401:
            await request.app.state.failed_auth.record(key)
        return response

    return app


def _unauthorized(detail: str) -> Response:
    return problem_response(401, detail, type_="unauthorized", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


app = create_app()
