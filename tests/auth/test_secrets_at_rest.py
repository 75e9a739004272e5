"""What the auth tables hold: hashes instead of client secrets, sealed private keys, and nothing in logs."""

from __future__ import annotations

import json

import sqlalchemy as sa

from shared.crypto import SecretBox
from tests.auth.conftest import create_client, create_merchant, request_token
from tests.conftest import ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET


async def test_client_secrets_are_stored_only_as_scrypt_hashes(http, admin, auth_db):
    merchant = await create_merchant(http, admin)
    client = await create_client(http, admin, merchant["id"], ["orders:read"])

    async with auth_db.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT * FROM auth.api_clients"))).mappings().all()

    dump = json.dumps([dict(row) for row in rows], default=str)
    assert client["client_secret"] not in dump
    assert ADMIN_CLIENT_SECRET not in dump
    hashes = {row["client_id"]: row["secret_hash"] for row in rows}
    assert hashes[client["client_id"]].startswith("scrypt$n=")
    assert hashes[ADMIN_CLIENT_ID].startswith("scrypt$n=")


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
