"""Fixtures for talking to the real auth process (`auth_only`) as the gateway would, and to its tables.

`connections_stack` adds a real Etsy sandbox process for the marketplace connection tests.
"""

from __future__ import annotations

import uuid
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import sqlalchemy as sa
from joserfc import jwt
from joserfc.jwk import KeySet

from shared.db import create_engine_for_schema
from shared.web.identity import Identity, SignedIdentity
from tests.conftest import ADMIN_CLIENT_ID, _start_stack
from tests.sandbox_control import AsyncSandboxControl

ADMIN_IDENTITY = Identity(client_id=ADMIN_CLIENT_ID, merchant_id=None, scopes=frozenset({"admin"}))


def signed_as(settings, identity: Identity) -> SignedIdentity:
    """httpx auth that signs `identity` onto each request exactly as the gateway does (method, target, request id)."""
    return SignedIdentity(settings.internal_secret.get_secret_value(), identity)


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
    """Signs each request as the bootstrap admin (pass as `auth=admin()`)."""
    return lambda: signed_as(settings, ADMIN_IDENTITY)


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
    response = await http.post("/v1/merchants", json={"name": name}, auth=admin())
    assert response.status_code == 201, response.text
    return response.json()


async def create_client(http: httpx.AsyncClient, admin, merchant_id: str | None,
                        scopes: list[str], name: str = "shop integration") -> dict:
    body = {"name": name, "merchant_id": merchant_id, "scopes": scopes}
    response = await http.post("/v1/clients", json=body, auth=admin())
    assert response.status_code == 201, response.text
    return response.json()


async def tenant_identity(http: httpx.AsyncClient, settings, client: dict) -> Identity:
    """The identity the gateway would pass for `client`, derived from a real token."""
    response = await request_token(http, client["client_id"], client["client_secret"])
    assert response.status_code == 200, response.text
    _header, claims = await verified_claims(http, response.json()["access_token"], settings)
    return identity_from_claims(claims)


# --- marketplace connections: auth beside a real Etsy sandbox process ---

PUBLIC_BASE_URL = "https://channelbridge.test"
CALLBACK_URL = f"{PUBLIC_BASE_URL}/v1/connections/oauth/callback"
ETSY_API_KEY = "sandbox-etsy-keystring:sandbox-etsy-secret"
CONNECTION_SCOPES = frozenset({"connections:read", "connections:write"})


@pytest.fixture(scope="session")
def connections_stack(settings, infra_dir):
    """The Etsy sandbox and the auth service as real processes; auth's CB_ETSY_* point at the sandbox."""
    running = _start_stack(settings, infra_dir / "auth-etsy", {"etsy-sandbox", "auth"},
                           extra_env={"CB_PUBLIC_BASE_URL": PUBLIC_BASE_URL})
    yield running
    running.stop()


@pytest.fixture(scope="session")
def second_auth_replica(settings, infra_dir, connections_stack):
    """Another auth process on the same database and sandbox: single-flight must hold across replicas."""
    sandbox = connections_stack.url("etsy-sandbox")
    running = _start_stack(settings, infra_dir / "auth-etsy-replica", {"auth"}, extra_env={
        "CB_PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "CB_ETSY_API_URL": sandbox,
        "CB_ETSY_AUTHORIZE_URL": f"{sandbox}/oauth/connect",
        "CB_ETSY_TOKEN_URL": f"{sandbox}/v3/public/oauth/token",
        "CB_ETSY_CLIENT_ID": "sandbox-etsy-keystring",
        "CB_ETSY_CLIENT_SECRET": "sandbox-etsy-secret",
    })
    yield running
    running.stop()


@pytest.fixture
async def auth(connections_stack):
    async with httpx.AsyncClient(base_url=connections_stack.url("auth"), timeout=30.0) as client:
        yield client


@pytest.fixture
async def connections_db(settings, connections_stack):
    engine = create_engine_for_schema(settings.database_url, "auth", pool_size=2)
    yield engine
    await engine.dispose()


