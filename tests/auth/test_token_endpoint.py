"""`POST /v1/oauth/token` and `GET /.well-known/jwks.json` against the running auth service."""

from __future__ import annotations

import base64
import uuid
from urllib.parse import quote_plus

from tests.auth.conftest import create_client, create_merchant, request_token, verified_claims
from tests.conftest import ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET

ALL_SCOPES = ("admin connections:read connections:write fulfilment:write listings:read listings:write "
              "orders:read orders:write")


def basic(client_id: str, client_secret: str) -> dict[str, str]:
    raw = f"{quote_plus(client_id)}:{quote_plus(client_secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


async def test_bootstrap_admin_gets_token_with_form_credentials(http, settings):
    response = await request_token(http, ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == settings.access_token_ttl_s
    assert body["scope"] == ALL_SCOPES


async def test_bootstrap_admin_gets_token_with_http_basic(http):
    response = await http.post("/v1/oauth/token", data={"grant_type": "client_credentials"},
                               headers=basic(ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET))

    assert response.status_code == 200, response.text
    assert response.json()["scope"] == ALL_SCOPES


async def test_access_token_verifies_against_jwks_and_carries_the_claims(http, settings):
    response = await request_token(http, ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET)

    header, claims = await verified_claims(http, response.json()["access_token"], settings)

    assert header["alg"] == "ES256"
    assert header["typ"] == "at+jwt"
    assert header["kid"]
    assert claims["iss"] == settings.jwt_issuer
    assert claims["aud"] == settings.jwt_audience
    assert claims["sub"] == claims["client_id"] == ADMIN_CLIENT_ID
    assert claims["merchant_id"] is None
    assert claims["scope"] == ALL_SCOPES
    assert claims["nbf"] == claims["iat"]
    assert claims["exp"] == claims["iat"] + settings.access_token_ttl_s
    uuid.UUID(claims["jti"])


async def test_each_token_has_its_own_jti(http, settings):
    first = await request_token(http, ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET)
    second = await request_token(http, ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET)

    _h1, claims1 = await verified_claims(http, first.json()["access_token"], settings)
    _h2, claims2 = await verified_claims(http, second.json()["access_token"], settings)
    assert claims1["jti"] != claims2["jti"]


async def test_jwks_publishes_signing_key_as_es256_sig_with_cache_header(http):
    response = await http.get("/.well-known/jwks.json")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "max-age=300"
    keys = response.json()["keys"]
    assert keys
    for key in keys:
        assert key["kty"] == "EC"
        assert key["crv"] == "P-256"
        assert key["use"] == "sig"
        assert key["alg"] == "ES256"
        assert key["kid"]
        assert "d" not in key


async def test_merchant_client_token_carries_its_merchant_id(http, admin, settings):
    merchant = await create_merchant(http, admin)
    client = await create_client(http, admin, merchant["id"], ["orders:read", "orders:write"])

    response = await request_token(http, client["client_id"], client["client_secret"])

    _header, claims = await verified_claims(http, response.json()["access_token"], settings)
    assert claims["merchant_id"] == merchant["id"]
    assert claims["scope"] == "orders:read orders:write"


async def test_wrong_secret_is_invalid_client_with_basic_challenge(http):
    response = await request_token(http, ADMIN_CLIENT_ID, "not-the-secret")

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"] == 'Basic realm="channelbridge"'
    assert "not-the-secret" not in response.text


async def test_wrong_secret_over_http_basic_is_invalid_client(http):
    response = await http.post("/v1/oauth/token", data={"grant_type": "client_credentials"},
                               headers=basic(ADMIN_CLIENT_ID, "not-the-secret"))

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_unknown_client_is_invalid_client(http):
    response = await request_token(http, "cb_doesnotexist", ADMIN_CLIENT_SECRET)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"] == 'Basic realm="channelbridge"'


async def test_malformed_basic_header_is_invalid_client(http):
    response = await http.post("/v1/oauth/token", data={"grant_type": "client_credentials"},
                               headers={"Authorization": "Basic %%%not-base64"})

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_requested_scope_subset_is_granted_alone(http, settings):
    response = await request_token(http, ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, scope="orders:write orders:read")

    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "orders:read orders:write"
    _header, claims = await verified_claims(http, response.json()["access_token"], settings)
    assert claims["scope"] == "orders:read orders:write"


async def test_scope_beyond_the_clients_is_invalid_scope(http, admin):
    merchant = await create_merchant(http, admin)
    client = await create_client(http, admin, merchant["id"], ["orders:read"])

    response = await request_token(http, client["client_id"], client["client_secret"],
                                   scope="orders:read orders:write")

    assert response.status_code == 400
    assert response.json() == {"error": "invalid_scope",
                               "error_description": "not granted to this client: orders:write"}


async def test_wrong_grant_type_is_unsupported_grant_type(http):
    response = await request_token(http, ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, grant_type="password")

    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


async def test_missing_fields_are_invalid_request_naming_the_field(http):
    cases = {
        "grant_type": {"client_id": ADMIN_CLIENT_ID, "client_secret": ADMIN_CLIENT_SECRET},
        "client_id": {"grant_type": "client_credentials", "client_secret": ADMIN_CLIENT_SECRET},
        "client_secret": {"grant_type": "client_credentials", "client_id": ADMIN_CLIENT_ID},
    }
    for field, form in cases.items():
        response = await http.post("/v1/oauth/token", data=form)

        assert response.status_code == 400, field
        body = response.json()
        assert body["error"] == "invalid_request"
        assert field in body["error_description"]


async def test_json_body_is_invalid_request(http):
    response = await http.post("/v1/oauth/token", json={"grant_type": "client_credentials",
                                                        "client_id": ADMIN_CLIENT_ID,
                                                        "client_secret": ADMIN_CLIENT_SECRET})

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_repeated_parameter_is_invalid_request(http):
    response = await http.post("/v1/oauth/token", content=(
        f"grant_type=client_credentials&client_id={ADMIN_CLIENT_ID}&client_secret={ADMIN_CLIENT_SECRET}"
        "&scope=orders:read&scope=admin"), headers={"Content-Type": "application/x-www-form-urlencoded"})

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "scope" in response.json()["error_description"]


async def test_basic_and_form_secret_together_is_invalid_request(http):
    response = await http.post("/v1/oauth/token",
                               data={"grant_type": "client_credentials", "client_secret": ADMIN_CLIENT_SECRET},
                               headers=basic(ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET))

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
