"""BigCommerceClient and the credential check against the BigCommerce emulator over real HTTP (no mocks).

Every exchange also passes the OpenAPI contract recorder (see `bigcommerce_sandbox`).
"""

from __future__ import annotations

# The sandbox fixtures are imported by name (the shared conftest is Etsy's), so test parameters
# "redefine" them by design.
# ruff: noqa: F811
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.marketplaces.base import AuthorizationLost, RejectedByMarketplace, SyncWindow, TrackingPush
from shared.marketplaces.bigcommerce import credentials
from shared.marketplaces.bigcommerce.client import BigCommerceClient
from shared.marketplaces.bigcommerce.webhooks import ORDER_SCOPES, SECRET_HEADER
from shared.settings import Settings
from tests.marketplaces.bigcommerce_sandbox import (
    Connection,
    Exchanges,
    StaticTokens,
    World,
    bc_settings,  # noqa: F401  (fixtures)
    bigcommerce_base_url,  # noqa: F401
    bigcommerce_contract_loaded,  # noqa: F401
    client,  # noqa: F401
    connection,  # noqa: F401
    exchanges,  # noqa: F401
    recording_http,
    tokens,  # noqa: F401
    world,  # noqa: F401
)

TWO_LINES = [
    {"name": "Mug", "sku": "MUG-1", "quantity": 2, "price_ex_tax": "10.00",
     "options": [{"display_name": "Colour", "display_value": "Żółty"}]},
    {"name": "Plate", "sku": "PLATE-1", "quantity": 1, "price_ex_tax": "15.00"},
]


async def pages_of(iterator: Any) -> list[Any]:
    return [page async for page in iterator]


def statuses_sent(exchanges: Exchanges) -> list[int]:
    return [resp.status_code for _, resp in exchanges.sent]


# --------------------------------------------------------------------------- store and credentials


async def test_identify_shop_names_the_store(client: BigCommerceClient, connection: Connection) -> None:
    shop = await client.identify_shop()
    assert shop.shop_id == connection.store_hash and shop.shop_name == "Zoë's Ceramics"


def test_store_hash_comes_from_the_api_path_whatever_the_origin() -> None:
    assert credentials.parse_store_hash("https://api.bigcommerce.com/stores/abc123/v3/") == "abc123"
    assert credentials.parse_store_hash(" http://127.0.0.1:8123/stores/x9y8z7/v2 ") == "x9y8z7"
    assert credentials.parse_store_hash("https://api.bigcommerce.com/stores/abc123") == "abc123"
    for bad in ("api.bigcommerce.com/stores/abc/v3/", "ftp://x/stores/abc/v3/", "https://x/stores//v3/",
                "https://x/store/abc/v3/", "https://x/stores/abc/v3/catalog", "https://x/stores/ab-c/v3/"):
        with pytest.raises(ValueError, match=r"credentials\.api_path"):
            credentials.parse_store_hash(bad)


async def test_full_account_has_every_required_scope(bc_settings: Settings, connection: Connection,
                                                     exchanges: Exchanges) -> None:
    async with recording_http(bc_settings, connection.store_hash, exchanges) as http:
        check = await credentials.check_credentials(bc_settings, connection.api_path, connection.client_id,
                                                    connection.access_token, http=http)
    assert check.store_hash == connection.store_hash and check.store_name == "Zoë's Ceramics"
    assert set(check.granted_scopes) == set(credentials.REQUIRED_SCOPES)
    assert check.missing_scopes == () and check.complete


async def test_missing_and_read_only_scopes_are_detected(bc_settings: Settings, world: World, connection: Connection,
                                                         exchanges: Exchanges) -> None:
    limited = world.account(connection.store_hash, scopes=["store_v2_orders_read_only", "store_v2_information_read_only"])
    async with recording_http(bc_settings, connection.store_hash, exchanges) as http:
        check = await credentials.check_credentials(bc_settings, limited["api_path"], limited["client_id"],
                                                    limited["access_token"], http=http)
    assert check.granted_scopes == ("store_v2_information_read_only", "store_v2_orders_read_only")
    assert check.missing_scopes == ("store_v2_orders", "store_v2_products", "store_inventory")
    # The modify probe touched nothing: order 0 does not exist, and the read-only token got 403.
    assert [r.method for r, resp in exchanges.sent if resp.status_code == 403].count("PUT") == 1


