"""The merged public OpenAPI document lists every status a response or filter can carry."""

from __future__ import annotations

from shared.statuses import ConnectionStatus, OrderShipmentStatus, OrderStatus, ShipmentStatus
from tests.api_client import bearer, new_tenant


async def test_statuses_are_documented_as_their_enums_once_across_services(gateway):
    document = (await gateway.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    for enum in (OrderStatus, ShipmentStatus, OrderShipmentStatus, ConnectionStatus):
        assert schemas[enum.__name__]["enum"] == [status.value for status in enum]
    # auth's connections and the orders sync answer share one ConnectionStatus, not a renamed copy
    assert not [name for name in schemas if name.startswith("ConnectionStatus") and name != "ConnectionStatus"]
    fields = {("OrderOut", "status"): OrderStatus, ("ShipmentSummary", "status"): OrderShipmentStatus,
              ("SyncStatus", "connection_status"): ConnectionStatus, ("ShipmentOut", "status"): ShipmentStatus,
              ("ConnectionOut", "status"): ConnectionStatus}
    for (schema, field), enum in fields.items():
        assert schemas[schema]["properties"][field] == {"$ref": f"#/components/schemas/{enum.__name__}"}
    list_orders = document["paths"]["/v1/orders"]["get"]
    status_filter = next(p for p in list_orders["parameters"] if p["name"] == "status")
    assert {"$ref": "#/components/schemas/OrderStatus"} in status_filter["schema"]["anyOf"]


async def test_an_unknown_status_filter_is_a_422_naming_the_parameter(gateway):
    tenant = await new_tenant(gateway, ["orders:read"])
    response = await gateway.get("/v1/orders", params={"status": "shiped"}, headers=bearer(tenant["token"]))
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["status"]
