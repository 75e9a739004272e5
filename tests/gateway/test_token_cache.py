"""The gateway remembers a token it verified until the token expires (capped by the JWKS cache lifetime), so a
client's hour of requests costs one ES256 verification; expired, failed and out-of-leeway tokens are never
remembered. Against a real JWKS endpoint on loopback."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from services.gateway.tokens import InvalidToken, TokenVerifier
from tests.inprocess import serve

ISSUER, AUDIENCE = "channelbridge", "channelbridge-api"
KEY = ECKey.generate_key("P-256", private=True, auto_kid=True)


@pytest.fixture(scope="module")
def jwks_url():
    app = FastAPI()

    @app.get("/.well-known/jwks.json")
    def jwks() -> dict:
        return KeySet([KEY]).as_dict(private=False)

    for base in serve(app, "JWKS"):
        yield f"{base}/.well-known/jwks.json"


def _token(exp_in_s: float, **claims) -> str:
    now = int(time.time())
    return jwt.encode({"alg": "ES256", "kid": KEY.kid}, {
        "iss": ISSUER, "aud": AUDIENCE, "sub": "client-1", "merchant_id": str(uuid.uuid4()), "scope": "orders:read",
        "iat": now, "exp": int(now + exp_in_s), **claims}, KEY)


async def _verifier(jwks_url: str, cache_ttl_s: float = 300):
    http = httpx.AsyncClient()
    return http, TokenVerifier(http, jwks_url, issuer=ISSUER, audience=AUDIENCE, cache_ttl_s=cache_ttl_s)


async def test_a_verified_token_is_remembered_until_it_expires(jwks_url):
    http, verifier = await _verifier(jwks_url)
    async with http:
        token = _token(600)
        first = await verifier.verify(token)
        assert first.client_id == "client-1" and first.scopes == frozenset({"orders:read"})
        assert await verifier.verify(token) is first  # the remembered identity, no second verification


async def test_a_token_inside_the_expiry_leeway_is_accepted_but_not_remembered(jwks_url):
    http, verifier = await _verifier(jwks_url)
    async with http:
        token = _token(-2)  # expired two seconds ago: within the 5 s leeway
        first = await verifier.verify(token)
        assert await verifier.verify(token) is not first


async def test_remembering_never_outlives_the_jwks_cache(jwks_url):
    http, verifier = await _verifier(jwks_url, cache_ttl_s=0)
    async with http:
        token = _token(600)
        assert await verifier.verify(token) is not await verifier.verify(token)


async def test_rejected_tokens_are_rejected_every_time(jwks_url):
    http, verifier = await _verifier(jwks_url)
    async with http:
        for bad in (_token(-60), _token(600, aud="someone-else"), _token(600)[:-4] + "AAAA"):
            for _ in range(2):
                with pytest.raises(InvalidToken):
                    await verifier.verify(bad)
