"""HTTP routes of the auth service: the token endpoint and JWKS (public), merchants and clients (admin).

The token endpoint answers in RFC 6749 §5.2 JSON, not problem+json, because OAuth client libraries
parse that shape; everything else answers errors as problem+json.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth import keys, service
from services.auth.errors import (
    BadCallback,
    ConnectionNotActive,
    InvalidField,
    MarketplaceRefused,
    MarketplaceUnavailable,
    NotFound,
    OAuthError,
)
from services.auth.oauth import FORM_CONTENT_TYPE, GRANT_TYPE, read_token_request
from services.auth.pagination import DEFAULT_LIMIT, MAX_LIMIT
from services.auth.schemas import (
    ClientCreated,
    ClientIn,
    ClientPage,
    Jwks,
    MerchantIn,
    MerchantOut,
    MerchantPage,
    TokenError,
    TokenOut,
)
from services.auth.scopes import ADMIN
from shared.web.identity import Identity, current_identity, require_scope
from shared.web.problems import problem_response, problem_responses
from shared.web.service_app import db_session

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
REALM = 'Basic realm="channelbridge"'

oauth_router = APIRouter(tags=["oauth"])
merchants_router = APIRouter(prefix="/v1/merchants", tags=["merchants"])
clients_router = APIRouter(prefix="/v1/clients", tags=["clients"])

admin_only = require_scope(ADMIN)

_TOKEN_FORM = {
    "requestBody": {
        "required": True,
        "content": {FORM_CONTENT_TYPE: {"schema": {
            "type": "object",
            "required": ["grant_type"],
            "properties": {
                "grant_type": {"type": "string", "enum": [GRANT_TYPE]},
                "client_id": {"type": "string", "description": "unless sent with HTTP Basic"},
                "client_secret": {"type": "string", "description": "unless sent with HTTP Basic"},
                "scope": {"type": "string", "description": "space-separated; default: all the client's scopes"},
            },
        }, "example": {"grant_type": GRANT_TYPE, "client_id": "cb_live_3f9a1c", "client_secret": "s3cr3t-from-createClient",
                       "scope": "orders:read fulfilment:write"}}},
    },
}
# OAuth errors keep RFC 6749's shape (client libraries parse it); a NUL character in any field is refused
# before the grant is read, as everywhere, with a 422 problem naming the field.
_TOKEN_ERRORS = {**{code: {"model": TokenError} for code in (400, 401)}, **problem_responses(422)}


def _oauth_error(exc: OAuthError) -> JSONResponse:
    headers = dict(NO_STORE)
    if exc.status == status.HTTP_401_UNAUTHORIZED:
        headers["WWW-Authenticate"] = REALM
    return JSONResponse({"error": exc.error, "error_description": exc.description}, status_code=exc.status,
                        headers=headers)


@oauth_router.post("/v1/oauth/token", operation_id="createToken", response_model=TokenOut, responses=_TOKEN_ERRORS,
                   openapi_extra=_TOKEN_FORM, summary="Client credentials grant (RFC 6749 §4.4)")
async def token(request: Request, session: AsyncSession = Depends(db_session)) -> Response:
    try:
        token_request = await read_token_request(request)
        issued = await service.issue_token(session, request.app.state.signing_key, request.app.state.settings,
                                           request.app.state.secret_hasher, token_request)
    except OAuthError as exc:
        return _oauth_error(exc)
    body = TokenOut(access_token=issued.access_token, expires_in=issued.expires_in, scope=issued.scope)
    return JSONResponse(body.model_dump(), headers=NO_STORE)


@oauth_router.get("/.well-known/jwks.json", operation_id="getJwks", response_model=Jwks,
                  summary="Public keys that verify access tokens")
async def jwks(request: Request, response: Response, session: AsyncSession = Depends(db_session)) -> dict:
    settings = request.app.state.settings
    response.headers["Cache-Control"] = f"max-age={settings.jwks_cache_ttl_s}"
    return await keys.public_jwks(session, access_token_ttl_s=settings.access_token_ttl_s,
                                  jwks_cache_ttl_s=settings.jwks_cache_ttl_s)


# --- merchants ---

@merchants_router.post("", operation_id="createMerchant", status_code=status.HTTP_201_CREATED, response_model=MerchantOut,
                       dependencies=[Depends(admin_only)])
async def create_merchant(body: MerchantIn, session: AsyncSession = Depends(db_session)) -> dict:
    return dict(await service.create_merchant(session, body.name))


@merchants_router.get("", operation_id="listMerchants", response_model=MerchantPage, dependencies=[Depends(admin_only)])
async def list_merchants(cursor: str | None = None, limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
                         session: AsyncSession = Depends(db_session)) -> dict:
    page = await service.list_merchants(session, cursor, limit)
    return {"items": [dict(row) for row in page.items], "next_cursor": page.next_cursor}


@merchants_router.get("/{merchant_id}", operation_id="getMerchant", response_model=MerchantOut,
                      responses=problem_responses(404))
async def get_merchant(merchant_id: uuid.UUID, identity: Identity = Depends(current_identity),
                       session: AsyncSession = Depends(db_session)) -> dict:
    return dict(await service.get_merchant(session, identity, merchant_id))


# --- API clients ---

@clients_router.post("", operation_id="createClient", status_code=status.HTTP_201_CREATED, response_model=ClientCreated,
                     dependencies=[Depends(admin_only)])
async def create_client(body: ClientIn, request: Request, response: Response,
                        session: AsyncSession = Depends(db_session)) -> dict:
    created = await service.create_client(session, request.app.state.secret_hasher, name=body.name,
                                          merchant_id=body.merchant_id, scopes=body.scopes)
    response.headers.update(NO_STORE)
    return {**created.client, "client_secret": created.client_secret}


@clients_router.get("", operation_id="listClients", response_model=ClientPage, dependencies=[Depends(admin_only)])
async def list_clients(merchant_id: uuid.UUID | None = None, cursor: str | None = None,
                       limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
                       session: AsyncSession = Depends(db_session)) -> dict:
    page = await service.list_clients(session, merchant_id, cursor, limit)
    return {"items": [dict(row) for row in page.items], "next_cursor": page.next_cursor}


@clients_router.delete("/{client_id}", operation_id="deleteClient", status_code=status.HTTP_204_NO_CONTENT,
                       dependencies=[Depends(admin_only)], responses=problem_responses(404),
                       summary="Disable the client: no more tokens are issued to it")
async def disable_client(client_id: uuid.UUID, session: AsyncSession = Depends(db_session)) -> Response:
    await service.disable_client(session, client_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


ROUTERS = [oauth_router, merchants_router, clients_router]


def install_error_handlers(app: FastAPI) -> None:
    """Answer the use cases' refusals as problem+json naming the thing or field at fault."""

    @app.exception_handler(NotFound)
    async def not_found(_request: Request, exc: NotFound) -> JSONResponse:
        return problem_response(404, str(exc), type_="not-found")

    @app.exception_handler(InvalidField)
    async def invalid_field(_request: Request, exc: InvalidField) -> JSONResponse:
        errors = [{"field": exc.field, "location": "query" if exc.field == "cursor" else "body",
                   "message": exc.message}]
        return problem_response(422, str(exc), type_="validation-error", errors=errors)

    @app.exception_handler(BadCallback)
    async def bad_callback(_request: Request, exc: BadCallback) -> JSONResponse:
        errors = [{"field": exc.field, "location": "query", "message": exc.message}]
        return problem_response(400, str(exc), type_=exc.type_, errors=errors)

    @app.exception_handler(ConnectionNotActive)
    async def connection_not_active(_request: Request, exc: ConnectionNotActive) -> JSONResponse:
        return problem_response(409, str(exc), type_="connection-not-active", connection_status=exc.status)

    @app.exception_handler(MarketplaceUnavailable)
    async def marketplace_unavailable(_request: Request, exc: MarketplaceUnavailable) -> JSONResponse:
        headers = {"Retry-After": str(max(1, round(exc.retry_after_s)))} if exc.retry_after_s is not None else None
        return problem_response(503, str(exc), type_="marketplace-unavailable", headers=headers)

    @app.exception_handler(MarketplaceRefused)
    async def marketplace_refused(_request: Request, exc: MarketplaceRefused) -> JSONResponse:
        return problem_response(502, f"the marketplace refused: {exc}", type_="marketplace-refused")
