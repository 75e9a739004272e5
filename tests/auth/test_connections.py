"""Connecting an Etsy shop end to end: auth and the Etsy sandbox run as real processes, talking HTTP."""

from __future__ import annotations

import asyncio
import json
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import sqlalchemy as sa
from pydantic import SecretStr

from shared.auth_client import AuthClient
from shared.crypto import SecretBox
from shared.marketplaces.etsy.client import EtsyClient
from shared.web.internal import InternalClient
from tests.auth.conftest import (
    CALLBACK_URL,
    access_token,
    as_connections_admin,
    as_internal,
    as_merchant,
    connect_shop,
    create_merchant,
    outbox_events,
    start_connection,
)


def _problem_fields(response) -> list[str]:
    return [error["field"] for error in response.json().get("errors", [])]


async def _status(auth, settings, connection_id: str) -> str:
    response = await auth.get(f"/internal/connections/{connection_id}", auth=as_internal(settings))
    assert response.status_code == 200, response.text
    return response.json()["status"]


async def test_connecting_an_etsy_shop_makes_the_connection_active_with_its_shop(auth, etsy, admin, settings,
                                                                                connections_db):
    merchant = await create_merchant(auth, admin)
    shop = await etsy.create_shop("WovenWonders")

    started = await start_connection(auth, settings, merchant["id"])
    assert started["status"] == "pending"
    assert started["merchant_id"] == merchant["id"]
    query = parse_qs(urlsplit(started["authorization_url"]).query)
    assert urlsplit(started["authorization_url"]).path == "/oauth/connect"
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == [CALLBACK_URL]
    assert query["client_id"] == ["sandbox-etsy-keystring"]

    callback_query = await etsy.approve(started["authorization_url"])
    callback = await auth.get("/v1/connections/oauth/callback", params=callback_query)

    assert callback.status_code == 200, callback.text
    assert callback.json() == {"id": started["id"], "status": "active", "shop_id": str(shop["shop_id"]),
                               "shop_name": "WovenWonders"}
    shown = await auth.get(f"/v1/connections/{started['id']}", auth=as_merchant(settings, merchant["id"]))
    assert shown.status_code == 200
    assert shown.json()["status"] == "active"
    assert shown.json()["connected_at"] is not None
    assert "token" not in json.dumps(shown.json())
    listed = await auth.get("/v1/connections", auth=as_merchant(settings, merchant["id"]))
    assert [(c["id"], c["status"]) for c in listed.json()["items"]] == [(started["id"], "active")]

    [event] = await outbox_events(connections_db, "connection.connected", started["id"])
    assert event["subject"] == started["id"]
    assert event["tenantid"] == merchant["id"]
    assert event["data"] == {"connection_id": started["id"], "merchant_id": merchant["id"], "marketplace": "etsy",
                             "shop_id": str(shop["shop_id"]), "shop_name": "WovenWonders",
                             "connected_at": shown.json()["connected_at"].replace("+00:00", "Z")}

    token = await access_token(auth, settings, started["id"], force=False)
    assert token.status_code == 200, token.text
    assert (await etsy.me(token.json()["access_token"])).json()["shop_id"] == shop["shop_id"]


async def test_callback_state_is_single_use(auth, etsy, admin, settings):
    merchant = await create_merchant(auth, admin)
    await etsy.create_shop("OnceOnly")
    started = await start_connection(auth, settings, merchant["id"])
    callback_query = await etsy.approve(started["authorization_url"])
    assert (await auth.get("/v1/connections/oauth/callback", params=callback_query)).status_code == 200

    replay = await auth.get("/v1/connections/oauth/callback", params=callback_query)

    assert replay.status_code == 400
    assert replay.headers["content-type"].startswith("application/problem+json")
    assert _problem_fields(replay) == ["state"]


async def test_expired_or_unknown_state_is_refused_and_the_connection_stays_pending(auth, etsy, admin, settings,
                                                                                    connections_db):
    merchant = await create_merchant(auth, admin)
    await etsy.create_shop("TooSlow")
    started = await start_connection(auth, settings, merchant["id"])
    callback_query = await etsy.approve(started["authorization_url"])
    async with connections_db.begin() as conn:
        await conn.execute(sa.text("UPDATE auth.oauth_states SET expires_at = now() - interval '1 second' "
                                   "WHERE connection_id = :id"), {"id": started["id"]})

    expired = await auth.get("/v1/connections/oauth/callback", params=callback_query)
    unknown = await auth.get("/v1/connections/oauth/callback", params={**callback_query, "state": "forged-state"})

    assert expired.status_code == 400
    assert _problem_fields(expired) == ["state"]
    assert "expired" in expired.json()["detail"]
    assert unknown.status_code == 400
    assert _problem_fields(unknown) == ["state"]
    assert await _status(auth, settings, started["id"]) == "pending"


