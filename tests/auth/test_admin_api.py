"""Merchants and API clients: admin-only management, tenant isolation and the signed caller identity."""

from __future__ import annotations

import time
import uuid

from shared.web.identity import REQUEST_ID, Identity, identity_headers
from tests.auth.conftest import (
    ADMIN_IDENTITY,
    create_client,
    create_merchant,
    request_token,
    signed_as,
    tenant_identity,
)


async def test_admin_creates_merchant_and_reads_it_back(http, admin):
    merchant = await create_merchant(http, admin, "  Nordic Knits  ")

    assert merchant["name"] == "Nordic Knits"
    uuid.UUID(merchant["id"])
    response = await http.get(f"/v1/merchants/{merchant['id']}", auth=admin())
    assert response.status_code == 200
    assert response.json() == merchant


async def test_created_client_secret_works_and_is_never_returned_again(http, admin):
    merchant = await create_merchant(http, admin)
    client = await create_client(http, admin, merchant["id"], ["orders:read", "listings:write"])

    assert client["client_id"].startswith("cb_")
    assert client["merchant_id"] == merchant["id"]
    assert client["scopes"] == ["listings:write", "orders:read"]
    token = await request_token(http, client["client_id"], client["client_secret"])
    assert token.status_code == 200, token.text

    listed = await http.get("/v1/clients", params={"merchant_id": merchant["id"]}, auth=admin())
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert [item["client_id"] for item in items] == [client["client_id"]]
    assert "client_secret" not in items[0]
    assert "secret_hash" not in items[0]
    assert client["client_secret"] not in listed.text


async def test_client_for_unknown_merchant_is_422_naming_merchant_id(http, admin):
    response = await http.post("/v1/clients", auth=admin(),
                               json={"name": "x", "merchant_id": str(uuid.uuid4()), "scopes": ["orders:read"]})

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == ["merchant_id"]


async def test_client_with_unknown_scope_is_422_naming_scopes(http, admin):
    merchant = await create_merchant(http, admin)
    response = await http.post("/v1/clients", auth=admin(),
                               json={"name": "x", "merchant_id": merchant["id"], "scopes": ["orders:delete"]})

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["scopes"]
    assert "orders:delete" in response.json()["detail"]


async def test_admin_scope_is_refused_for_a_merchant_client(http, admin):
    merchant = await create_merchant(http, admin)
    response = await http.post("/v1/clients", auth=admin(),
                               json={"name": "x", "merchant_id": merchant["id"], "scopes": ["admin"]})

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["scopes"]


async def test_client_without_merchant_must_be_admin_client(http, admin):
    response = await http.post("/v1/clients", auth=admin(),
                               json={"name": "x", "merchant_id": None, "scopes": ["orders:read"]})

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["merchant_id"]


async def test_admin_client_without_merchant_gets_admin_token(http, admin):
    client = await create_client(http, admin, None, ["admin"], name="ops console")

    response = await request_token(http, client["client_id"], client["client_secret"])

    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "admin"


async def test_tenant_reads_own_merchant_but_another_tenants_is_404(http, admin, settings):
    mine = await create_merchant(http, admin, "Mine")
    theirs = await create_merchant(http, admin, "Theirs")
    client = await create_client(http, admin, mine["id"], ["orders:read"])
    identity = await tenant_identity(http, settings, client)

    own = await http.get(f"/v1/merchants/{mine['id']}", auth=signed_as(settings, identity))
    other = await http.get(f"/v1/merchants/{theirs['id']}", auth=signed_as(settings, identity))
    missing = await http.get(f"/v1/merchants/{uuid.uuid4()}", auth=signed_as(settings, identity))

    assert own.status_code == 200
    assert other.status_code == 404
    assert other.json()["detail"] == missing.json()["detail"]


async def test_tenant_client_cannot_call_admin_endpoints(http, admin, settings):
    merchant = await create_merchant(http, admin)
    client = await create_client(http, admin, merchant["id"], ["orders:read", "orders:write"])
    identity = await tenant_identity(http, settings, client)

    calls = [
        ("POST", "/v1/merchants", {"name": "mine now"}),
        ("GET", "/v1/merchants", None),
        ("POST", "/v1/clients", {"name": "x", "merchant_id": merchant["id"], "scopes": ["orders:read"]}),
        ("GET", "/v1/clients", None),
        ("DELETE", f"/v1/clients/{client['id']}", None),
    ]
    for method, path, body in calls:
        response = await http.request(method, path, json=body, auth=signed_as(settings, identity))

        assert response.status_code == 403, (method, path)
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_admin_endpoints_without_identity_are_401(http):
    for method, path in [("GET", "/v1/merchants"), ("POST", "/v1/merchants"), ("GET", "/v1/clients"),
                         ("POST", "/v1/clients"), ("DELETE", f"/v1/clients/{uuid.uuid4()}"),
                         ("GET", f"/v1/merchants/{uuid.uuid4()}")]:
        response = await http.request(method, path, json={"name": "x"})

        assert response.status_code == 401, (method, path)
        assert response.headers["content-type"].startswith("application/problem+json")


