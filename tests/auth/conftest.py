"""Fixtures for talking to the real auth process (`auth_only`) as the gateway would, and to its tables."""

from __future__ import annotations

import uuid

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from shared.db import create_engine_for_schema
from shared.web.identity import REQUEST_ID, Identity, identity_headers
from tests.conftest import ADMIN_CLIENT_ID

ADMIN_IDENTITY = Identity(client_id=ADMIN_CLIENT_ID, merchant_id=None, scopes=frozenset({"admin"}))


def signed_headers(settings, identity: Identity) -> dict[str, str]:
    """Identity headers exactly as the gateway adds them, with the request id they are bound to."""
    request_id = str(uuid.uuid4())
    return {**identity_headers(settings.internal_secret.get_secret_value(), identity, request_id),
            REQUEST_ID: request_id}


def identity_from_claims(claims: dict) -> Identity:
    """What the gateway derives from a verified access token."""
    merchant = claims["merchant_id"]
    return Identity(client_id=claims["client_id"], merchant_id=uuid.UUID(merchant) if merchant else None,
                    scopes=frozenset(claims["scope"].split()))


@pytest.fixture(scope="session")
def auth_url(auth_only) -> str:
    return auth_only.url("auth")


@pytest.fixture
async def http(auth_url):
    async with httpx.AsyncClient(base_url=auth_url, timeout=10.0) as client:
        yield client


@pytest.fixture
def admin(settings):
    """A fresh set of signed admin identity headers per call (the signature binds a request id)."""
    return lambda: signed_headers(settings, ADMIN_IDENTITY)


@pytest.fixture
async def auth_db(settings, auth_only):
    engine = create_engine_for_schema(settings.database_url, "auth", pool_size=2)
    yield engine
    await engine.dispose()


async def request_token(http: httpx.AsyncClient, client_id: str, client_secret: str, **fields) -> httpx.Response:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret, **fields}
    return await http.post("/v1/oauth/token", data=form)


async def verified_claims(http: httpx.AsyncClient, access_token: str, settings) -> tuple[dict, dict]:
    """Header and claims of `access_token`, after checking its signature against the served JWKS."""
    keyset = KeySet.import_key_set((await http.get("/.well-known/jwks.json")).json())
    token = jwt.decode(access_token, keyset, algorithms=["ES256"])
    jwt.JWTClaimsRegistry(iss={"essential": True, "value": settings.jwt_issuer},
                          aud={"essential": True, "value": settings.jwt_audience},
                          exp={"essential": True}).validate(token.claims)
    return token.header, token.claims


async def create_merchant(http: httpx.AsyncClient, admin, name: str = "Acme Crafts") -> dict:
    response = await http.post("/v1/merchants", json={"name": name}, headers=admin())
    assert response.status_code == 201, response.text
    return response.json()


async def create_client(http: httpx.AsyncClient, admin, merchant_id: str | None,
                        scopes: list[str], name: str = "shop integration") -> dict:
    body = {"name": name, "merchant_id": merchant_id, "scopes": scopes}
    response = await http.post("/v1/clients", json=body, headers=admin())
    assert response.status_code == 201, response.text
    return response.json()


async def tenant_identity(http: httpx.AsyncClient, settings, client: dict) -> Identity:
    """The identity the gateway would pass for `client`, derived from a real token."""
    response = await request_token(http, client["client_id"], client["client_secret"])
    assert response.status_code == 200, response.text
    _header, claims = await verified_claims(http, response.json()["access_token"], settings)
    return identity_from_claims(claims)
