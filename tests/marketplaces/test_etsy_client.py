"""EtsyClient and the OAuth helpers against the Etsy emulator over real HTTP (no mocks).

Every exchange also passes the OpenAPI contract recorder (see conftest).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import structlog
from pydantic import SecretStr

from shared.marketplaces.base import (
    AuthorizationLost,
    RejectedByMarketplace,
    SyncWindow,
    TrackingPush,
    TransientMarketplaceError,
)
from shared.marketplaces.etsy import oauth
from shared.marketplaces.etsy.client import EtsyClient
from shared.marketplaces.http import OutcomeUnknown
from shared.settings import Settings
from tests.marketplaces.conftest import (
    REDIRECT_URI,
    Exchanges,
    SandboxTokens,
    SandboxWorld,
    connect,
    recording_http,
)

RECEIPTS = "/v3/application/shops"


async def all_pages(client: EtsyClient, window: SyncWindow) -> list[Any]:
    return [page async for page in client.paid_unshipped_orders(window)]


def receipt_list_calls(world: SandboxWorld) -> list[dict[str, Any]]:
    return [e for e in world.requests_log(RECEIPTS) if e["method"] == "GET" and e["path"].endswith("/receipts")]


# --------------------------------------------------------------------------- OAuth connect flow


async def test_connect_flow_uses_pkce_and_returns_an_expiring_token_set(
    etsy_settings: Settings, shop: dict[str, Any], oauth_http: httpx.AsyncClient, exchanges: Exchanges
) -> None:
    before = datetime.now(UTC)
    tokens = await connect(oauth, etsy_settings, oauth_http)

    assert tokens.access_token.startswith(f"{shop['user_id']}.")
    assert tokens.refresh_token.startswith(f"{shop['user_id']}.")
    assert before + timedelta(seconds=3590) <= tokens.expires_at <= datetime.now(UTC) + timedelta(seconds=3600)
    assert tokens.access_token not in repr(tokens) and tokens.refresh_token not in repr(tokens)
    authorize = exchanges.sent[0][0].url
    assert authorize.params["code_challenge_method"] == "S256"
    assert authorize.params["scope"] == etsy_settings.etsy_scopes
    assert authorize.params["redirect_uri"] == REDIRECT_URI
    assert "%20" in str(authorize)  # scopes separated by an encoded space, not '+'


async def test_refresh_rotates_tokens_and_a_spent_refresh_token_is_authorization_lost(
    etsy_settings: Settings, tokens: SandboxTokens, oauth_http: httpx.AsyncClient
) -> None:
    first = tokens.tokens
    renewed = await oauth.refresh(etsy_settings, first.refresh_token, http=oauth_http)
    assert renewed.refresh_token != first.refresh_token

    with pytest.raises(AuthorizationLost, match="already been used"):
        await oauth.refresh(etsy_settings, first.refresh_token, http=oauth_http)


async def test_wrong_code_verifier_is_authorization_lost(
    etsy_settings: Settings, shop: dict[str, Any], oauth_http: httpx.AsyncClient
) -> None:
    _, challenge = oauth.new_pkce_pair()
    other_verifier, _ = oauth.new_pkce_pair()
    url = oauth.authorization_url(etsy_settings, state="s-1", code_challenge=challenge, redirect_uri=REDIRECT_URI)
    location = httpx.URL((await oauth_http.get(url)).headers["location"])
    with pytest.raises(AuthorizationLost, match="code_verifier"):
        await oauth.exchange_code(
            etsy_settings,
            code=location.params["code"],
            code_verifier=other_verifier,
            redirect_uri=REDIRECT_URI,
            http=oauth_http,
        )


async def test_token_endpoint_outage_is_transient_and_the_refresh_is_not_retried(
    etsy_settings: Settings, world: SandboxWorld, tokens: SandboxTokens, oauth_http: httpx.AsyncClient
) -> None:
    world.clear_requests()
    world.fault(kind="token_server_error", count=3)
    with pytest.raises(TransientMarketplaceError) as raised:
        await oauth.refresh(etsy_settings, tokens.tokens.refresh_token, http=oauth_http)
    assert not isinstance(raised.value, AuthorizationLost | RejectedByMarketplace)
    assert [e["status"] for e in world.requests_log("/v3/public/oauth/token")] == [503]


async def test_unknown_client_id_is_rejected_not_lost(
    etsy_settings: Settings, tokens: SandboxTokens, oauth_http: httpx.AsyncClient
) -> None:
    wrong = etsy_settings.model_copy(update={"etsy_client_id": "not-our-app"})
    with pytest.raises(RejectedByMarketplace) as raised:
        await oauth.refresh(wrong, tokens.tokens.refresh_token, http=oauth_http)
    assert raised.value.status == 401


# --------------------------------------------------------------------------- headers and shop


async def test_identify_shop_reads_me_then_the_shop(etsy_client: EtsyClient, shop: dict[str, Any]) -> None:
    info = await etsy_client.identify_shop()
    assert info.shop_id == str(shop["shop_id"])
    assert info.shop_name == "ZoeCeramics"


async def test_every_api_call_sends_keystring_colon_secret_and_the_bearer_token(
    etsy_client: EtsyClient, tokens: SandboxTokens, exchanges: Exchanges
) -> None:
    await etsy_client.identify_shop()
    api_requests = [req for req, _ in exchanges.sent if req.url.path.startswith("/v3/application/")]
    assert len(api_requests) == 2
    for request in api_requests:
        assert request.headers["x-api-key"] == "sandbox-etsy-keystring:sandbox-etsy-secret"
        assert request.headers["authorization"] == f"Bearer {tokens.tokens.access_token}"


async def test_wrong_shared_secret_is_rejected_once_without_retries(
    etsy_settings: Settings, world: SandboxWorld, tokens: SandboxTokens, exchanges: Exchanges
) -> None:
    wrong = etsy_settings.model_copy(update={"etsy_client_secret": SecretStr("not-the-secret")})
    world.clear_requests()
    async with recording_http(wrong, exchanges) as http:
        with pytest.raises(RejectedByMarketplace) as raised:
            await EtsyClient(wrong, tokens, http=http).identify_shop()
    assert raised.value.status == 403
    assert [e["status"] for e in world.requests_log()] == [403]


async def test_a_token_for_another_shop_is_refused(etsy_settings: Settings, tokens: SandboxTokens, exchanges: Exchanges) -> None:
    async with recording_http(etsy_settings, exchanges) as http:
        with pytest.raises(RejectedByMarketplace, match="not to shop 12345"):
            await EtsyClient(etsy_settings, tokens, shop_id="12345", http=http).identify_shop()


# --------------------------------------------------------------------------- order sync


async def test_first_sync_yields_exactly_the_paid_unshipped_receipts_in_pages_of_100(
    etsy_client: EtsyClient, world: SandboxWorld, shop: dict[str, Any]
) -> None:
    shop_id = shop["shop_id"]
    wanted = {str(r["receipt_id"]) for r in world.create_receipts(shop_id, count=250)}
    world.create_receipts(shop_id, count=3, is_paid=False)
    world.create_receipts(shop_id, count=4, is_shipped=True)
    world.create_receipts(shop_id, count=2, status="canceled")
    world.clear_requests()

    pages = await all_pages(etsy_client, SyncWindow(cursor=None))

    assert [len(p.orders) for p in pages] == [100, 100, 50]
    assert all(not p.rejected for p in pages)
    orders = [o for p in pages for o in p.orders]
    assert {o.external_id for o in orders} == wanted
    assert {o.state for o in orders} == {"paid"}
    updated = [o.updated_at for o in orders]
    assert updated == sorted(updated)
    calls = receipt_list_calls(world)
    assert [c["params"]["offset"] for c in calls] == ["0", "100", "200"]
    for call in calls:
        assert call["params"]["was_paid"] == "true"
        assert call["params"]["was_shipped"] == "false"
        assert call["params"]["was_canceled"] == "false"
        assert (call["params"]["sort_on"], call["params"]["sort_order"], call["params"]["limit"]) == (
            "updated",
            "asc",
            "100",
        )
        assert "min_last_modified" not in call["params"]


async def test_incremental_sync_reads_from_cursor_minus_overlap_then_cancellations_and_shipments(
    etsy_client: EtsyClient, world: SandboxWorld, shop: dict[str, Any]
) -> None:
    shop_id = shop["shop_id"]
    t0 = int(time.time())
    imported_then_cancelled, long_ago = world.create_receipts(shop_id, count=2, create_timestamp=t0 - 5000)
    in_overlap = world.create_receipts(shop_id, count=2, create_timestamp=t0 - 800)
    fresh = world.create_receipts(shop_id, count=2, create_timestamp=t0)
    world.create_receipts(shop_id, count=1, status="canceled", create_timestamp=t0 - 5000)  # before the window
    shipped = world.create_receipts(shop_id, count=1, is_shipped=True, status="completed", create_timestamp=t0)
    world.patch_receipt(shop_id, imported_then_cancelled["receipt_id"], status="canceled")
    world.clear_requests()

    window = SyncWindow(cursor=str(t0 - 300), overlap_s=600)
    pages = await all_pages(etsy_client, window)

    orders = [o for p in pages for o in p.orders]
    assert [o.external_id for o in orders] == [str(r["receipt_id"]) for r in [*in_overlap, *fresh]] + [
        str(imported_then_cancelled["receipt_id"]), str(shipped[0]["receipt_id"])
    ]
    assert [o.state for o in orders] == ["paid"] * 4 + ["cancelled", "shipped"]
    assert str(long_ago["receipt_id"]) not in {o.external_id for o in orders}
    calls = receipt_list_calls(world)
    assert len(calls) == 3
    assert {c["params"]["min_last_modified"] for c in calls} == {str(t0 - 900)}
    assert calls[0]["params"]["was_canceled"] == "false"
    assert calls[1]["params"]["was_canceled"] == "true"
    assert "was_paid" not in calls[1]["params"] and "was_shipped" not in calls[1]["params"]
    assert calls[2]["params"]["was_shipped"] == "true"
    assert "was_paid" not in calls[2]["params"] and "was_canceled" not in calls[2]["params"]


async def test_next_cursor_is_the_sync_start_in_epoch_seconds(etsy_client: EtsyClient) -> None:
    assert etsy_client.next_cursor(datetime(2026, 1, 1, 0, 0, 30, 900_000, tzinfo=UTC)) == "1767225630"
    with pytest.raises(ValueError, match="timezone-aware"):
        etsy_client.next_cursor(datetime(2026, 1, 1))


async def test_a_receipt_we_cannot_accept_is_rejected_without_blocking_its_page(
    etsy_client: EtsyClient, world: SandboxWorld, shop: dict[str, Any]
) -> None:
    good = world.create_receipts(shop["shop_id"], count=2)
    [bad] = world.create_receipts(shop["shop_id"], transactions=[{"quantity": 0}])
    [page] = await all_pages(etsy_client, SyncWindow(cursor=None))
    assert {o.external_id for o in page.orders} == {str(r["receipt_id"]) for r in good}
    assert [(r.external_id, r.reason) for r in page.rejected] == [
        (str(bad["receipt_id"]), "transactions[0].quantity must be at least 1, got 0")
    ]


async def test_get_order_reads_one_receipt(etsy_client: EtsyClient, world: SandboxWorld, shop: dict[str, Any]) -> None:
    [made] = world.create_receipts(shop["shop_id"], name="Zoë Ætherington 山田", buyer_email=None, second_line=None)
    order = await etsy_client.get_order(str(made["receipt_id"]))
    assert order.buyer.name == "Zoë Ætherington 山田"
    assert order.buyer.email is None
    with pytest.raises(RejectedByMarketplace) as missing:
        await etsy_client.get_order("2999999999")
    assert missing.value.status == 404
    with pytest.raises(ValueError, match="external_id"):
        await etsy_client.get_order("../users/me")


# --------------------------------------------------------------------------- retries and rate limits


async def test_a_429_burst_is_waited_out_honouring_retry_after(
    etsy_client: EtsyClient, world: SandboxWorld, shop: dict[str, Any]
) -> None:
    world.create_receipts(shop["shop_id"], count=5)
    world.clear_requests()
    world.fault(kind="rate_limit", count=2, retry_after=1)

    started = time.monotonic()
    pages = await all_pages(etsy_client, SyncWindow(cursor=None))

    assert sum(len(p.orders) for p in pages) == 5
    assert time.monotonic() - started >= 2.0
    log = world.requests_log()
    assert [(e["status"], e["fault"]) for e in log[:3]] == [(429, "rate_limit"), (429, "rate_limit"), (200, None)]
    assert log[0]["path"] == log[1]["path"] == log[2]["path"]


async def test_etsy_own_rate_limiter_429s_are_retried_until_the_calls_complete(
    etsy_client: EtsyClient, world: SandboxWorld, shop: dict[str, Any]
) -> None:
    made = world.create_receipts(shop["shop_id"], count=6)
    await etsy_client.identify_shop()
    world.settings(rate_per_second=2)
    world.clear_requests()

    orders = [await etsy_client.get_order(str(r["receipt_id"])) for r in made]

    assert len(orders) == 6
    statuses = [e["status"] for e in world.requests_log()]
    assert 429 in statuses and statuses.count(200) == 6


async def test_our_token_bucket_keeps_us_under_etsys_limit(
    etsy_settings: Settings, world: SandboxWorld, shop: dict[str, Any], tokens: SandboxTokens, exchanges: Exchanges
) -> None:
    made = world.create_receipts(shop["shop_id"], count=6)
    slower_than_etsy = etsy_settings.model_copy(update={"etsy_rate_per_second": 1.5})
    world.settings(rate_per_second=2)
    async with recording_http(slower_than_etsy, exchanges) as http:
        client = EtsyClient(slower_than_etsy, tokens, shop_id=str(shop["shop_id"]), http=http)
        world.clear_requests()
        for r in made:
            await client.get_order(str(r["receipt_id"]))
    assert [e["status"] for e in world.requests_log()] == [200] * 6


async def test_503s_are_retried_with_backoff_then_the_sync_completes(
    etsy_client: EtsyClient, world: SandboxWorld, shop: dict[str, Any]
) -> None:
    world.create_receipts(shop["shop_id"], count=3)
    await etsy_client.identify_shop()
    world.clear_requests()
    world.fault(kind="server_error", status=503, count=2)

    pages = await all_pages(etsy_client, SyncWindow(cursor=None))

    assert sum(len(p.orders) for p in pages) == 3
    assert [e["status"] for e in world.requests_log()] == [503, 503, 200]


async def test_5xx_outlasting_the_retries_is_a_transient_error(
    etsy_client: EtsyClient, world: SandboxWorld, etsy_settings: Settings
) -> None:
    world.fault(kind="server_error", status=500, count=50)
    world.clear_requests()
    with pytest.raises(TransientMarketplaceError, match="HTTP 500"):
        await etsy_client.identify_shop()
    assert len(world.requests_log()) == etsy_settings.marketplace_max_retries + 1
    world.control("DELETE", "/faults")


async def test_a_400_is_never_retried(etsy_client: EtsyClient, world: SandboxWorld, shop: dict[str, Any]) -> None:
    [made] = world.create_receipts(shop["shop_id"])
    world.clear_requests()
    with pytest.raises(RejectedByMarketplace, match="not a valid tracking code") as raised:
        await etsy_client.push_tracking(
            TrackingPush(external_order_id=str(made["receipt_id"]), carrier="UPS", tracking_number="x!")
        )
    assert raised.value.status == 400
    posts = [e for e in world.requests_log() if e["method"] == "POST"]
    assert [e["status"] for e in posts] == [400]


# --------------------------------------------------------------------------- tokens


async def test_access_token_expiring_mid_sync_is_refreshed_once_and_the_sync_completes(
    etsy_client: EtsyClient, world: SandboxWorld, shop: dict[str, Any], tokens: SandboxTokens
) -> None:
    world.create_receipts(shop["shop_id"], count=250)
    seen = []
    async for page in etsy_client.paid_unshipped_orders(SyncWindow(cursor=None)):
        seen.extend(page.orders)
        if len(seen) == 100:
            world.fault(kind="expire_tokens")

    assert len({o.external_id for o in seen}) == 250
    assert tokens.calls.count(True) == 1
    statuses = [e["status"] for e in receipt_list_calls(world)]
    assert statuses == [200, 401, 200, 200]


async def test_revoked_grant_surfaces_as_authorization_lost(
    etsy_client: EtsyClient,
    etsy_settings: Settings,
    world: SandboxWorld,
    shop: dict[str, Any],
    tokens: SandboxTokens,
    oauth_http: httpx.AsyncClient,
) -> None:
    refresh_token = tokens.tokens.refresh_token
    world.fault(kind="revoke_grant", user_id=shop["user_id"])

    with pytest.raises(AuthorizationLost, match="revoked"):
        await etsy_client.identify_shop()
    assert tokens.calls == [False, True]
    with pytest.raises(AuthorizationLost, match="revoked"):
        await oauth.refresh(etsy_settings, refresh_token, http=oauth_http)


async def test_a_second_401_after_refresh_is_authorization_lost(
    etsy_settings: Settings, world: SandboxWorld, shop: dict[str, Any], exchanges: Exchanges
) -> None:
    calls: list[bool] = []

    async def dead_tokens(force_refresh: bool) -> str:
        calls.append(force_refresh)
        return f"{shop['user_id']}.no-longer-valid"

    async with recording_http(etsy_settings, exchanges) as http:
        with pytest.raises(AuthorizationLost, match="freshly refreshed"):
            await EtsyClient(etsy_settings, dead_tokens, http=http).identify_shop()
    assert calls == [False, True]


async def test_requests_are_logged_without_tokens_or_secrets(
    etsy_client: EtsyClient, world: SandboxWorld, shop: dict[str, Any], tokens: SandboxTokens
) -> None:
    world.create_receipts(shop["shop_id"], count=2)
    with structlog.testing.capture_logs() as logs:
        await all_pages(etsy_client, SyncWindow(cursor=str(int(time.time()))))
    requests = [e for e in logs if e["event"] == "marketplace_request"]
    assert requests and all(e["log_level"] == "debug" for e in requests)
    assert {"method", "path", "status", "attempt", "elapsed_ms"} <= set(requests[0])
    text = repr(logs)
    for secret in (tokens.tokens.access_token, tokens.tokens.refresh_token, "sandbox-etsy-secret", "min_last"):
        assert secret not in text


# --------------------------------------------------------------------------- tracking


async def test_push_tracking_records_the_mapped_carrier_on_the_receipt(
    etsy_client: EtsyClient, world: SandboxWorld, shop: dict[str, Any]
) -> None:
    [made] = world.create_receipts(shop["shop_id"], country_iso="GB", currency_code="GBP")
    result = await etsy_client.push_tracking(
        TrackingPush(external_order_id=str(made["receipt_id"]), carrier="Royal Mail", tracking_number="RM123456785GB")
    )

    [shipment] = world.shipments(shop["shop_id"], made["receipt_id"])
    assert (shipment["carrier_name"], shipment["tracking_code"]) == ("royal-mail", "RM123456785GB")
    assert shipment["note_to_buyer"] is None
    assert result.marketplace_shipment_id == str(shipment["receipt_shipping_id"])
    assert result.carrier_sent == "royal-mail"
    assert result.order_fully_shipped is True
    receipt = world.control("GET", f"/shops/{shop['shop_id']}/receipts/{made['receipt_id']}")
    assert receipt["is_shipped"] is True and receipt["status"] == "completed"


async def test_unknown_carrier_goes_as_other_with_the_name_in_the_buyer_note(
    etsy_client: EtsyClient, world: SandboxWorld, shop: dict[str, Any]
) -> None:
    [made] = world.create_receipts(shop["shop_id"])
    result = await etsy_client.push_tracking(
        TrackingPush(
            external_order_id=str(made["receipt_id"]),
            carrier="Speedy Llama Couriers",
            tracking_number="SLC-000123",
            note="Leave at the door",
        )
    )
    [shipment] = world.shipments(shop["shop_id"], made["receipt_id"])
    assert shipment["carrier_name"] == "other"
    assert shipment["note_to_buyer"] == "Carrier: Speedy Llama Couriers\nLeave at the door"
    assert result.carrier_sent == "other"


async def test_pushing_the_same_tracking_twice_records_one_shipment(
    etsy_client: EtsyClient, world: SandboxWorld, shop: dict[str, Any]
) -> None:
    [made] = world.create_receipts(shop["shop_id"])
    push = TrackingPush(external_order_id=str(made["receipt_id"]), carrier="USPS", tracking_number="9400111899223")
    first = await etsy_client.push_tracking(push)
    world.clear_requests()
    again = await etsy_client.push_tracking(push)

    assert again == first
    assert len(world.shipments(shop["shop_id"], made["receipt_id"])) == 1
    assert [e["method"] for e in world.requests_log()] == ["GET"]


async def test_a_503_on_push_tracking_is_checked_before_sending_again(
    etsy_client: EtsyClient, world: SandboxWorld, shop: dict[str, Any]
) -> None:
    [made] = world.create_receipts(shop["shop_id"])
    await etsy_client.identify_shop()
    tracking_path = f"/v3/application/shops/{shop['shop_id']}/receipts/{made['receipt_id']}/tracking"
    world.fault(kind="server_error", status=503, count=1, path_prefix=tracking_path)
    world.clear_requests()

    result = await etsy_client.push_tracking(
        TrackingPush(external_order_id=str(made["receipt_id"]), carrier="DHL Express", tracking_number="JD0146000")
    )

    assert [(e["method"], e["status"]) for e in world.requests_log()] == [
        ("GET", 200),
        ("POST", 503),
        ("GET", 200),
        ("POST", 200),
    ]
    [shipment] = world.shipments(shop["shop_id"], made["receipt_id"])
    assert result.marketplace_shipment_id == str(shipment["receipt_shipping_id"])
    assert shipment["carrier_name"] == "dhl-express"


async def test_a_push_that_times_out_ends_with_exactly_one_shipment(
    etsy_settings: Settings, world: SandboxWorld, shop: dict[str, Any], tokens: SandboxTokens, exchanges: Exchanges
) -> None:
    [made] = world.create_receipts(shop["shop_id"])
    impatient = etsy_settings.model_copy(update={"marketplace_timeout_s": 0.4})
    tracking_path = f"/v3/application/shops/{shop['shop_id']}/receipts/{made['receipt_id']}/tracking"
    world.fault(kind="slow", delay_s=0.8, count=1, path_prefix=tracking_path)
    async with recording_http(impatient, exchanges) as http:
        client = EtsyClient(impatient, tokens, shop_id=str(shop["shop_id"]), http=http)
        result = await client.push_tracking(
            TrackingPush(external_order_id=str(made["receipt_id"]), carrier="gls", tracking_number="GLS12345")
        )
    [shipment] = world.shipments(shop["shop_id"], made["receipt_id"])
    assert result.marketplace_shipment_id == str(shipment["receipt_shipping_id"])
    # Looked before sending, and looked again after the timeout before sending a second time.
    assert [e["method"] for e in world.requests_log("/v3/application")].count("GET") == 2


async def test_push_tracking_gives_up_with_outcome_unknown_when_etsy_keeps_failing(
    etsy_client: EtsyClient, world: SandboxWorld, shop: dict[str, Any], etsy_settings: Settings
) -> None:
    [made] = world.create_receipts(shop["shop_id"])
    await etsy_client.identify_shop()
    tracking_path = f"/v3/application/shops/{shop['shop_id']}/receipts/{made['receipt_id']}/tracking"
    world.fault(kind="server_error", status=500, count=50, path_prefix=tracking_path)
    world.clear_requests()
    with pytest.raises(OutcomeUnknown):
        await etsy_client.push_tracking(
            TrackingPush(external_order_id=str(made["receipt_id"]), carrier="UPS", tracking_number="1Z999AA10123")
        )
    posts = [e for e in world.requests_log() if e["method"] == "POST"]
    assert len(posts) == etsy_settings.marketplace_max_retries + 1
    world.control("DELETE", "/faults")


async def test_tracking_for_a_cancelled_receipt_is_rejected_with_etsys_reason(
    etsy_client: EtsyClient, world: SandboxWorld, shop: dict[str, Any]
) -> None:
    [made] = world.create_receipts(shop["shop_id"], status="canceled")
    with pytest.raises(RejectedByMarketplace, match="status 'canceled'") as raised:
        await etsy_client.push_tracking(
            TrackingPush(external_order_id=str(made["receipt_id"]), carrier="UPS", tracking_number="1Z999AA10123")
        )
    assert raised.value.status == 409