async def test_unknown_token_is_authorization_lost(bc_settings: Settings, connection: Connection) -> None:
    with pytest.raises(AuthorizationLost):
        await credentials.check_credentials(bc_settings, connection.api_path, connection.client_id, "not-a-token")


# --------------------------------------------------------------------------- order sync


async def test_sync_pages_through_mixed_statuses_and_returns_exactly_the_paid_unshipped(
    bc_settings: Settings, world: World, connection: Connection, tokens: StaticTokens, exchanges: Exchanges
) -> None:
    store = connection.store_hash
    paid = world.orders(store, count=4, status_id=11, products=TWO_LINES)
    paid += world.orders(store, count=3, status_id=9)
    paid += world.orders(store, count=2, status_id=3)
    for status_id in (7, 2, 5, 4, 0, 12):
        world.orders(store, count=2, status_id=status_id)

    async with recording_http(bc_settings, store, exchanges) as http:
        small_pages = BigCommerceClient(bc_settings, tokens, shop_id=store, http=http, page_size=3)
        pages = await pages_of(small_pages.paid_unshipped_orders(SyncWindow(cursor=None)))

    orders = [o for p in pages for o in p.orders]
    assert sorted(int(o.external_id) for o in orders) == sorted(paid)
    assert {o.state for o in orders} == {"paid"} and not any(p.rejected for p in pages)
    assert len(pages) >= 4  # 4 + 3 + 2 orders in pages of 3
    first = next(o for o in orders if int(o.external_id) == paid[0])
    assert [(line.sku, line.quantity, line.variations) for line in first.lines] == [
        ("MUG-1", 2, {"Colour": "Żółty"}), ("PLATE-1", 1, {})]
    assert first.billing_copied_from_shipping is False and first.buyer.email == "janedoe@example.com"
    list_calls = exchanges.calls("GET", "/v2/orders")
    assert {c.url.params["sort"] for c in list_calls} == {"date_modified:asc"}
    assert {c.url.params["status_id"] for c in list_calls} == {"11", "9", "3"}


async def test_a_bulk_sync_reads_lines_and_addresses_in_the_list_call_at_most_one_call_per_250_orders(
    bc_settings: Settings, world: World, connection: Connection, tokens: StaticTokens, exchanges: Exchanges
) -> None:
    """Products and shipping addresses come embedded (`include=consignments.line_items`), so 600 paid orders
    cost their list pages only, not two sub-resource reads each; every line and address still arrives."""
    store = connection.store_hash
    for _ in range(3):
        world.orders(store, count=200, status_id=11, products=TWO_LINES,
                     shipping_addresses=[{"city": "Austin"}, {"city": "Boston"}])
    async with recording_http(bc_settings, store, exchanges) as http:
        bulk = BigCommerceClient(bc_settings, tokens, shop_id=store, http=http, page_size=250)
        pages = await pages_of(bulk.paid_unshipped_orders(SyncWindow(cursor=None)))

    orders = [o for p in pages for o in p.orders]
    assert len(orders) == 600 and not any(p.rejected for p in pages)
    assert all([line.sku for line in o.lines] == ["MUG-1", "PLATE-1"] for o in orders)
    assert all(o.shipping_address.city == "Austin" for o in orders)
    sent = exchanges.paths("GET")
    assert not [p for p in sent if p.endswith(("/products", "/shipping_addresses"))]
    assert len(sent) / len(orders) <= 0.05, sent


async def test_empty_store_answers_204_and_yields_nothing(client: BigCommerceClient, exchanges: Exchanges) -> None:
    assert await pages_of(client.paid_unshipped_orders(SyncWindow(cursor=None))) == []
    assert set(statuses_sent(exchanges)) == {204}