async def test_access_denied_at_etsy_leaves_the_connection_pending_with_the_reason(auth, etsy, admin, settings):
    merchant = await create_merchant(auth, admin)
    await etsy.create_shop("NotToday")
    await etsy.control("PUT", "/settings", json={"deny_consent": True})
    started = await start_connection(auth, settings, merchant["id"])
    callback_query = await etsy.approve(started["authorization_url"])
    assert callback_query["error"] == "access_denied"

    callback = await auth.get("/v1/connections/oauth/callback", params=callback_query)

    assert callback.status_code == 400
    assert _problem_fields(callback) == ["error"]
    shown = (await auth.get(f"/v1/connections/{started['id']}",
                            auth=as_merchant(settings, merchant["id"]))).json()
    assert shown["status"] == "pending"
    assert "access_denied" in shown["status_reason"]


async def test_tokens_and_pkce_verifier_are_sealed_at_rest_and_never_logged(auth, etsy, admin, settings,
                                                                           connections_db, connections_stack):
    merchant = await create_merchant(auth, admin)
    await etsy.create_shop("SealedShop")
    connection = await connect_shop(auth, etsy, settings, merchant["id"])
    token = (await access_token(auth, settings, connection["id"], force=False)).json()["access_token"]

    async with connections_db.connect() as conn:
        tokens = (await conn.execute(sa.text("SELECT * FROM auth.connection_tokens WHERE connection_id = :id"),
                                     {"id": connection["id"]})).mappings().one()
        states = (await conn.execute(sa.text("SELECT * FROM auth.oauth_states WHERE connection_id = :id"),
                                     {"id": connection["id"]})).mappings().all()

    box = SecretBox(settings.encryption_keys.get_secret_value())
    refresh_token = box.open(tokens["refresh_token"], context=f"{connection['id']}:refresh")
    assert box.open(tokens["access_token"], context=f"{connection['id']}:access") == token
    dump = json.dumps([dict(tokens), *(dict(row) for row in states)], default=str)
    user_id = token.split(".")[0]
    assert token not in dump
    assert refresh_token not in dump
    assert f"{user_id}." not in dump  # no plaintext Etsy token of this user at all
    [state] = states
    assert state["used_at"] is not None
    assert len(state["state_hash"]) == 64  # sha256 hex, never the state itself
    assert len(box.open(state["code_verifier"], context=state["state_hash"])) >= 43

    log_text = (connections_stack.log_dir / "auth.log").read_text()
    assert connection["id"] in log_text
    assert token not in log_text
    assert refresh_token not in log_text


async def test_concurrent_forced_refreshes_call_etsy_once_and_share_the_new_token(auth, etsy, admin, settings,
                                                                                 connections_db):
    merchant = await create_merchant(auth, admin)
    await etsy.create_shop("BusyShop")
    connection = await connect_shop(auth, etsy, settings, merchant["id"])
    await etsy.clear_request_log()

    answers = await asyncio.gather(*(access_token(auth, settings, connection["id"], force=True) for _ in range(5)))

    assert [a.status_code for a in answers] == [200] * 5, [a.text for a in answers]
    assert len({a.json()["access_token"] for a in answers}) == 1
    calls = await etsy.token_calls()
    assert [(c["method"], c["status"]) for c in calls] == [("POST", 200)]
    assert (await etsy.me(answers[0].json()["access_token"])).status_code == 200
    async with connections_db.connect() as conn:
        version = (await conn.execute(sa.text("SELECT version FROM auth.connection_tokens WHERE connection_id = :id"),
                                      {"id": connection["id"]})).scalar_one()
    assert version == 2


