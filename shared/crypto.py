"""Secrets at rest: AES-256-GCM with a key id stored beside each ciphertext so keys can rotate.

Format of a sealed value: ``<kid>.<base64url(nonce || ciphertext+tag)>``. The first configured key
encrypts; every configured key can decrypt, so a rotation adds a new first key and keeps the old ones
until every row has been re-sealed.
"""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class SecretBoxError(ValueError):
    """Raised for a malformed key configuration or a value that cannot be opened."""


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def generate_key_spec(kid: str = "k1") -> str:
    """A fresh key configuration string for `CB_ENCRYPTION_KEYS`."""
    return f"{kid}:{_b64e(AESGCM.generate_key(bit_length=256))}"


def parse_key_spec(key_spec: str, setting: str = "CB_ENCRYPTION_KEYS", forbidden: str = ".") -> dict[str, bytes]:
    """`kid:base64key,…` as {kid: 32-byte key}, in order (the first one is active); empty dict when unset."""
    keys: dict[str, bytes] = {}
    for item in filter(None, (part.strip() for part in key_spec.split(","))):
        kid, sep, material = item.partition(":")
        if not sep or not kid or any(c in kid for c in forbidden):
            raise SecretBoxError(f"{setting}: each entry must be 'kid:base64key' (kid without {forbidden!r})")
        try:
            key = _b64d(material)
        except ValueError:
            key = b""
        if len(key) != 32:
            raise SecretBoxError(f"{setting}: key {kid!r} must be 32 bytes")
        keys[kid] = key
    return keys


class SecretBox:
    def __init__(self, key_spec: str) -> None:
        keys = parse_key_spec(key_spec)
        if not keys:
            raise SecretBoxError("CB_ENCRYPTION_KEYS is empty: secrets cannot be stored")
        self._keys: dict[str, AESGCM] = {kid: AESGCM(key) for kid, key in keys.items()}
        self._active: str = next(iter(keys))

    def seal(self, plaintext: str, *, context: str = "") -> str:
        """Encrypt; `context` (e.g. a row id) is bound as associated data so ciphertexts can't be swapped."""
        nonce = os.urandom(12)
        sealed = self._keys[self._active].encrypt(nonce, plaintext.encode(), context.encode())
        return f"{self._active}.{_b64e(nonce + sealed)}"

    def open(self, token: str, *, context: str = "") -> str:
        kid, _, body = token.partition(".")
        key = self._keys.get(kid)
        if key is None:
            raise SecretBoxError(f"no key {kid!r} configured to open this secret")
        try:
            raw = _b64d(body)
            return key.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except Exception as exc:  # InvalidTag: wrong key, context or tampered value
            raise SecretBoxError("secret could not be opened (wrong key or tampered value)") from exc
