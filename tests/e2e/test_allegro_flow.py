"""Allegro end to end through the gateway: OAuth with Basic + PKCE, the event journal, revisions."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import sqlalchemy as sa

from shared.crypto import SecretBox
from shared.db import create_engine_for_schema
from shared.web.internal import InternalClient
from tests.e2e.world import EventLog, Merchant, wait_until


async def _seller(allegro) -> dict:
    return await allegro.control("POST", "/users", json={"login": f"seller-{uuid.uuid4().hex[:6]}"})


async def _forms(allegro, seller_id: str, **body) -> list[str]:
    return (await allegro.control("POST", f"/users/{seller_id}/checkout-forms", json=body))["ids"]


async def test_connect_ingest_paid_orders_from_the_journal_and_ship_partially(gateway, allegro, broker):
    merchant = await Merchant.create(gateway)
    seller = await _seller(allegro)
    before = await _forms(allegro, seller["id"])  # placed before connecting: not imported (journal starts now)
    connection = await merchant.connect_allegro(allegro, seller["id"])
    assert connection["status"] == "active" and connection["shop_id"] == seller["id"]
    await merchant.wait_for_sync(connection["id"])

    paid = await _forms(allegro, seller["id"], count=3, duplicateReadyForProcessing=2)
    [invoiced] = await _forms(allegro, seller["id"], invoice={"address": {
        "street": "Fakturowa 1", "city": "Warszawa", "zipCode": "00-001",
        "company": {"name": "Firma sp. z o.o."}}},
        lineItems=[{"offer": {"name": "Kubek", "external": {"id": "MUG-1"}}, "quantity": 2, "price": "19.99"},
                   {"offer": {"name": "Talerz", "external": {"id": "PLATE-1"}}, "quantity": 1, "price": "29.00"}])
    [pickup] = await _forms(allegro, seller["id"], delivery={"pickupPoint": {}})
    await _forms(allegro, seller["id"], status="BOUGHT")
    await _forms(allegro, seller["id"], status="CANCELLED", cancellation={"type": "AUTO_CANCELLED"})
    [cancel_after_pay] = await _forms(allegro, seller["id"])

    state = await merchant.sync_now_and_wait(connection["id"])
    assert state["last_outcome"] == "ok", state
    orders = await merchant.orders_by_external_id(connection["id"])
    assert set(orders) == {*paid, invoiced, pickup, cancel_after_pay}
    assert not set(before) & set(orders)

    order = orders[invoiced]
    assert order["billing_copied_from_shipping"] is False and order["billing_address"]["city"] == "Warszawa"
    assert [(line["sku"], line["quantity"]) for line in order["lines"]] == [("MUG-1", 2), ("PLATE-1", 1)]
    assert orders[paid[0]]["billing_copied_from_shipping"] is True
    assert orders[pickup]["shipping_address"]["pickup_point_id"]

    async with EventLog(broker.bootstrap_servers, "order.paid", "order.cancelled", "order.fulfilled") as events:
        await events.wait_for("order.paid", 6, connection_id=connection["id"])
        await events.settle()
        assert len(events.events("order.paid", connection_id=connection["id"])) == 6  # duplicates gave one each

        await allegro.control("POST", f"/checkout-forms/{cancel_after_pay}/cancel", json={"type": "BUYER_CANCELLED"})
        await merchant.sync_now_and_wait(connection["id"])
        await events.wait_for("order.cancelled", 1, order_id=orders[cancel_after_pay]["id"])

        mug = order["lines"][0]["external_id"]
        await allegro.fault(kind="stale_revision", checkout_form_id=invoiced)
        await merchant.call("POST", f"/v1/orders/{order['id']}/shipments", 201, json={
            "carrier": "DPD", "tracking_number": "DPD0001", "lines": [{"order_line_external_id": mug, "quantity": 2}]})
        [(_, partial)] = await events.wait_for("order.fulfilled", 1, order_id=order["id"])
        assert partial["data"]["fully_shipped"] is False
        await merchant.call("POST", f"/v1/orders/{order['id']}/shipments", 201, json={
            "carrier": "Poczta Nowej Generacji", "tracking_number": "PNG-77"})
        fulfilled = await events.wait_for("order.fulfilled", 2, order_id=order["id"])
        assert fulfilled[-1][1]["data"]["fully_shipped"] is True

    shipments = (await allegro.control("GET", "/shipments"))["shipments"]
    mine = [s for s in shipments if s["checkoutFormId"] == invoiced]
    assert {s["waybill"] for s in mine} == {"DPD0001", "PNG-77"}
    assert any(s["carrierId"] == "OTHER" and s.get("carrierName") == "Poczta Nowej Generacji" for s in mine)
    form = await allegro.control("GET", f"/checkout-forms/{invoiced}")
    assert form["fulfillment"]["status"] == "SENT"

    async def shipped():
        return (await merchant.call("GET", f"/v1/orders/{order['id']}"))["status"] == "shipped"
    await wait_until(shipped, what="order shipped")


async def test_token_refresh_rotation_under_two_concurrent_callers(gateway, allegro, settings, stack):
    merchant = await Merchant.create(gateway)
    seller = await _seller(allegro)
    connection = await merchant.connect_allegro(allegro, seller["id"])
    await allegro.control("DELETE", "/requests")
    await allegro.fault(kind="expire_tokens")

    auth = InternalClient(settings.model_copy(update={"service_name": "tests"}), stack.url("auth"))
    try:
        answers = await asyncio.gather(*(auth.request("POST", f"/internal/connections/{connection['id']}/access-token",
                                                      json={"force_refresh": True}) for _ in range(2)))
    finally:
        await auth.aclose()
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json()["access_token"] == answers[1].json()["access_token"]
    token_calls = [r for r in (await allegro.control("GET", "/requests"))["requests"] if r["path"] == "/auth/oauth/token"]
    assert len(token_calls) == 1, "two concurrent callers must share one refresh"
    async with httpx.AsyncClient(base_url=stack.url("allegro-sandbox")) as http:
        me = await http.get("/me", headers={"Authorization": f"Bearer {answers[0].json()['access_token']}",
                                            "Accept": "application/vnd.allegro.public.v1+json"})
    assert me.status_code == 200


async def test_a_refresh_lost_between_receiving_and_storing_is_recovered(gateway, allegro, settings, stack):
    """Allegro rotated the pair but auth never stored it (a crash at the worst moment): the old refresh
    token still works for about a minute, so the next refresh succeeds instead of losing the grant."""
    merchant = await Merchant.create(gateway)
    seller = await _seller(allegro)
    connection = await merchant.connect_allegro(allegro, seller["id"])

    engine = create_engine_for_schema(settings.database_url, "auth", pool_size=1)
    try:
        async with engine.connect() as conn:
            sealed = (await conn.execute(sa.text("SELECT refresh_token FROM connection_tokens WHERE connection_id = :c"),
                                         {"c": connection["id"]})).scalar_one()
    finally:
        await engine.dispose()
    stored_refresh = SecretBox(settings.encryption_keys.get_secret_value()).open(sealed, context=f"{connection['id']}:refresh")
    async with httpx.AsyncClient(base_url=stack.url("allegro-sandbox")) as http:
        lost = await http.post("/auth/oauth/token", data={"grant_type": "refresh_token", "refresh_token": stored_refresh},
                               auth=("sandbox-allegro-client-id", "sandbox-allegro-client-secret"))
    assert lost.status_code == 200  # a new pair auth never saw

    auth = InternalClient(settings.model_copy(update={"service_name": "tests"}), stack.url("auth"))
    try:
        recovered = await auth.request("POST", f"/internal/connections/{connection['id']}/access-token",
                                       json={"force_refresh": True})
    finally:
        await auth.aclose()
    assert recovered.status_code == 200, recovered.text
    assert (await merchant.call("GET", f"/v1/connections/{connection['id']}"))["status"] == "active"
