"""Everything the Etsy client and OAuth helpers send, and everything the emulator answers, checked
against Etsy's own OpenAPI file (requests for 2xx exchanges, responses for every declared status).

The per-test recorder in conftest already fails any test whose traffic breaks the spec; this test
walks the whole integration once and proves each operation we depend on was actually validated.
"""

from __future__ import annotations

from typing import Any

from shared.marketplaces.base import SyncWindow, TrackingPush
from shared.marketplaces.etsy.client import EtsyClient
from tests.marketplaces.conftest import Exchanges, SandboxTokens, SandboxWorld
from tests.openapi_exchange import path_matches


async def test_client_and_oauth_traffic_conforms_to_etsys_openapi(
    etsy_client: EtsyClient,
    world: SandboxWorld,
    shop: dict[str, Any],
    tokens: SandboxTokens,
    exchanges: Exchanges,
) -> None:
    shop_id = shop["shop_id"]
    made = world.create_receipts(shop_id, count=3, buyer_email=None, second_line=None)
    world.create_receipts(shop_id, status="canceled")
    world.fault(kind="expire_tokens")  # a 401 and its ErrorSchema body go through the recorder too

    await etsy_client.identify_shop()
    pages = [p async for p in etsy_client.paid_unshipped_orders(SyncWindow(cursor="1767225600"))]
    await etsy_client.get_order(str(made[0]["receipt_id"]))
    await etsy_client.push_tracking(
        TrackingPush(external_order_id=str(made[0]["receipt_id"]), carrier="Evri", tracking_number="H01ABC2345")
    )
    await etsy_client.push_tracking(
        TrackingPush(external_order_id=str(made[1]["receipt_id"]), carrier="Llama Post", tracking_number="LL-77")
    )

    assert sum(len(p.orders) for p in pages) == 4
    contract = exchanges.contract
    assert contract is not None
    assert contract.violations == []
    operations = {
        _operation_id(contract.raw, req.method, req.url.path)
        for req, _ in exchanges.sent
        if req.url.path.startswith("/v3/application/")
    }
    assert operations == {"getMe", "getShop", "getShopReceipts", "getShopReceipt", "createReceiptShipment"}
    api_exchanges = [resp for req, resp in exchanges.sent if req.url.path.startswith("/v3/application/")]
    assert 401 in {resp.status_code for resp in api_exchanges}
    assert contract.validated == len(api_exchanges)  # every response had a declared status and passed
    assert any(req.url.path == "/v3/public/oauth/token" for req, _ in exchanges.sent)


def _operation_id(spec: dict[str, Any], method: str, path: str) -> str:
    """The spec operation a concrete request hit (literal path segments beat `{params}`)."""
    templates = [t for t in spec["paths"] if path_matches(t, path)]
    template = max(templates, key=lambda t: sum(not seg.startswith("{") for seg in t.split("/")))
    return spec["paths"][template][method.lower()]["operationId"]
