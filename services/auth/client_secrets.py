"""API client credentials: minting public client ids and secrets, and keyed hashes of the secrets.

Client secrets are 256 bits of randomness, so a slow password hash buys nothing: nobody can guess one,
and a stolen table of HMAC-SHA256 digests is useless without the server-side key
(`CB_CLIENT_SECRET_HASH_KEY`, auth's environment only). Checking a secret costs microseconds instead of
scrypt's tens of milliseconds of CPU per token request, unknown client ids included.

Stored form: `hmac-sha256$<kid>$<hex digest>`. The first configured key hashes; the others still verify,
so the key can rotate. Hashes from before (`scrypt$n=…,r=…,p=…$salt$digest`) verify once more and are
rewritten as HMAC on that successful use (`needs_rehash`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from shared.crypto import SecretBoxError, parse_key_spec
from shared.settings import ConfigError, Settings

CLIENT_ID_PREFIX = "cb_"
CLIENT_SECRET_PREFIX = "cbs_"
HMAC_SCHEME = "hmac-sha256"
SCRYPT_SCHEME = "scrypt"
_DEV_KEY_LABEL = b"channelbridge dev client-secret hash key"


def new_client_id() -> str:
    """A public client id; hex keeps it free of characters that need escaping in HTTP Basic."""
    return CLIENT_ID_PREFIX + secrets.token_hex(12)


def new_client_secret() -> str:
    """256 bits of randomness; shown to the caller once and then only its hash is kept."""
    return CLIENT_SECRET_PREFIX + secrets.token_urlsafe(32)


class SecretHasher:
    def __init__(self, keys: dict[str, bytes]) -> None:
        if not keys:
            raise ConfigError("CB_CLIENT_SECRET_HASH_KEY is empty: client secrets cannot be checked")
        self._keys = keys
        self._active = next(iter(keys))
        # Compared against when a client id is unknown, so a miss costs the same HMAC as a hit.
        self._decoy = self.hash(secrets.token_urlsafe(32))

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretHasher:
        """The configured key; in dev and test only, a key derived from the internal secret when unset."""
        spec = settings.client_secret_hash_key.get_secret_value()
        try:
            keys = parse_key_spec(spec, "CB_CLIENT_SECRET_HASH_KEY", forbidden="$")
        except SecretBoxError as exc:
            raise ConfigError(str(exc)) from exc
        if not keys and settings.environment in ("dev", "test"):
            # Deterministic, so hashes stored by one dev run still verify in the next.
            seed = settings.internal_secret.get_secret_value().encode()
            keys = {"dev": hmac.new(_DEV_KEY_LABEL, seed, hashlib.sha256).digest()}
        if not keys:
            raise ConfigError(f"CB_CLIENT_SECRET_HASH_KEY must be set when CB_ENVIRONMENT={settings.environment!r}; "
                              "`channelbridge gen-encryption-key --kid h1` makes one")
        return cls(keys)

    def _digest(self, kid: str, secret: str) -> str:
        return hmac.new(self._keys[kid], secret.encode(), hashlib.sha256).hexdigest()

    def hash(self, secret: str) -> str:
        return f"{HMAC_SCHEME}${self._active}${self._digest(self._active, secret)}"

    def verify(self, secret: str, stored: str | None) -> bool:
        """Constant-time check of `secret` against a stored hash; `stored=None` (unknown client) costs the same."""
        scheme, _, rest = (stored or self._decoy).partition("$")
        if scheme == SCRYPT_SCHEME:
            return verify_scrypt(secret, rest)
        kid, _, digest = rest.partition("$")
        if scheme != HMAC_SCHEME or kid not in self._keys:
            kid, digest = self._active, ""
        ok = hmac.compare_digest(self._digest(kid, secret), digest)
        return ok and stored is not None

    def needs_rehash(self, stored: str) -> bool:
        """True for a legacy scrypt hash or one made with a key that is no longer the first."""
        return not stored.startswith(f"{HMAC_SCHEME}${self._active}$")


def is_slow_hash(stored: str | None) -> bool:
    return bool(stored) and stored.startswith(f"{SCRYPT_SCHEME}$")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_scrypt(secret: str, encoded: str) -> bool:
    """A hash written before the move to HMAC: `n=…,r=…,p=…$salt$digest` (without the scheme prefix)."""
    encoded_params, salt, digest = encoded.split("$")
    values = {k: int(v) for k, v in (item.split("=", 1) for item in encoded_params.split(","))}
    expected = _b64d(digest)
    n, r, p = values["n"], values["r"], values["p"]
    derived = hashlib.scrypt(secret.encode(), salt=_b64d(salt), n=n, r=r, p=p, dklen=len(expected),
                             maxmem=256 * r * n)
    return hmac.compare_digest(derived, expected)