class EtsySandbox(AsyncSandboxControl):
    """The sandbox's control API and the Etsy endpoints a merchant's browser or a client would use."""

    marketplace = "etsy"

    async def create_shop(self, shop_name: str) -> dict:
        shop = await self.control("POST", "/shops", json={"shop_name": shop_name})
        await self.control("PUT", "/settings", json={"approving_user_id": shop["user_id"]})
        return shop

    async def fault(self, **body) -> dict:
        return await self.control("POST", "/faults", json=body)

    async def token_calls(self) -> list[dict]:
        return (await self.control("GET", "/requests", params={"path_prefix": "/v3/public/oauth/token"}))["results"]

    async def clear_request_log(self) -> None:
        await self.control("DELETE", "/requests")

    async def approve(self, authorization_url: str) -> dict[str, str]:
        """The merchant approves at Etsy: the query Etsy's redirect hands to our callback."""
        response = await self.http.get(authorization_url, follow_redirects=False)
        assert response.status_code == 302, response.text
        location = response.headers["location"]
        assert location.startswith(CALLBACK_URL + "?"), location
        return dict(parse_qsl(urlsplit(location).query))

    async def me(self, access_token: str) -> httpx.Response:
        return await self.http.get("/v3/application/users/me",
                                   headers={"x-api-key": ETSY_API_KEY, "authorization": f"Bearer {access_token}"})


@pytest.fixture
async def etsy(connections_stack):
    """A freshly reset sandbox world per test, with a rate limit no functional test trips."""
    async with httpx.AsyncClient(base_url=connections_stack.url("etsy-sandbox"), timeout=30.0) as client:
        sandbox = EtsySandbox(client)
        await sandbox.control("POST", "/reset")
        await sandbox.control("PUT", "/settings", json={"rate_per_second": 1000})
        yield sandbox


def as_merchant(settings, merchant_id: str, scopes=CONNECTION_SCOPES) -> SignedIdentity:
    identity = Identity(client_id=f"cb_tenant_{merchant_id[:8]}", merchant_id=uuid.UUID(merchant_id),
                        scopes=frozenset(scopes))
    return signed_as(settings, identity)


def as_connections_admin(settings) -> SignedIdentity:
    """An admin client holding the connection scopes, as the bootstrap admin (every scope) does."""
    return signed_as(settings, Identity(client_id=ADMIN_CLIENT_ID, merchant_id=None,
                                             scopes=frozenset({"admin", *CONNECTION_SCOPES})))


def as_internal(settings) -> SignedIdentity:
    """What another service sends (shared.web.internal.InternalClient signs the same identity)."""
    return signed_as(settings, Identity(client_id="service:orders", merchant_id=None,
                                             scopes=frozenset({"internal"})))


async def start_connection(auth: httpx.AsyncClient, settings, merchant_id: str) -> dict:
    response = await auth.post("/v1/connections", json={"marketplace": "etsy", "merchant_id": merchant_id},
                               auth=as_merchant(settings, merchant_id))
    assert response.status_code == 201, response.text
    return response.json()


async def connect_shop(auth: httpx.AsyncClient, etsy: EtsySandbox, settings, merchant_id: str) -> dict:
    """The whole connect flow: POST, approval at Etsy, callback. Returns the callback's answer."""
    started = await start_connection(auth, settings, merchant_id)
    callback = await auth.get("/v1/connections/oauth/callback", params=await etsy.approve(started["authorization_url"]))
    assert callback.status_code == 200, callback.text
    return callback.json()


async def access_token(auth: httpx.AsyncClient, settings, connection_id: str, *, force: bool) -> httpx.Response:
    return await auth.post(f"/internal/connections/{connection_id}/access-token", json={"force_refresh": force},
                           auth=as_internal(settings))


async def outbox_events(engine, topic: str, key: str) -> list[dict]:
    async with engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT event FROM auth.outbox WHERE topic = :t AND key = :k ORDER BY seq"),
                                  {"t": topic, "k": key})
        return [row.event for row in rows]
