"""JWT signing keys: ES256 keys sealed at rest, one active at a time, published as a JWKS.

A key's `kid` is its RFC 7638 thumbprint, so the id is derived from the key and can never point at a
different one. Retired keys stay in the JWKS for a token lifetime plus a JWKS cache period, so tokens
signed just before a rotation still verify wherever the old JWKS is cached.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.auth import repository
from shared.crypto import SecretBox

log = structlog.get_logger(__name__)

ALGORITHM = "ES256"
CURVE = "P-256"
ACCESS_TOKEN_TYPE = "at+jwt"  # RFC 9068: JWT profile for OAuth 2.0 access tokens
_STARTUP_LOCK = "auth:signing-key"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: ECKey

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"alg": ALGORITHM, "kid": self.kid, "typ": ACCESS_TOKEN_TYPE}
        return jwt.encode(header, claims, self.private_key, algorithms=[ALGORITHM])


def published_jwk(kid: str, public_jwk: dict) -> dict:
    """A public JWK as the JWKS serves it: what verifiers need to pick and use the key."""
    return {**public_jwk, "kid": kid, "use": "sig", "alg": ALGORITHM}


async def ensure_active_signing_key(sessions: async_sessionmaker[AsyncSession], box: SecretBox) -> SigningKey:
    """Load the active signing key, creating one first if there is none.

    The advisory lock makes replicas that start together agree: the first creates the key, the others
    wait and then load that same key.
    """
    async with sessions() as session, session.begin():
        await repository.lock_for_transaction(session, _STARTUP_LOCK)
        row = await repository.newest_active_signing_key(session)
        if row is not None:
            private_jwk = json.loads(box.open(row["private_jwk"], context=row["kid"]))
            return SigningKey(kid=row["kid"], private_key=ECKey.import_key(private_jwk))
        private_key = ECKey.generate_key(CURVE, private=True)
        kid = private_key.thumbprint()
        sealed = box.seal(json.dumps(private_key.as_dict(private=True)), context=kid)
        await repository.insert_signing_key(session, kid=kid, sealed_private_jwk=sealed,
                                            public_jwk=private_key.as_dict(private=False))
        log.info("auth.signing_key.created", kid=kid)
        return SigningKey(kid=kid, private_key=private_key)


async def public_jwks(session: AsyncSession, *, access_token_ttl_s: int, jwks_cache_ttl_s: int) -> dict:
    """The JWKS document: active keys and keys retired recently enough that their tokens may still be live."""
    retired_after = datetime.now(UTC) - timedelta(seconds=access_token_ttl_s + jwks_cache_ttl_s)
    rows = await repository.published_public_keys(session, retired_after)
    return {"keys": [published_jwk(row["kid"], row["public_jwk"]) for row in rows]}