async def test_forced_refreshes_on_two_auth_replicas_still_call_etsy_once(auth, etsy, admin, settings,
                                                                         second_auth_replica):
    merchant = await create_merchant(auth, admin)
    await etsy.create_shop("TwoReplicas")
    connection = await connect_shop(auth, etsy, settings, merchant["id"])
    await etsy.clear_request_log()

    async with httpx.AsyncClient(base_url=second_auth_replica.url("auth"), timeout=30.0) as replica:
        answers = await asyncio.gather(*(access_token(client, settings, connection["id"], force=True)
                                         for client in (auth, replica) * 3))

    assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers]
    assert len({a.json()["access_token"] for a in answers}) == 1
    assert len(await etsy.token_calls()) == 1


async def test_an_access_token_about_to_expire_is_refreshed_before_it_is_handed_out(auth, etsy, admin, settings):
    merchant = await create_merchant(auth, admin)
    await etsy.create_shop("ShortLived")
    await etsy.control("PUT", "/settings", json={"access_token_ttl_s": 120})  # inside auth's 5-minute margin
    connection = await connect_shop(auth, etsy, settings, merchant["id"])
    await etsy.clear_request_log()

    first = await access_token(auth, settings, connection["id"], force=False)
    again = await access_token(auth, settings, connection["id"], force=False)

    assert first.status_code == 200, first.text
    assert len(await etsy.token_calls()) == 1  # the second caller got the pair refreshed a moment ago
    assert again.json()["access_token"] == first.json()["access_token"]
    assert (await etsy.me(first.json()["access_token"])).status_code == 200


async def test_a_token_etsy_expired_is_refreshed_when_the_client_meets_a_401(auth, etsy, admin, settings,
                                                                            connections_stack):
    merchant = await create_merchant(auth, admin)
    shop = await etsy.create_shop("ExpiredEarly")
    connection = await connect_shop(auth, etsy, settings, merchant["id"])
    stale = (await access_token(auth, settings, connection["id"], force=False)).json()["access_token"]
    await etsy.fault(kind="expire_tokens")
    assert (await etsy.me(stale)).status_code == 401
    await etsy.clear_request_log()

    client_settings = settings.model_copy(update={
        "service_name": "orders", "etsy_api_url": connections_stack.url("etsy-sandbox"),
        "etsy_client_id": "sandbox-etsy-keystring", "etsy_client_secret": SecretStr("sandbox-etsy-secret")})
    auth_client = AuthClient(InternalClient(client_settings, connections_stack.url("auth")))
    try:
        async with EtsyClient(client_settings, auth_client.token_provider(uuid.UUID(connection["id"]))) as client:
            info = await client.identify_shop()
    finally:
        await auth_client.aclose()

    assert info.shop_id == str(shop["shop_id"])
    assert len(await etsy.token_calls()) == 1
    fresh = (await access_token(auth, settings, connection["id"], force=False)).json()["access_token"]
    assert fresh != stale
    assert (await etsy.me(fresh)).status_code == 200


async def test_a_revoked_grant_moves_the_connection_to_needs_reauth_with_one_event(auth, etsy, admin, settings,
                                                                                  connections_db):
    merchant = await create_merchant(auth, admin)
    shop = await etsy.create_shop("RevokedShop")
    connection = await connect_shop(auth, etsy, settings, merchant["id"])
    await etsy.fault(kind="revoke_grant", user_id=shop["user_id"])

    answers = await asyncio.gather(*(access_token(auth, settings, connection["id"], force=True) for _ in range(3)))
    later = await access_token(auth, settings, connection["id"], force=False)

    assert [a.status_code for a in answers] == [409] * 3, [a.text for a in answers]
    assert later.status_code == 409
    assert later.json()["connection_status"] == "needs_reauth"
    assert await _status(auth, settings, connection["id"]) == "needs_reauth"
    assert len(await etsy.token_calls()) == 2  # the code exchange and the one refused refresh
    [event] = await outbox_events(connections_db, "connection.needs_reauth", connection["id"])
    assert event["tenantid"] == merchant["id"]
    assert "invalid_grant" in event["data"]["reason"]
    async with connections_db.connect() as conn:
        left = (await conn.execute(sa.text("SELECT count(*) FROM auth.connection_tokens WHERE connection_id = :id"),
                                   {"id": connection["id"]})).scalar_one()
    assert left == 0


