"""API client credentials: minting public client ids and secrets, and hashing the secrets with scrypt.

A stored hash carries its own parameters (`scrypt$n=…,r=…,p=…$salt$digest`), so the cost can be raised
later: old hashes still verify, and `needs_rehash` tells the caller to re-hash on the next good login.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

CLIENT_ID_PREFIX = "cb_"
CLIENT_SECRET_PREFIX = "cbs_"


@dataclass(frozen=True)
class ScryptParams:
    n: int = 2**14
    r: int = 8
    p: int = 1
    dklen: int = 32

    def encode(self) -> str:
        return f"n={self.n},r={self.r},p={self.p}"


CURRENT_PARAMS = ScryptParams()
_SALT_BYTES = 16
_SCHEME = "scrypt"


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_client_id() -> str:
    """A public client id; hex keeps it free of characters that need escaping in HTTP Basic."""
    return CLIENT_ID_PREFIX + secrets.token_hex(12)


def new_client_secret() -> str:
    """256 bits of randomness; shown to the caller once and then only its hash is kept."""
    return CLIENT_SECRET_PREFIX + secrets.token_urlsafe(32)


def _derive(secret: str, salt: bytes, params: ScryptParams) -> bytes:
    # maxmem must cover 128·r·n bytes plus slack, or OpenSSL refuses larger cost settings.
    maxmem = 256 * params.r * params.n
    return hashlib.scrypt(secret.encode(), salt=salt, n=params.n, r=params.r, p=params.p,
                          dklen=params.dklen, maxmem=maxmem)


def hash_secret(secret: str, params: ScryptParams = CURRENT_PARAMS) -> str:
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _derive(secret, salt, params)
    return f"{_SCHEME}${params.encode()}${_b64e(salt)}${_b64e(digest)}"


def _parse(stored: str) -> tuple[ScryptParams, bytes, bytes]:
    scheme, encoded_params, salt, digest = stored.split("$")
    if scheme != _SCHEME:
        raise ValueError(f"unsupported secret hash scheme {scheme!r}")
    values = dict(item.split("=", 1) for item in encoded_params.split(","))
    raw_digest = _b64d(digest)
    params = ScryptParams(n=int(values["n"]), r=int(values["r"]), p=int(values["p"]), dklen=len(raw_digest))
    return params, _b64d(salt), raw_digest


def verify_secret(secret: str, stored: str) -> bool:
    """Constant-time check of `secret` against a stored hash (whatever parameters it was made with)."""
    params, salt, expected = _parse(stored)
    return hmac.compare_digest(_derive(secret, salt, params), expected)


def needs_rehash(stored: str) -> bool:
    params, _salt, _digest = _parse(stored)
    return params != CURRENT_PARAMS


# Verified against when a client id is unknown, so a miss costs the same scrypt as a hit and
# response timing does not reveal which client ids exist.
DECOY_HASH = hash_secret(secrets.token_urlsafe(32))
