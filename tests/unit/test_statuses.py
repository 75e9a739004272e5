"""Statuses are StrEnums: the wire keeps the same strings, the documents list the values, typos fail early."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest
from pydantic import ValidationError

from services.auth.models import connections
from services.fulfilment.schemas import ShipmentOut
from services.orders.schemas import OrderOut, ShipmentSummary, SyncStatus
from shared.db.types import StatusText
from shared.events.asyncapi import build_document
from shared.events.payloads import Address, Buyer, OrderSnapshot
from shared.statuses import (
    ConnectionStatus,
    OrderShipmentStatus,
    OrderStatus,
    PublicationStatus,
    ShipmentStatus,
)


def _snapshot(status) -> OrderSnapshot:
    return OrderSnapshot(order_id=uuid.uuid4(), merchant_id=uuid.uuid4(), connection_id=uuid.uuid4(),
                         marketplace="etsy", external_id="1", status=status, buyer=Buyer(), shipping_address=Address(),
                         billing_address=Address(), billing_copied_from_shipping=True, lines=[],
                         total=Decimal("1"), currency="EUR")


def test_the_values_on_the_wire_are_the_strings_they_always_were():
    assert [s.value for s in OrderStatus] == ["paid", "shipped", "cancelled"]
    # `cancelled`: a shipment withdrawn unpushed when its order is cancelled (since cancellation moved to orders)
    assert [s.value for s in ShipmentStatus] == ["pending", "pushed", "failed", "cancelled"]
    assert [s.value for s in OrderShipmentStatus] == ["booked", "confirmed", "cancelled"]
    assert [s.value for s in ConnectionStatus] == ["pending", "active", "needs_attention", "needs_reauth",
                                                   "disconnected"]
    assert [s.value for s in PublicationStatus] == ["pending", "publishing", "published", "failed"]
    payload = _snapshot("paid")
    assert payload.status is OrderStatus.PAID
    assert json.loads(payload.model_dump_json())["status"] == "paid"
    assert json.dumps({"status": OrderStatus.CANCELLED}) == '{"status": "cancelled"}'


def test_an_event_with_an_unknown_order_status_is_refused_naming_the_field():
    with pytest.raises(ValidationError) as raised:
        _snapshot("shipped-ish")
    assert raised.value.errors()[0]["loc"] == ("status",)


def test_the_asyncapi_document_lists_the_order_statuses():
    schemas = build_document()["components"]["schemas"]
    assert schemas["OrderStatus"]["enum"] == ["paid", "shipped", "cancelled"]
    for event in ("OrderPaid", "OrderImported", "OrderUpdated"):
        assert schemas[event]["properties"]["status"] == {"$ref": "#/components/schemas/OrderStatus"}


@pytest.mark.parametrize(("model", "field", "enum"), [
    (OrderOut, "status", OrderStatus), (ShipmentSummary, "status", OrderShipmentStatus),
    (SyncStatus, "connection_status", ConnectionStatus), (ShipmentOut, "status", ShipmentStatus),
])
def test_api_schemas_name_their_status_enum(model, field, enum):
    schema = model.model_json_schema()
    assert schema["properties"][field] == {"$ref": f"#/$defs/{enum.__name__}"}
    assert schema["$defs"][enum.__name__]["enum"] == [s.value for s in enum]


def test_a_status_column_refuses_a_value_outside_its_enum_before_any_sql():
    column = StatusText(ShipmentStatus)
    assert column.process_bind_param(ShipmentStatus.PUSHED, None) == "pushed"
    assert column.process_bind_param("pending", None) == "pending"
    assert column.process_result_value("failed", None) is ShipmentStatus.FAILED
    with pytest.raises(ValueError, match="'sent' is not a ShipmentStatus: one of pending, pushed, failed"):
        column.process_bind_param("sent", None)


def test_the_connections_check_constraint_admits_exactly_the_connection_statuses():
    check = next(c for c in connections.constraints if c.name == "ck_connections_status")
    assert str(check.sqltext) == "status IN ('pending', 'active', 'needs_attention', 'needs_reauth', 'disconnected')"
