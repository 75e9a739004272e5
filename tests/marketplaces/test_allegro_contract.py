"""Every request the Allegro client sends, checked against Allegro's own OpenAPI file.

The per-test recorder (see `test_allegro_client`) already fails any test whose requests break the
spec; this test walks the whole integration once against the emulator and proves each operation we
depend on was really sent and validated, bodies included.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from sandbox.allegro.errors import MEDIA_TYPE
from shared.marketplaces.allegro.client import AllegroClient
from shared.marketplaces.base import RejectedByMarketplace, SyncWindow, TrackingPush
from tests.marketplaces.conftest import Exchanges
from tests.marketplaces.test_allegro_client import AllegroWorld, RequestContract

# The client tests' fixtures, re-exported so pytest finds them here too.
from tests.marketplaces.test_allegro_client import allegro_base_url as allegro_base_url
from tests.marketplaces.test_allegro_client import allegro_contract_spec as allegro_contract_spec
from tests.marketplaces.test_allegro_client import allegro_settings as allegro_settings
from tests.marketplaces.test_allegro_client import client as client
from tests.marketplaces.test_allegro_client import exchanges as exchanges
from tests.marketplaces.test_allegro_client import seller as seller
from tests.marketplaces.test_allegro_client import tokens as tokens
from tests.marketplaces.test_allegro_client import world as world

OPERATIONS_WE_USE = {
    "meGET",
    "getOrderEventsStatisticsUsingGET",
    "getOrderEventsUsingGET",
    "getOrdersDetailsUsingGET",
    "getListOfOrdersUsingGET",
    "getOrdersCarriersUsingGET",
    "getOrderShipmentsUsingGET",
    "createOrderShipmentsUsingPOST",
    "setOrderFulfillmentUsingPUT",
}


async def test_every_request_of_the_integration_conforms_to_allegros_openapi(
    client: AllegroClient, seller: dict[str, Any], world: AllegroWorld, exchanges: Exchanges
) -> None:
    world.order(seller["id"])
    start = [p async for p in client.paid_unshipped_orders(SyncWindow(cursor=None))]
    paid, two_lines = world.order(seller["id"]), world.order(seller["id"], lineItems=[{"quantity": 2}, {"quantity": 1}])
    cancelled = world.order(seller["id"], status="CANCELLED", cancellation={"type": "BUYER_CANCELLED", "afterPayment": True})
    world.fault(kind="expire_tokens")  # the 401 → refresh → retry path goes through the recorder too

    await client.identify_shop()
    pages = [p async for p in client.paid_unshipped_orders(SyncWindow(cursor=start[-1].cursor))]
    since = datetime.now(UTC) - timedelta(hours=1)
    swept = [p async for p in client.recently_updated_orders(since)]
    archived = [p async for p in client.archived_orders(since)]
    await client.push_tracking(TrackingPush(external_order_id=paid["id"], carrier="Kurier Zenek", tracking_number="ZEN-1"))
    first_line, second_line = (item["id"] for item in two_lines["lineItems"])
    await client.push_tracking(
        TrackingPush(external_order_id=two_lines["id"], carrier="DPD", tracking_number="DPD-1", lines=((first_line, 1),))
    )
    await client.push_tracking(
        TrackingPush(
            external_order_id=two_lines["id"], carrier="DPD", tracking_number="DPD-2", lines=((first_line, 1), (second_line, 1))
        )
    )
    await client.cancel_order(cancelled["id"], None)
    with pytest.raises(RejectedByMarketplace):
        await client.cancel_order(paid["id"], None)

    assert sum(len(p.orders) for p in pages) == 3
    assert sum(len(p.orders) for p in swept) == sum(len(p.orders) for p in archived) == 4
    contract = exchanges.contract
    assert isinstance(contract, RequestContract)
    assert contract.violations == []
    assert set(contract.operations) == OPERATIONS_WE_USE
    rest = [(req, resp) for req, resp in exchanges.sent if not req.url.path.startswith("/auth/")]
    assert 401 in {resp.status_code for _, resp in rest}
    assert all(req.headers["accept"] == MEDIA_TYPE for req, _ in rest)
    assert all(req.headers["content-type"] == MEDIA_TYPE for req, _ in rest if req.content)


def test_the_request_check_catches_a_body_the_spec_refuses(allegro_contract_spec: Any) -> None:
    """The checker has teeth: a shipment without `waybill` and with a 65-character carrier name fails."""
    contract = RequestContract(*allegro_contract_spec)
    path = "/order/checkout-forms/29738e61-7f6a-11e8-ac45-09db60ede9d6/shipments"
    body = json.dumps({"carrierId": "OTHER", "carrierName": "x" * 65}).encode()
    request = httpx.Request(
        "POST", f"https://api.allegro.pl{path}", content=body, headers={"content-type": MEDIA_TYPE, "accept": MEDIA_TYPE}
    )
    contract(httpx.Response(201, request=request))
    assert len(contract.violations) == 1 and "request invalid" in contract.violations[0]
