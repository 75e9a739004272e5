"""HTTP routes of marketplace connections: public (through the gateway) and internal (service to service).

The OAuth callback carries no identity: the merchant's browser arrives from the marketplace, and the
single-use `state` bound to the pending connection is what authorizes it. Internal routes require the
`internal` scope, which no API client can hold, and are absent from the gateway's route table.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth.connections import service, settings, tokens
from services.auth.connections.connectors import credential_connector
from services.auth.connections.schemas import (
    AccessTokenIn,
    AccessTokenOut,
    ConnectionAuthorized,
    ConnectionIn,
    ConnectionOut,
    ConnectionPage,
    ConnectionStarted,
    ConnectionUpdate,
    InternalConnection,
    SettingsChange,
    SigningSecretOut,
)
from services.auth.errors import InvalidField
from services.auth.pagination import DEFAULT_LIMIT, MAX_LIMIT
from shared.web.identity import Identity, require_scope
from shared.web.internal import INTERNAL_SCOPE
from shared.web.problems import Problem, problem_responses
from shared.web.service_app import db_session

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

connections_router = APIRouter(prefix="/v1/connections", tags=["connections"])
internal_router = APIRouter(prefix="/internal/connections", tags=["internal"], include_in_schema=False)

can_read = require_scope("connections:read")
can_write = require_scope("connections:write")
internal_only = require_scope(INTERNAL_SCOPE)


@connections_router.post("", operation_id="createConnection", status_code=status.HTTP_201_CREATED,
                         response_model=ConnectionStarted | ConnectionOut, responses=problem_responses(404, 502, 503),
                         summary="Connect a shop: OAuth marketplaces answer the URL where the merchant approves; "
                                 "API-credential ones (BigCommerce) are checked live and answer granted vs missing scopes")
async def create_connection(body: ConnectionIn, request: Request, identity: Identity = Depends(can_write),
                            session: AsyncSession = Depends(db_session)) -> ConnectionStarted | ConnectionOut:
    settings_ = request.app.state.settings
    connector = credential_connector(body.marketplace, settings_)
    if connector is not None:
        if body.credentials is None:
            raise InvalidField("credentials", f"required to connect {body.marketplace}")
        connected = await service.connect_with_credentials(
            session, request.app.state.box, identity, connector, merchant_id=body.merchant_id,
            credentials=body.credentials.model_dump())
        return ConnectionOut.model_validate(dict(connected))  # a model instance picks its side of the union
    if body.credentials is not None:
        raise InvalidField("credentials", f"{body.marketplace} connects through OAuth, not API credentials")
    started = await service.start_connection(session, request.app.state.box, settings_, identity,
                                             marketplace=body.marketplace, merchant_id=body.merchant_id)
    return ConnectionStarted.model_validate({**started.connection, "authorization_url": started.authorization_url,
                                             "authorization_expires_at": started.expires_at})


@connections_router.get("", operation_id="listConnections", response_model=ConnectionPage,
                        responses=problem_responses(404))
async def list_connections(merchant_id: uuid.UUID | None = None, cursor: str | None = None,
                           limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
                           identity: Identity = Depends(can_read),
                           session: AsyncSession = Depends(db_session)) -> dict:
    page = await service.list_connections(session, identity, merchant_id, cursor, limit)
    return {"items": [dict(row) for row in page.items], "next_cursor": page.next_cursor}


# Declared before "/{connection_id}" so the literal path is not read as an id.
@connections_router.get("/oauth/callback", operation_id="handleOAuthCallback", response_model=ConnectionAuthorized,
                        responses=problem_responses(400, 502, 503),
                        summary="Where the marketplace sends the merchant back after approval (no bearer token)")
async def oauth_callback(request: Request, response: Response, code: str | None = None, state: str | None = None,
                         error: str | None = None, error_description: str | None = None,
                         session: AsyncSession = Depends(db_session)) -> dict:
    connection = await service.complete_authorization(
        session, request.app.state.box, request.app.state.settings, state=state, code=code, error=error,
        error_description=error_description)
    response.headers.update(NO_STORE)
    return dict(connection)


@connections_router.get("/{connection_id}", operation_id="getConnection", response_model=ConnectionOut,
                        responses=problem_responses(404))
async def get_connection(connection_id: uuid.UUID, identity: Identity = Depends(can_read),
                         session: AsyncSession = Depends(db_session)) -> dict:
    return dict(await service.get_connection(session, identity, connection_id))


@connections_router.patch("/{connection_id}", operation_id="updateConnection", response_model=ConnectionOut,
                          responses=problem_responses(404, 409),
                          summary="Change a connection's settings (audited: who, when, old → new)")
async def update_connection(connection_id: uuid.UUID, body: ConnectionUpdate, identity: Identity = Depends(can_write),
                            session: AsyncSession = Depends(db_session)) -> dict:
    await service.get_connection(session, identity, connection_id)  # tenancy: 404 for another merchant
    try:
        await settings.change_settings(session, identity, connection_id, body.settings)
    except settings.SettingsConflict as exc:
        raise Problem(409, str(exc), type_="settings-conflict") from exc
    return dict(await service.get_connection(session, identity, connection_id))


@connections_router.get("/{connection_id}/settings/audit", operation_id="listConnectionSettingsAudit",
                        response_model=list[SettingsChange], responses=problem_responses(404))
async def settings_audit(connection_id: uuid.UUID, identity: Identity = Depends(can_read),
                         session: AsyncSession = Depends(db_session)) -> list[dict]:
    await service.get_connection(session, identity, connection_id)  # tenancy: 404 for another merchant
    return await settings.audit_trail(session, connection_id)


@connections_router.delete("/{connection_id}", operation_id="deleteConnection", status_code=status.HTTP_204_NO_CONTENT,
                           responses=problem_responses(404),
                           summary="Disconnect: destroy the tokens and stop syncing; downloaded orders stay")
async def disconnect(connection_id: uuid.UUID, request: Request, identity: Identity = Depends(can_write),
                     session: AsyncSession = Depends(db_session)) -> Response:
    await service.disconnect(session, request.app.state.box, request.app.state.settings, identity, connection_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- internal ---

@internal_router.get("/{connection_id}", response_model=InternalConnection, dependencies=[Depends(internal_only)])
async def internal_connection(connection_id: uuid.UUID, session: AsyncSession = Depends(db_session)) -> dict:
    return dict(await service.get_connection_internal(session, connection_id))


@internal_router.post("/{connection_id}/access-token", response_model=AccessTokenOut,
                      dependencies=[Depends(internal_only)])
async def internal_access_token(connection_id: uuid.UUID, request: Request, body: AccessTokenIn | None = None,
                                session: AsyncSession = Depends(db_session)) -> JSONResponse:
    token = await tokens.access_token(session, request.app.state.box, request.app.state.settings, connection_id,
                                      force_refresh=body.force_refresh if body is not None else False)
    out = AccessTokenOut(access_token=token.access_token, expires_at=token.expires_at)
    return JSONResponse(out.model_dump(mode="json"), headers=NO_STORE)


@internal_router.get("/{connection_id}/webhook-signing-secret", response_model=SigningSecretOut,
                     dependencies=[Depends(internal_only)])
async def internal_signing_secret(connection_id: uuid.UUID, request: Request,
                                  session: AsyncSession = Depends(db_session)) -> JSONResponse:
    secret = await service.webhook_signing_secret(session, request.app.state.box, connection_id)
    return JSONResponse({"signing_secret": secret}, headers=NO_STORE)


ROUTERS = [connections_router, internal_router]