async def test_incremental_sync_follows_orders_that_ended_since_the_cursor(
    client: BigCommerceClient, world: World, connection: Connection
) -> None:
    store = connection.store_hash
    cancelled, shipped, waiting = world.orders(store, count=3, status_id=11)
    first_run = await pages_of(client.paid_unshipped_orders(SyncWindow(cursor=None)))
    assert sum(len(p.orders) for p in first_run) == 3
    cursor = client.next_cursor(datetime.now(UTC))
    world.set_status(store, cancelled, 5)
    world.set_status(store, shipped, 2)

    pages = await pages_of(client.paid_unshipped_orders(SyncWindow(cursor=cursor, overlap_s=60)))

    states = {int(o.external_id): o.state for p in pages for o in p.orders}
    assert states == {waiting: "paid", cancelled: "cancelled", shipped: "shipped"}


async def test_cursor_overlap_excludes_orders_untouched_for_longer(client: BigCommerceClient, world: World,
                                                                   connection: Connection) -> None:
    old = int(time.time()) - 7200
    world.orders(connection.store_hash, count=2, status_id=11, date_created=old)
    fresh = world.orders(connection.store_hash, count=1, status_id=11)
    cursor = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    pages = await pages_of(client.paid_unshipped_orders(SyncWindow(cursor=cursor, overlap_s=60)))
    assert [int(o.external_id) for p in pages for o in p.orders] == fresh


async def test_archived_orders_include_shipped_and_completed_but_not_unpaid(client: BigCommerceClient, world: World,
                                                                            connection: Connection) -> None:
    store = connection.store_hash
    wanted = world.orders(store, status_id=2) + world.orders(store, status_id=10) + world.orders(store, status_id=11)
    world.orders(store, status_id=7)
    world.orders(store, status_id=5)
    pages = await pages_of(client.archived_orders(datetime.now(UTC) - timedelta(days=1)))
    assert sorted(int(o.external_id) for p in pages for o in p.orders) == sorted(wanted)
    with pytest.raises(ValueError, match="timezone"):
        await pages_of(client.archived_orders(datetime(2026, 1, 1)))


async def test_get_order_fetches_one_order_for_a_webhook(client: BigCommerceClient, world: World,
                                                         connection: Connection) -> None:
    (order_id,) = world.orders(connection.store_hash, billing_address=None)
    order = await client.get_order(str(order_id))
    assert order.external_id == str(order_id) and order.billing_copied_from_shipping is True
    with pytest.raises(RejectedByMarketplace) as missing:
        await client.get_order("999999")
    assert missing.value.status == 404


# --------------------------------------------------------------------------- fulfilment


async def test_partial_shipment_then_the_rest_moves_11_to_3_to_2(client: BigCommerceClient, world: World,
                                                                 connection: Connection) -> None:
    store = connection.store_hash
    (order_id,) = world.orders(store, products=TWO_LINES)
    mug, plate = (p["id"] for p in world.order(store, order_id)["products"])

    first = await client.push_tracking(TrackingPush(str(order_id), "InPost", "INP-1", lines=((str(mug), 1),)))
    assert first.order_fully_shipped is False and first.carrier_sent == "inpost-paczkomaty"
    assert world.order(store, order_id)["status_id"] == 3

    pages = await pages_of(client.paid_unshipped_orders(SyncWindow(cursor=None)))
    (remaining,) = [o for p in pages for o in p.orders]
    assert [(line.external_id, line.quantity) for line in remaining.lines] == [(str(mug), 1), (str(plate), 1)]

    rest = await client.push_tracking(TrackingPush(str(order_id), "Royal Mail", "RM-2"))
    assert rest.order_fully_shipped is True and rest.carrier_sent == "royalmail"
    state = world.order(store, order_id)
    assert state["status_id"] == 2
    assert [(s["tracking_number"], s["shipping_provider"], s["tracking_carrier"]) for s in state["shipments"]] == [
        ("INP-1", "", "inpost-paczkomaty"), ("RM-2", "royalmail", "")]


async def test_repeated_push_is_not_sent_twice_and_unknown_carriers_keep_their_name(
    client: BigCommerceClient, world: World, connection: Connection
) -> None:
    (order_id,) = world.orders(connection.store_hash)
    push = TrackingPush(str(order_id), "Llama Post", "LL-77")
    first = await client.push_tracking(push)
    again = await client.push_tracking(push)

    assert again.marketplace_shipment_id == first.marketplace_shipment_id and first.order_fully_shipped
    (shipment,) = world.order(connection.store_hash, order_id)["shipments"]
    assert shipment["shipping_method"] == "Llama Post" and shipment["shipping_provider"] == ""
    assert first.carrier_sent == "Llama Post"


