"""The typed auth client against the real auth process and Etsy sandbox: what it keeps, when it asks.

Round trips are counted on auth's own request counter (`/metrics`): this module is the only caller of
the `connections_stack` auth process while a test runs.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr, ValidationError

from shared.auth_client import (
    AuthClient,
    AuthUnavailable,
    Connection,
    ConnectionInactive,
    ConnectionNotFound,
)
from shared.devstack.processes import free_listen_port
from shared.marketplaces.etsy.client import EtsyClient
from shared.web.internal import InternalClient
from tests.auth.conftest import access_token, as_merchant, connect_shop, create_merchant
from tests.conftest import eventually

TOKEN_ROUTE = "/internal/connections/{connection_id}/access-token"


class Clock:
    """The client's notion of now, moved by the test (auth keeps real time)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


async def token_round_trips(auth: httpx.AsyncClient) -> int:
    """POSTs auth has served on its internal access-token route, from its Prometheus counter."""
    families = text_string_to_metric_families((await auth.get("/metrics")).text)
    return int(sum(sample.value for family in families for sample in family.samples
                   if sample.name == "cb_http_requests_total" and sample.labels.get("route") == TOKEN_ROUTE
                   and sample.labels.get("method") == "POST"))


async def assert_round_trips(auth: httpx.AsyncClient, expected: int) -> None:
    """Auth counts a request just after answering it, so a real round trip may show a moment late; one too
    many never settles back to `expected` and fails here or at the next check."""
    async def settled() -> bool:
        return await token_round_trips(auth) == expected
    await eventually(settled, timeout=10.0)


@pytest.fixture
def client_settings(settings, connections_stack):
    return settings.model_copy(update={
        "service_name": "orders", "auth_url": connections_stack.url("auth"),
        "etsy_api_url": connections_stack.url("etsy-sandbox"),
        "etsy_client_id": "sandbox-etsy-keystring", "etsy_client_secret": SecretStr("sandbox-etsy-secret")})


@pytest.fixture
async def clock_and_client(client_settings):
    clock = Clock()
    client = AuthClient(InternalClient(client_settings, client_settings.auth_url), clock=clock)
    yield clock, client
    await client.aclose()


async def _connected(auth, etsy, admin, settings, name: str) -> uuid.UUID:
    merchant = await create_merchant(auth, admin)
    await etsy.create_shop(f"{name}{uuid.uuid4().hex[:6]}")
    return uuid.UUID((await connect_shop(auth, etsy, settings, merchant["id"]))["id"])


async def test_a_kept_token_is_served_without_auth_until_a_minute_before_it_expires(auth, etsy, admin, settings,
                                                                                   clock_and_client):
    clock, client = clock_and_client
    connection_id = await _connected(auth, etsy, admin, settings, "Kept")
    before = await token_round_trips(auth)

    first = await client.access_token(connection_id)
    again = [await client.access_token(connection_id) for _ in range(3)]
    assert first.expires_at is not None and first.expires_at > datetime.now(UTC)
    assert {t.access_token for t in again} == {first.access_token}
    await assert_round_trips(auth, before + 1)

    clock.now = first.expires_at - timedelta(seconds=61)  # still outside the margin: kept
    assert (await client.access_token(connection_id)).access_token == first.access_token
    await assert_round_trips(auth, before + 1)

    clock.now = first.expires_at - timedelta(seconds=59)  # inside the margin: asked again, once for all callers
    answers = await asyncio.gather(*(client.access_token(connection_id) for _ in range(5)))
    assert len({a.access_token for a in answers}) == 1
    await assert_round_trips(auth, before + 2)


async def test_a_forced_refresh_after_a_401_replaces_the_kept_token(auth, etsy, admin, settings, client_settings,
                                                                   clock_and_client):
    _clock, client = clock_and_client
    connection_id = await _connected(auth, etsy, admin, settings, "Refused")
    stale = await client.access_token(connection_id)
    await etsy.fault(kind="expire_tokens")
    assert (await etsy.me(stale.access_token)).status_code == 401
    before = await token_round_trips(auth)

    async with EtsyClient(client_settings, client.token_provider(connection_id)) as etsy_client:
        await etsy_client.identify_shop()  # 401 with the kept token → forced refresh → retried

    await assert_round_trips(auth, before + 1)
    kept = await client.access_token(connection_id)
    assert kept.access_token != stale.access_token
    await assert_round_trips(auth, before + 1)  # the refreshed token replaced the kept one
    current = (await access_token(auth, settings, str(connection_id), force=False)).json()["access_token"]
    assert kept.access_token == current
    assert (await etsy.me(kept.access_token)).status_code == 200


async def test_connections_are_typed_and_read_fresh(auth, etsy, admin, settings, clock_and_client):
    _clock, client = clock_and_client
    merchant = await create_merchant(auth, admin)
    shop = await etsy.create_shop(f"Typed{uuid.uuid4().hex[:6]}")
    connection_id = uuid.UUID((await connect_shop(auth, etsy, settings, merchant["id"]))["id"])

    connection = await client.active_connection(connection_id)
    assert (connection.status, connection.shop_id, connection.marketplace) == ("active", str(shop["shop_id"]), "etsy")
    assert connection.merchant_id == uuid.UUID(merchant["id"]) and connection.settings["auto_import_orders"] is True
    assert (await client.signing_secret(connection_id)).value is None  # Etsy signs no order webhooks

    await client.access_token(connection_id)
    deleted = await auth.delete(f"/v1/connections/{connection_id}", auth=as_merchant(settings, merchant["id"]))
    assert deleted.status_code == 204
    assert (await client.connection(connection_id)).status == "disconnected"
    with pytest.raises(ConnectionInactive) as inactive:
        await client.active_connection(connection_id)
    assert inactive.value.status == "disconnected"
    with pytest.raises(ConnectionInactive) as refused:
        await client.access_token(connection_id, force_refresh=True)
    assert refused.value.status == "disconnected"
    before = await token_round_trips(auth)
    with pytest.raises(ConnectionInactive):  # a refusal drops the kept token: it is never served again
        await client.access_token(connection_id)
    await assert_round_trips(auth, before + 1)


async def test_unknown_connections_and_an_unreachable_auth_are_domain_errors(client_settings, clock_and_client):
    _clock, client = clock_and_client
    unknown = uuid.uuid4()
    with pytest.raises(ConnectionNotFound):
        await client.connection(unknown)
    with pytest.raises(ConnectionNotFound):
        await client.access_token(unknown)
    assert (await client.signing_secret(unknown)).value is None  # auth answers "nothing signs" for any id

    nowhere = AuthClient.from_settings(client_settings.model_copy(
        update={"auth_url": f"http://127.0.0.1:{free_listen_port()}"}))
    try:
        with pytest.raises(AuthUnavailable):
            await nowhere.access_token(unknown)
        with pytest.raises(AuthUnavailable):
            await nowhere.connection(unknown)
    finally:
        await nowhere.aclose()


def test_a_connection_status_auth_never_answers_is_refused():
    fields = {"id": uuid.uuid4(), "merchant_id": uuid.uuid4(), "marketplace": "etsy", "shop_id": "1",
              "shop_name": "x", "settings": {}}
    assert Connection.model_validate({**fields, "status": "needs_reauth"}).active is False
    with pytest.raises(ValidationError, match="status"):
        Connection.model_validate({**fields, "status": "paused"})