async def test_reauthorizing_a_shop_revives_its_existing_connection(auth, etsy, admin, settings, connections_db):
    merchant = await create_merchant(auth, admin)
    shop = await etsy.create_shop("ComebackShop")
    original = await connect_shop(auth, etsy, settings, merchant["id"])
    await etsy.fault(kind="revoke_grant", user_id=shop["user_id"])
    assert (await access_token(auth, settings, original["id"], force=True)).status_code == 409

    renewed = await connect_shop(auth, etsy, settings, merchant["id"])

    assert renewed["id"] == original["id"]
    assert renewed["status"] == "active"
    token = await access_token(auth, settings, original["id"], force=False)
    assert token.status_code == 200
    assert (await etsy.me(token.json()["access_token"])).status_code == 200
    listed = (await auth.get("/v1/connections", auth=as_merchant(settings, merchant["id"]))).json()["items"]
    assert sorted(c["status"] for c in listed) == ["active", "disconnected"]
    assert len(await outbox_events(connections_db, "connection.connected", original["id"])) == 2


async def test_a_token_endpoint_outage_answers_503_and_keeps_the_connection_active(auth, etsy, admin, settings,
                                                                                  connections_db):
    merchant = await create_merchant(auth, admin)
    await etsy.create_shop("FlakyDay")
    connection = await connect_shop(auth, etsy, settings, merchant["id"])
    await etsy.fault(kind="token_server_error")

    outage = await access_token(auth, settings, connection["id"], force=True)
    assert outage.status_code == 503
    assert outage.json()["type"].endswith("/marketplace-unavailable")
    assert await _status(auth, settings, connection["id"]) == "active"
    assert await outbox_events(connections_db, "connection.needs_reauth", connection["id"]) == []

    recovered = await access_token(auth, settings, connection["id"], force=True)
    assert recovered.status_code == 200, recovered.text  # the refresh token was not burned by the outage
    assert (await etsy.me(recovered.json()["access_token"])).status_code == 200


async def test_disconnect_destroys_the_tokens_and_emits_one_event(auth, etsy, admin, settings, connections_db):
    merchant = await create_merchant(auth, admin)
    await etsy.create_shop("ClosingDown")
    connection = await connect_shop(auth, etsy, settings, merchant["id"])
    signed = as_merchant(settings, merchant["id"])

    first = await auth.delete(f"/v1/connections/{connection['id']}", auth=signed)
    second = await auth.delete(f"/v1/connections/{connection['id']}", auth=as_merchant(settings, merchant["id"]))

    assert (first.status_code, second.status_code) == (204, 204)
    shown = (await auth.get(f"/v1/connections/{connection['id']}",
                            auth=as_merchant(settings, merchant["id"]))).json()
    assert shown["status"] == "disconnected"
    assert shown["disconnected_at"] is not None
    async with connections_db.connect() as conn:
        left = (await conn.execute(sa.text("SELECT count(*) FROM auth.connection_tokens WHERE connection_id = :id"),
                                   {"id": connection["id"]})).scalar_one()
    assert left == 0
    [event] = await outbox_events(connections_db, "connection.disconnected", connection["id"])
    assert event["data"]["merchant_id"] == merchant["id"]
    refused = await access_token(auth, settings, connection["id"], force=False)
    assert refused.status_code == 409
    assert refused.json()["connection_status"] == "disconnected"


async def test_a_tenant_never_sees_another_merchants_connections(auth, etsy, admin, settings):
    alice, bob = await create_merchant(auth, admin, "Alice"), await create_merchant(auth, admin, "Bob")
    await etsy.create_shop("AliceShop")
    connection = await connect_shop(auth, etsy, settings, alice["id"])
    as_bob = lambda: as_merchant(settings, bob["id"])  # noqa: E731 -- a fresh signature per request

    assert (await auth.get(f"/v1/connections/{connection['id']}", auth=as_bob())).status_code == 404
    assert (await auth.delete(f"/v1/connections/{connection['id']}", auth=as_bob())).status_code == 404
    assert (await auth.get("/v1/connections", auth=as_bob())).json()["items"] == []
    assert (await auth.get("/v1/connections", params={"merchant_id": alice["id"]},
                           auth=as_bob())).status_code == 404
    on_behalf = await auth.post("/v1/connections", json={"marketplace": "etsy", "merchant_id": alice["id"]},
                                auth=as_bob())
    assert on_behalf.status_code == 404
    assert await _status(auth, settings, connection["id"]) == "active"

    admin_view = await auth.get("/v1/connections", params={"merchant_id": alice["id"]},
                                auth=as_connections_admin(settings))
    assert [c["id"] for c in admin_view.json()["items"]] == [connection["id"]]