async def test_pushing_more_than_is_left_is_refused_before_bigcommerce_is_asked(
    client: BigCommerceClient, world: World, connection: Connection, exchanges: Exchanges
) -> None:
    (order_id,) = world.orders(connection.store_hash, products=TWO_LINES)
    mug = world.order(connection.store_hash, order_id)["products"][0]["id"]
    with pytest.raises(RejectedByMarketplace, match="has 2 left to ship"):
        await client.push_tracking(TrackingPush(str(order_id), "UPS", "1Z", lines=((str(mug), 3),)))
    assert exchanges.calls("POST") == []


async def test_cancel_sets_status_5_with_the_reason_and_refuses_shipped_orders(
    client: BigCommerceClient, world: World, connection: Connection
) -> None:
    store = connection.store_hash
    open_order, shipped = world.orders(store, count=2)
    world.set_status(store, shipped, 2)

    await client.cancel_order(str(open_order), "buyer changed their mind")
    await client.cancel_order(str(open_order), "again")  # already cancelled: nothing more happens

    state = world.order(store, open_order)
    assert state["status_id"] == 5 and state["staff_notes"] == "Cancelled via ChannelBridge: buyer changed their mind"
    with pytest.raises(RejectedByMarketplace, match="already shipped"):
        await client.cancel_order(str(shipped), None)


# --------------------------------------------------------------------------- auth and rate limits


async def test_revoked_account_is_authorization_lost_after_one_token_retry(
    client: BigCommerceClient, world: World, connection: Connection, tokens: StaticTokens
) -> None:
    world.fault(kind="revoke_token", access_token=connection.access_token)
    with pytest.raises(AuthorizationLost):
        await client.identify_shop()
    assert tokens.calls == [False, True]


async def test_429_waits_the_reset_time_once_instead_of_hammering(
    client: BigCommerceClient, world: World, exchanges: Exchanges
) -> None:
    world.fault(kind="rate_limit", count=1, reset_ms=1200, with_quota_headers=True)
    started = time.monotonic()
    await client.identify_shop()
    elapsed = time.monotonic() - started

    assert statuses_sent(exchanges) == [429, 200]  # one 429, then exactly one retry
    assert elapsed >= 1.2


async def test_429_without_quota_headers_still_waits_the_reset(client: BigCommerceClient, world: World,
                                                               exchanges: Exchanges) -> None:
    world.fault(kind="rate_limit", count=2, reset_ms=300)
    started = time.monotonic()
    await client.identify_shop()
    assert statuses_sent(exchanges) == [429, 429, 200] and time.monotonic() - started >= 0.6


async def test_spent_quota_pauses_until_the_window_resets_without_any_429(
    client: BigCommerceClient, world: World, exchanges: Exchanges
) -> None:
    world.settings(rate_limit_quota=3, rate_limit_window_ms=1500)
    started = time.monotonic()
    for _ in range(5):
        await client.identify_shop()
    assert 429 not in statuses_sent(exchanges)
    assert time.monotonic() - started >= 1.0


# --------------------------------------------------------------------------- webhooks


async def test_order_webhooks_are_registered_once_with_the_secret_header_and_deleted(
    client: BigCommerceClient, world: World, connection: Connection
) -> None:
    destination = "https://channelbridge.example/v1/webhooks/bigcommerce"
    ids = await client.register_order_webhooks(destination, "s3cret")
    again = await client.register_order_webhooks(destination, "s3cret")
    rotated = await client.register_order_webhooks(destination, "n3w")

    assert ids == again == rotated and len(ids) == 2
    hooks = world.hooks(connection.store_hash)
    assert sorted(h["scope"] for h in hooks) == sorted(ORDER_SCOPES)
    assert {h["headers"][SECRET_HEADER] for h in hooks} == {"n3w"}

    await client.delete_webhooks(ids)
    await client.delete_webhooks(ids)  # already gone: fine
    assert world.hooks(connection.store_hash) == []
