"""The gateway in front of the real services: authentication, scopes, identity, rate limits, docs."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid

import httpx
import sqlalchemy as sa
from joserfc import jwt
from joserfc.jwk import ECKey

from shared.crypto import SecretBox
from shared.db import create_engine_for_schema
from shared.web.identity import CLIENT_ID, MERCHANT_ID, SCOPES, SIGNATURE, TIMESTAMP
from tests.api_client import admin_token, bearer, new_tenant, token_for
from tests.conftest import ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET


async def _real_signing_key(settings) -> tuple[ECKey, str]:
    """The auth service's active private key, opened from the database as only auth itself should."""
    engine = create_engine_for_schema(settings.database_url, "auth", pool_size=1)
    try:
        async with engine.connect() as conn:
            row = (await conn.execute(sa.text(
                "SELECT kid, private_jwk FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1"
            ))).one()
    finally:
        await engine.dispose()
    box = SecretBox(settings.encryption_keys.get_secret_value())
    return ECKey.import_key(json.loads(box.open(row.private_jwk, context=row.kid))), row.kid


def _claims(settings, **overrides) -> dict:
    now = int(time.time())
    return {"iss": settings.jwt_issuer, "aud": settings.jwt_audience, "sub": ADMIN_CLIENT_ID,
            "client_id": ADMIN_CLIENT_ID, "merchant_id": None, "scope": "admin", "iat": now, "nbf": now,
            "exp": now + 300, "jti": str(uuid.uuid4()), **overrides}


async def test_token_issued_through_gateway_with_form_body_and_basic_auth(gateway):
    form = await gateway.post("/v1/oauth/token", data={"grant_type": "client_credentials",
                                                       "client_id": ADMIN_CLIENT_ID, "client_secret": ADMIN_CLIENT_SECRET})
    basic = await gateway.post("/v1/oauth/token", data={"grant_type": "client_credentials"},
                               auth=(ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET))
    for response in (form, basic):
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["token_type"] == "Bearer" and body["expires_in"] > 0 and "admin" in body["scope"].split()
        assert (await gateway.get("/v1/merchants", headers=bearer(body["access_token"]))).status_code == 200


