"""What the auth tables hold: hashes instead of client secrets, sealed private keys, and nothing in logs."""

from __future__ import annotations

import base64
import hashlib
import json
import os

import sqlalchemy as sa

from shared.crypto import SecretBox
from tests.auth.conftest import create_client, create_merchant, request_token
from tests.conftest import ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET


async def test_client_secrets_are_stored_only_as_keyed_hashes(http, admin, auth_db):
    merchant = await create_merchant(http, admin)
    client = await create_client(http, admin, merchant["id"], ["orders:read"])

    async with auth_db.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT * FROM auth.api_clients"))).mappings().all()

    dump = json.dumps([dict(row) for row in rows], default=str)
    assert client["client_secret"] not in dump
    assert ADMIN_CLIENT_SECRET not in dump
    hashes = {row["client_id"]: row["secret_hash"] for row in rows}
    assert hashes[client["client_id"]].startswith("hmac-sha256$")
    assert hashes[ADMIN_CLIENT_ID].startswith("hmac-sha256$")


async def test_private_signing_key_is_sealed_not_a_raw_jwk(auth_db, settings):
    async with auth_db.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT * FROM auth.signing_keys"))).mappings().all()

    assert rows
    box = SecretBox(settings.encryption_keys.get_secret_value())
    for row in rows:
        sealed = row["private_jwk"]
        assert '"d"' not in sealed
        assert "{" not in sealed
        private_jwk = json.loads(box.open(sealed, context=row["kid"]))
        assert private_jwk["d"]
        assert "d" not in row["public_jwk"]
        assert row["public_jwk"]["x"] == private_jwk["x"]


async def test_service_log_never_contains_client_secrets(http, admin, auth_only):
    merchant = await create_merchant(http, admin)
    client = await create_client(http, admin, merchant["id"], ["orders:read"])
    await request_token(http, client["client_id"], client["client_secret"])
    await request_token(http, client["client_id"], "a-wrong-secret-attempt")

    log_text = (auth_only.log_dir / "auth.log").read_text()

    assert client["client_id"] in log_text  # the log is the right one and does record the client
    assert client["client_secret"] not in log_text
    assert ADMIN_CLIENT_SECRET not in log_text
    assert "a-wrong-secret-attempt" not in log_text


def _legacy_scrypt_hash(secret: str) -> str:
    """A hash exactly as auth stored them before the move to HMAC (scrypt, n=2^14, r=8, p=1)."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32, maxmem=256 * 8 * 2**14)
    b64 = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()  # noqa: E731
    return f"scrypt$n=16384,r=8,p=1${b64(salt)}${b64(digest)}"


async def _stored_hash(auth_db, client_id: str) -> str:
    async with auth_db.connect() as conn:
        return (await conn.execute(sa.text("SELECT secret_hash FROM auth.api_clients WHERE client_id = :c"),
                                   {"c": client_id})).scalar_one()


async def test_legacy_scrypt_hash_is_rewritten_as_hmac_on_its_next_successful_use(http, admin, auth_db):
    merchant = await create_merchant(http, admin)
    client = await create_client(http, admin, merchant["id"], ["orders:read"])
    legacy = _legacy_scrypt_hash(client["client_secret"])
    async with auth_db.begin() as conn:
        await conn.execute(sa.text("UPDATE auth.api_clients SET secret_hash = :h WHERE client_id = :c"),
                           {"h": legacy, "c": client["client_id"]})

    wrong = await request_token(http, client["client_id"], client["client_secret"] + "x")
    assert wrong.status_code == 401
    assert await _stored_hash(auth_db, client["client_id"]) == legacy  # a failed attempt migrates nothing

    first = await request_token(http, client["client_id"], client["client_secret"])
    assert first.status_code == 200, first.text
    migrated = await _stored_hash(auth_db, client["client_id"])
    assert migrated.startswith("hmac-sha256$") and client["client_secret"] not in migrated

    again = await request_token(http, client["client_id"], client["client_secret"])
    assert again.status_code == 200
    assert await _stored_hash(auth_db, client["client_id"]) == migrated
    assert (await request_token(http, client["client_id"], "cbs_" + "A" * 43)).status_code == 401