async def test_connection_requests_name_the_field_at_fault(auth, admin, settings):
    merchant = await create_merchant(auth, admin)
    headers = lambda: as_merchant(settings, merchant["id"])  # noqa: E731

    no_credentials = await auth.post("/v1/connections", json={"marketplace": "bigcommerce",
                                                              "merchant_id": merchant["id"]}, auth=headers())
    unknown_marketplace = await auth.post("/v1/connections", json={"marketplace": "ebay",
                                                                   "merchant_id": merchant["id"]}, auth=headers())
    missing_merchant = await auth.post("/v1/connections", json={"marketplace": "etsy"}, auth=headers())
    unknown_merchant = await auth.post("/v1/connections", json={"marketplace": "etsy",
                                                                "merchant_id": str(uuid.uuid4())},
                                      auth=as_connections_admin(settings))

    assert (no_credentials.status_code, _problem_fields(no_credentials)) == (422, ["credentials"])
    assert (unknown_marketplace.status_code, _problem_fields(unknown_marketplace)) == (422, ["marketplace"])
    assert (missing_merchant.status_code, _problem_fields(missing_merchant)) == (422, ["merchant_id"])
    assert (unknown_merchant.status_code, _problem_fields(unknown_merchant)) == (422, ["merchant_id"])


async def test_a_settings_switch_sent_as_null_or_as_text_is_422_naming_it_and_changes_nothing(auth, admin, settings):
    merchant = await create_merchant(auth, admin)
    connection = await start_connection(auth, settings, merchant["id"])
    path, signed = f"/v1/connections/{connection['id']}", as_merchant(settings, merchant["id"])

    nulled = await auth.patch(path, json={"settings": {"auto_import_orders": None, "send_order_confirmation": True}},
                              auth=signed)
    as_text = await auth.patch(path, json={"settings": {"register_buyers_as_customers": "yes"}}, auth=signed)

    assert (nulled.status_code, _problem_fields(nulled)) == (422, ["settings.auto_import_orders"])
    assert (as_text.status_code, _problem_fields(as_text)) == (422, ["settings.register_buyers_as_customers"])
    shown = (await auth.get(path, auth=signed)).json()["settings"]
    assert (shown["auto_import_orders"], shown["send_order_confirmation"], shown["register_buyers_as_customers"]) == (
        True, False, False)


async def test_connections_list_pages_with_a_cursor(auth, admin, settings):
    merchant = await create_merchant(auth, admin)
    created = [(await start_connection(auth, settings, merchant["id"]))["id"] for _ in range(3)]
    headers = lambda: as_merchant(settings, merchant["id"])  # noqa: E731

    first = (await auth.get("/v1/connections", params={"limit": 2}, auth=headers())).json()
    second = (await auth.get("/v1/connections", params={"limit": 2, "cursor": first["next_cursor"]},
                             auth=headers())).json()

    assert [c["id"] for c in first["items"] + second["items"]] == created
    assert second["next_cursor"] is None


async def test_internal_routes_require_the_internal_scope(auth, admin, settings):
    merchant = await create_merchant(auth, admin)
    connection = await start_connection(auth, settings, merchant["id"])
    path = f"/internal/connections/{connection['id']}"

    assert (await auth.get(path)).status_code == 401
    assert (await auth.get(path, auth=as_merchant(settings, merchant["id"]))).status_code == 403
    assert (await auth.post(f"{path}/access-token", json={}, auth=admin())).status_code == 403
    internal = await auth.get(path, auth=as_internal(settings))
    assert internal.status_code == 200
    body = internal.json()
    assert body.pop("settings")["auto_import_orders"] is True  # defaults, for the services that sync
    assert body == {"id": connection["id"], "merchant_id": merchant["id"], "marketplace": "etsy",
                    "status": "pending", "shop_id": None, "shop_name": None}
    pending = await access_token(auth, settings, connection["id"], force=False)
    assert pending.status_code == 409
    missing = await access_token(auth, settings, str(uuid.uuid4()), force=False)
    assert missing.status_code == 404