async def test_wrong_client_secret_is_401(gateway):
    response = await gateway.post("/v1/oauth/token", data={"grant_type": "client_credentials"},
                                  auth=(ADMIN_CLIENT_ID, "not-the-secret"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_missing_malformed_and_unsigned_tokens_are_401(gateway, settings):
    unsigned = ".".join(base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
                        for part in ({"alg": "none", "typ": "JWT"}, _claims(settings))) + "."
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"},
                    bearer("not-a-jwt"), bearer(unsigned)):
        response = await gateway.get("/v1/merchants", headers=headers)
        assert response.status_code == 401, (headers, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_token_signed_by_unknown_key_is_401(gateway, settings):
    forger = ECKey.generate_key("P-256", private=True, auto_kid=True)
    forged = jwt.encode({"alg": "ES256", "kid": forger.kid}, _claims(settings), forger)
    assert (await gateway.get("/v1/merchants", headers=bearer(forged))).status_code == 401


async def test_real_key_but_expired_wrong_audience_or_issuer_is_401(gateway, settings):
    key, kid = await _real_signing_key(settings)
    good = jwt.encode({"alg": "ES256", "kid": kid}, _claims(settings), key)
    assert (await gateway.get("/v1/merchants", headers=bearer(good))).status_code == 200  # the control
    now = int(time.time())
    for bad in (_claims(settings, iat=now - 600, nbf=now - 600, exp=now - 60),
                _claims(settings, aud="someone-else"),
                _claims(settings, iss="https://evil.example")):
        token = jwt.encode({"alg": "ES256", "kid": kid}, bad, key)
        assert (await gateway.get("/v1/merchants", headers=bearer(token))).status_code == 401, bad


async def test_missing_scope_is_403(gateway):
    tenant = await new_tenant(gateway, ["orders:read"])
    response = await gateway.post("/v1/merchants", json={"name": "x"}, headers=bearer(tenant["token"]))
    assert response.status_code == 403
    assert "admin" in response.json()["detail"]


async def test_narrowed_token_loses_the_scopes_it_did_not_ask_for(gateway):
    narrow = await token_for(gateway, ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, scope="orders:read")
    assert (await gateway.get("/v1/merchants", headers=bearer(narrow))).status_code == 403


async def test_identity_headers_forged_by_a_caller_are_ignored(gateway, settings):
    tenant = await new_tenant(gateway, ["orders:read"])
    victim = await new_tenant(gateway, ["orders:read"])
    forged = {CLIENT_ID: ADMIN_CLIENT_ID, MERCHANT_ID: victim["merchant_id"], SCOPES: "admin",
              TIMESTAMP: str(int(time.time())), SIGNATURE: "0" * 64}
    headers = {**bearer(tenant["token"]), **forged}
    own = await gateway.get(f"/v1/merchants/{tenant['merchant_id']}", headers=headers)
    assert own.status_code == 200 and own.json()["id"] == tenant["merchant_id"]
    assert (await gateway.get(f"/v1/merchants/{victim['merchant_id']}", headers=headers)).status_code == 404
    assert (await gateway.get("/v1/merchants", headers=headers)).status_code == 403


async def test_service_reached_directly_does_not_trust_forged_identity(stack):
    forged = {CLIENT_ID: ADMIN_CLIENT_ID, MERCHANT_ID: "", SCOPES: "admin",
              TIMESTAMP: str(int(time.time())), SIGNATURE: "0" * 64}
    async with httpx.AsyncClient(base_url=stack.url("auth")) as direct:
        assert (await direct.get("/v1/merchants", headers=forged)).status_code == 401
        assert (await direct.get("/v1/merchants")).status_code == 401


async def test_rate_limit_answers_429_with_retry_after(gateway):
    tenant = await new_tenant(gateway, ["orders:read"])
    path, headers = f"/v1/merchants/{tenant['merchant_id']}", bearer(tenant["token"])
    responses = await asyncio.gather(*(gateway.get(path, headers=headers) for _ in range(80)))
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) >= 1 and 429 in statuses, statuses
    limited = next(r for r in responses if r.status_code == 429)
    assert int(limited.headers["retry-after"]) >= 1
    # Another client is not affected by this one's burst.
    other = await new_tenant(gateway, ["orders:read"])
    assert (await gateway.get(f"/v1/merchants/{other['merchant_id']}", headers=bearer(other["token"]))).status_code == 200


async def test_unknown_route_is_404_and_wrong_method_is_405(gateway):
    token = bearer(await admin_token(gateway))
    missing = await gateway.get("/v1/nothing-here", headers=token)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    wrong = await gateway.put("/v1/merchants", headers=token)
    assert wrong.status_code == 405 and "GET" in wrong.headers["allow"]


async def test_request_id_is_kept_end_to_end(gateway):
    response = await gateway.get("/v1/merchants", headers={**bearer(await admin_token(gateway)),
                                                          "X-Request-ID": "trace-me-123"})
    assert response.headers["x-request-id"] == "trace-me-123"


async def test_readyz_merged_openapi_and_docs(gateway):
    ready = await gateway.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"rate_limit_storage": "ok"}
    document = (await gateway.get("/openapi.json")).json()
    assert {"/v1/oauth/token", "/v1/merchants", "/v1/clients", "/.well-known/jwks.json"} <= set(document["paths"])
    assert document["paths"]["/v1/merchants"]["post"]["security"] == [{"oauth2": ["admin"]}]
    assert document["paths"]["/v1/oauth/token"]["post"]["security"] == []
    assert "clientCredentials" in document["components"]["securitySchemes"]["oauth2"]["flows"]
    assert all(p.startswith(("/v1/", "/.well-known/")) for p in document["paths"])
    assert (await gateway.get("/docs")).status_code == 200
    jwks = (await gateway.get("/.well-known/jwks.json")).json()
    assert jwks["keys"] and all("d" not in key for key in jwks["keys"])


async def test_every_service_serves_health_readiness_and_metrics(stack):
    async with httpx.AsyncClient() as http:
        for name in ("auth", "orders", "listings", "fulfilment", "gateway"):
            base = stack.url(name)
            assert (await http.get(f"{base}/healthz")).status_code == 200
            assert (await http.get(f"{base}/readyz")).status_code == 200
            metrics = await http.get(f"{base}/metrics")
            assert metrics.status_code == 200 and "cb_http_requests_total" in metrics.text
