"""Connection settings through the gateway, and what they change in the events the orders service emits."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from tests.e2e.world import EventLog, Merchant


async def _connected(gateway, etsy, **receipts) -> tuple[Merchant, dict, dict]:
    merchant = await Merchant.create(gateway)
    shop = await etsy.new_shop(f"settings-{uuid.uuid4().hex[:6]}")
    if receipts:
        await etsy.add_receipts(shop["shop_id"], **receipts)
    connection = await merchant.connect_etsy(etsy, shop["user_id"])
    await merchant.wait_for_sync(connection["id"])
    return merchant, shop, connection


async def test_settings_default_patch_audit_and_the_archive_plus_confirmation_guard(gateway, etsy):
    merchant, _, connection = await _connected(gateway, etsy)
    current = await merchant.call("GET", f"/v1/connections/{connection['id']}")
    assert current["settings"] == {"auto_import_orders": True, "import_archived_orders_since": None,
                                   "update_stock_after_sale": True, "send_order_confirmation": False,
                                   "register_buyers_as_customers": False, "location": None}
    path = f"/v1/connections/{connection['id']}"
    updated = await merchant.call("PATCH", path, json={"settings": {
        "update_stock_after_sale": False, "location": {"city": "Kraków", "postal_code": "30-001", "region": "MP"}}})
    assert updated["settings"]["update_stock_after_sale"] is False
    assert updated["settings"]["location"]["city"] == "Kraków"

    refused = await gateway.patch(path, headers=merchant.headers, json={"settings": {
        "import_archived_orders_since": "2025-01-01", "send_order_confirmation": True}})
    assert refused.status_code == 409 and "old orders" in refused.json()["detail"]
    await merchant.call("PATCH", path, json={"settings": {"send_order_confirmation": True}})
    refused_later = await gateway.patch(path, headers=merchant.headers,
                                        json={"settings": {"import_archived_orders_since": "2025-01-01"}})
    assert refused_later.status_code == 409
    bad = await gateway.patch(path, headers=merchant.headers, json={"settings": {"auto_import_orders": "maybe"}})
    assert bad.status_code == 422 and "settings.auto_import_orders" in bad.json()["detail"]

    audit = await merchant.call("GET", f"{path}/settings/audit")
    assert [(a["setting"], a["old_value"], a["new_value"]) for a in audit] == [
        ("update_stock_after_sale", True, False),
        ("location", None, {"city": "Kraków", "postal_code": "30-001", "region": "MP"}),
        ("send_order_confirmation", False, True),
    ]
    assert all(a["changed_by"] and a["changed_at"] for a in audit)
    assert (await merchant.call("GET", path))["settings"]["import_archived_orders_since"] is None  # nothing half-applied


async def test_update_stock_after_sale_is_carried_on_order_paid(gateway, etsy, broker):
    merchant, shop, connection = await _connected(gateway, etsy)
    await merchant.call("PATCH", f"/v1/connections/{connection['id']}",
                        json={"settings": {"update_stock_after_sale": False}})
    [receipt] = await etsy.add_receipts(shop["shop_id"])
    await merchant.sync_now_and_wait(connection["id"])
    async with EventLog(broker.bootstrap_servers, "order.paid") as events:
        [(_, paid)] = await events.wait_for("order.paid", 1, connection_id=connection["id"])
    assert paid["data"]["external_id"] == str(receipt) and paid["data"]["update_stock"] is False


async def test_archive_import_emits_order_imported_only(gateway, etsy, broker):
    old = int((datetime.now(UTC) - timedelta(days=40)).timestamp())
    merchant, shop, connection = await _connected(gateway, etsy)
    shipped = await etsy.add_receipts(shop["shop_id"], count=3, is_shipped=True, status="completed",
                                      create_timestamp=old, update_timestamp=old)
    await etsy.add_receipts(shop["shop_id"], count=2, is_paid=False, create_timestamp=old, update_timestamp=old)
    since = (date.today() - timedelta(days=60)).isoformat()
    await merchant.call("PATCH", f"/v1/connections/{connection['id']}",
                        json={"settings": {"import_archived_orders_since": since,
                                           "register_buyers_as_customers": True}})
    state = await merchant.sync_now_and_wait(connection["id"])
    assert state["last_counts"].get("imported") == 3, state

    async with EventLog(broker.bootstrap_servers, "order.imported", "order.paid", "customer.registered",
                        "order.confirmation_requested") as events:
        imported = await events.wait_for("order.imported", 3, connection_id=connection["id"])
        await events.settle(1.5)
        assert {e["data"]["external_id"] for _, e in imported} == {str(r) for r in shipped}
        assert all(e["data"]["status"] == "shipped" for _, e in imported)
        assert events.events("order.paid", connection_id=connection["id"]) == []
        order_ids = {e["data"]["order_id"] for _, e in imported}
        assert not [e for _, e in events.events("customer.registered") if e["data"]["first_order_id"] in order_ids]
    # The import runs once per date: another sync imports nothing more.
    again = await merchant.sync_now_and_wait(connection["id"])
    assert again["last_counts"].get("imported", 0) == 0


async def test_confirmations_and_customer_registration_once_per_buyer_email(gateway, etsy, broker):
    merchant, shop, connection = await _connected(gateway, etsy)
    await merchant.call("PATCH", f"/v1/connections/{connection['id']}", json={"settings": {
        "send_order_confirmation": True, "register_buyers_as_customers": True}})
    email = f"buyer-{uuid.uuid4().hex[:6]}@example.com"
    await etsy.add_receipts(shop["shop_id"], count=2, buyer_email=email.upper())
    await etsy.add_receipts(shop["shop_id"], buyer_email=None)
    await merchant.sync_now_and_wait(connection["id"])

    async with EventLog(broker.bootstrap_servers, "order.confirmation_requested", "customer.registered") as events:
        confirmations = await events.wait_for("order.confirmation_requested", 2, buyer_email=email)
        registered = await events.wait_for("customer.registered", 1, email=email)
        await events.settle(1.5)
        assert len(events.events("order.confirmation_requested", buyer_email=email)) == 2 == len(confirmations)
        assert len(events.events("customer.registered", email=email)) == 1 == len(registered)


async def test_a_manual_sync_still_runs_with_auto_import_off(gateway, etsy):
    merchant, shop, connection = await _connected(gateway, etsy)
    await merchant.call("PATCH", f"/v1/connections/{connection['id']}", json={"settings": {"auto_import_orders": False}})
    await etsy.add_receipts(shop["shop_id"], count=2)
    manual = await merchant.sync_now_and_wait(connection["id"])
    assert manual["last_outcome"] == "ok" and manual["last_counts"].get("created") == 2
