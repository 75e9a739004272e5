"""Local verification of access tokens against auth's JWKS, cached and refreshed on an unknown `kid`.

A token that verified once is remembered until it expires (at most `cache_ttl_s`, the JWKS cache's own
lifetime, so a key withdrawn from the JWKS stops working no later than it would without this cache): a
client sends the same token for an hour, and an ES256 verification costs more than the rest of the
gateway's work on a request. Only tokens that verified are remembered, so junk cannot fill the cache.
"""

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
VERIFIED_CACHE_MAX = 10_000  # distinct live tokens remembered; ~1 KB each


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
        self._verified: dict[str, tuple[float, Identity]] = {}  # token -> (valid until, epoch s; identity)

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
        """The caller's identity; InvalidToken if the token does not verify (httpx.HTTPError: no JWKS)."""
        cached = self._verified.get(token)
        now = time.time()
        if cached is not None:
            if now < cached[0]:
                return cached[1]
            del self._verified[token]
        identity, expires_at = await self._verify_signed(token)
        valid_until = min(expires_at, now + self._cache_ttl_s)
        if valid_until > now:
            self._remember(token, valid_until, identity, now)
        return identity

    def _remember(self, token: str, valid_until: float, identity: Identity, now: float) -> None:
        if len(self._verified) >= VERIFIED_CACHE_MAX:
            expired = [t for t, (until, _) in self._verified.items() if until <= now]
            for t in expired or [next(iter(self._verified))]:  # else drop the oldest entry
                del self._verified[t]
        self._verified[token] = (valid_until, identity)

    async def _verify_signed(self, token: str) -> tuple[Identity, float]:
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
        identity = Identity(client_id=str(claims["sub"]), merchant_id=merchant_id, scopes=frozenset(scopes.split()))
        return identity, float(claims["exp"])
