"""Keyed hashes of API client secrets: the key is required outside dev/test, rotates, and unknown ids fail."""

from __future__ import annotations

import pytest

from services.auth.client_secrets import SecretHasher, new_client_secret
from shared.crypto import generate_key_spec
from shared.settings import ConfigError, Settings


def test_hash_key_is_required_in_prod_and_derived_deterministically_in_dev_and_test():
    with pytest.raises(ConfigError, match="CB_CLIENT_SECRET_HASH_KEY"):
        SecretHasher.from_settings(Settings(environment="prod", internal_secret="x"))
    with pytest.raises(ConfigError, match="CB_CLIENT_SECRET_HASH_KEY"):
        SecretHasher.from_settings(Settings(environment="prod", client_secret_hash_key="h1:not-a-key"))
    secret = new_client_secret()
    stored = SecretHasher.from_settings(Settings(environment="dev", internal_secret="a")).hash(secret)
    assert SecretHasher.from_settings(Settings(environment="dev", internal_secret="a")).verify(secret, stored)
    assert not SecretHasher.from_settings(Settings(environment="test", internal_secret="b")).verify(secret, stored)


def test_rotated_key_still_verifies_old_hashes_and_asks_for_a_rehash():
    old, new = generate_key_spec("h1"), generate_key_spec("h2")
    secret = new_client_secret()
    stored = SecretHasher.from_settings(Settings(environment="prod", client_secret_hash_key=old)).hash(secret)
    rotated = SecretHasher.from_settings(Settings(environment="prod", client_secret_hash_key=f"{new},{old}"))

    assert stored.startswith("hmac-sha256$h1$") and secret not in stored
    assert rotated.verify(secret, stored) and not rotated.verify(secret + "x", stored)
    assert rotated.needs_rehash(stored)
    assert not rotated.needs_rehash(rotated.hash(secret))


def test_unknown_client_and_unknown_key_id_never_verify():
    hasher = SecretHasher({"h1": b"k" * 32})
    assert not hasher.verify("anything", None)
    assert not hasher.verify("anything", "hmac-sha256$gone$" + "0" * 64)
