"""Local verification of access tokens against auth's JWKS, cached and refreshed on an unknown `kid`."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from shared.web.identity import Identity

ALGORITHMS = ["ES256"]
MIN_REFRESH_INTERVAL_S = 10.0


class InvalidToken(Exception):
    """The bearer token is missing, malformed, unsigned, signed by an unknown key, expired or not ours."""


class TokenVerifier:
    def __init__(self, http: httpx.AsyncClient, jwks_url: str, *, issuer: str, audience: str, cache_ttl_s: float):
        self._http = http
        self._jwks_url = jwks_url
        self._claims = jwt.JWTClaimsRegistry(
            leeway=5,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
            sub={"essential": True},
        )
        self._cache_ttl_s = cache_ttl_s
        self._keys: KeySet | None = None
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def _keyset(self, *, force: bool = False) -> KeySet:
        age = time.monotonic() - self._fetched_at
        stale = self._keys is None or age > self._cache_ttl_s or (force and age > MIN_REFRESH_INTERVAL_S)
        if stale:
            async with self._lock:  # one fetch for all requests that found the cache stale together
                age = time.monotonic() - self._fetched_at
                if self._keys is None or age > self._cache_ttl_s or (force and age > MIN_REFRESH_INTERVAL_S):
                    response = await self._http.get(self._jwks_url, timeout=5.0)
                    response.raise_for_status()
                    self._keys = KeySet.import_key_set(response.json())
                    self._fetched_at = time.monotonic()
        return self._keys

    async def verify(self, token: str) -> Identity:
        try:
            try:
                decoded = jwt.decode(token, await self._keyset(), algorithms=ALGORITHMS)
            except InvalidKeyIdError:
                decoded = jwt.decode(token, await self._keyset(force=True), algorithms=ALGORITHMS)
            self._claims.validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise InvalidToken(str(exc) or type(exc).__name__) from exc
        claims = decoded.claims
        merchant = claims.get("merchant_id")
        try:
            merchant_id = uuid.UUID(merchant) if merchant else None
        except (ValueError, TypeError) as exc:
            raise InvalidToken("merchant_id claim is not a uuid") from exc
        scopes = claims.get("scope", "")
        if not isinstance(scopes, str):
            raise InvalidToken("scope claim must be a string")
        return Identity(client_id=str(claims["sub"]), merchant_id=merchant_id, scopes=frozenset(scopes.split()))