def _signed_for(settings, identity: Identity, method: str, target: str, **kwargs) -> dict[str, str]:
    request_id = str(uuid.uuid4())
    secret = settings.internal_secret.get_secret_value()
    return {**identity_headers(secret, identity, request_id, method=method, target=target, **kwargs),
            REQUEST_ID: request_id}


async def test_forged_or_unsigned_identity_headers_are_401(http, settings):
    request_id = str(uuid.uuid4())
    unsigned = {"x-cb-client-id": "intruder", "x-cb-merchant-id": "", "x-cb-scopes": "admin", REQUEST_ID: request_id}
    wrong_key = {**identity_headers("guessed-secret", ADMIN_IDENTITY, request_id, method="GET", target="/v1/merchants"),
                 REQUEST_ID: request_id}
    genuine = _signed_for(settings, Identity(client_id="tenant", merchant_id=uuid.uuid4(),
                                             scopes=frozenset({"orders:read"})), "GET", "/v1/merchants")
    escalated = {**genuine, "x-cb-scopes": "admin"}
    replayed = {**_signed_for(settings, ADMIN_IDENTITY, "GET", "/v1/merchants"), REQUEST_ID: str(uuid.uuid4())}

    for name, headers in {"unsigned": unsigned, "wrong key": wrong_key, "escalated scopes": escalated,
                          "other request id": replayed}.items():
        response = await http.get("/v1/merchants", headers=headers)

        assert response.status_code == 401, name


async def test_identity_signed_for_one_request_is_refused_on_another_method_path_query_or_later(http, settings):
    signed = _signed_for(settings, ADMIN_IDENTITY, "GET", "/v1/merchants")
    assert (await http.get("/v1/merchants", headers=signed)).status_code == 200  # the control

    other_path = await http.get("/v1/clients", headers=signed)
    other_query = await http.get("/v1/merchants", params={"limit": 1}, headers=signed)
    other_method = await http.post("/v1/merchants", json={"name": "replayed"}, headers=signed)
    stale = _signed_for(settings, ADMIN_IDENTITY, "GET", "/v1/merchants",
                        issued_at=time.time() - settings.identity_max_age_s - 2)
    too_old = await http.get("/v1/merchants", headers=stale)

    assert [r.status_code for r in (other_path, other_query, other_method, too_old)] == [401, 401, 401, 401]


async def test_disabled_client_gets_no_more_tokens(http, admin):
    merchant = await create_merchant(http, admin)
    client = await create_client(http, admin, merchant["id"], ["orders:read"])
    assert (await request_token(http, client["client_id"], client["client_secret"])).status_code == 200

    deleted = await http.delete(f"/v1/clients/{client['id']}", auth=admin())
    response = await request_token(http, client["client_id"], client["client_secret"])

    assert deleted.status_code == 204
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    listed = await http.get("/v1/clients", params={"merchant_id": merchant["id"]}, auth=admin())
    assert listed.json()["items"][0]["disabled_at"] is not None


async def test_disabling_unknown_client_is_404(http, admin):
    response = await http.delete(f"/v1/clients/{uuid.uuid4()}", auth=admin())

    assert response.status_code == 404


async def test_merchant_list_pages_with_cursor_until_exhausted(http, admin):
    created = [(await create_merchant(http, admin, f"paged {i}"))["id"] for i in range(5)]

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await http.get("/v1/merchants", params=params, auth=admin())
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert len(seen) == len(set(seen))
    assert set(created) <= set(seen)
    assert seen[-5:] == created


async def test_client_list_pages_with_cursor(http, admin):
    merchant = await create_merchant(http, admin)
    ids = [(await create_client(http, admin, merchant["id"], ["orders:read"], name=f"c{i}"))["id"] for i in range(3)]

    first = (await http.get("/v1/clients", params={"merchant_id": merchant["id"], "limit": 2},
                            auth=admin())).json()
    second = (await http.get("/v1/clients", params={"merchant_id": merchant["id"], "limit": 2,
                                                    "cursor": first["next_cursor"]}, auth=admin())).json()

    assert [c["id"] for c in first["items"] + second["items"]] == ids
    assert second["next_cursor"] is None


async def test_garbage_cursor_is_422_naming_cursor(http, admin):
    response = await http.get("/v1/merchants", params={"cursor": "not-a-cursor"}, auth=admin())

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["cursor"]


async def test_blank_merchant_name_is_422_naming_name(http, admin):
    response = await http.post("/v1/merchants", json={"name": "   "}, auth=admin())

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["name"]
