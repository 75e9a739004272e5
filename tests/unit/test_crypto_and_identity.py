"""Secrets at rest and the gateway→service identity signature, without any server."""

from __future__ import annotations

import time
import uuid

import pytest

from shared.crypto import SecretBox, SecretBoxError, generate_key_spec
from shared.web.identity import SIGNATURE, TIMESTAMP, Identity, identity_headers, verify_identity


def test_sealed_secret_opens_only_with_its_key_and_context():
    box = SecretBox(generate_key_spec("k1"))
    sealed = box.seal("refresh-token-value", context="conn-1")
    assert "refresh-token-value" not in sealed and sealed.startswith("k1.")
    assert box.open(sealed, context="conn-1") == "refresh-token-value"
    with pytest.raises(SecretBoxError):
        box.open(sealed, context="conn-2")  # swapped between rows
    with pytest.raises(SecretBoxError):
        SecretBox(generate_key_spec("k1")).open(sealed, context="conn-1")  # another key with the same id


def test_rotation_keeps_old_secrets_readable_and_seals_with_the_new_key():
    old = generate_key_spec("k1")
    sealed_before = SecretBox(old).seal("s")
    rotated = SecretBox(f"{generate_key_spec('k2')},{old}")
    assert rotated.open(sealed_before) == "s"
    assert rotated.seal("s").startswith("k2.")


@pytest.mark.parametrize("spec", ["", "nokey", "k1:short", "k.1:" + "A" * 43])
def test_bad_key_configuration_is_refused(spec):
    with pytest.raises(SecretBoxError):
        SecretBox(spec)


def test_identity_signature_binds_every_field_the_request_and_expires():
    identity = Identity(client_id="c1", merchant_id=uuid.uuid4(), scopes=frozenset({"orders:read"}))
    request = {"method": "GET", "target": "/v1/orders?limit=5"}
    headers = identity_headers("s3cret", identity, "req-1", **request)
    assert verify_identity("s3cret", headers, "req-1", **request) == identity
    assert verify_identity("other", headers, "req-1", **request) is None
    assert verify_identity("s3cret", headers, "req-2", **request) is None
    assert verify_identity("s3cret", headers, "req-1", method="DELETE", target="/v1/orders?limit=5") is None
    assert verify_identity("s3cret", headers, "req-1", method="GET", target="/v1/orders") is None
    assert verify_identity("s3cret", headers, "req-1", method="GET", target="/v1/clients?limit=5") is None
    assert verify_identity("s3cret", {**headers, "x-cb-scopes": "admin"}, "req-1", **request) is None
    assert verify_identity("s3cret", {**headers, TIMESTAMP: str(int(time.time()) - 3600)}, "req-1", **request) is None
    assert verify_identity("s3cret", {k: v for k, v in headers.items() if k != SIGNATURE}, "req-1", **request) is None
    eleven_seconds_old = identity_headers("s3cret", identity, "req-1", issued_at=time.time() - 11, **request)
    assert verify_identity("s3cret", eleven_seconds_old, "req-1", max_age_s=10, **request) is None
    assert verify_identity("s3cret", eleven_seconds_old, "req-1", max_age_s=60, **request) == identity
