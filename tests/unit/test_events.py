"""The event contract: envelope validation names the bad field; the AsyncAPI document is current."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import yaml

from shared.events import EVENT_TYPES, EventError, make_event, parse_event
from shared.events.asyncapi import build_document
from shared.events.payloads import ShipmentBooked

ROOT = Path(__file__).resolve().parents[2]


def _booked():
    payload = ShipmentBooked(shipment_id=uuid.uuid4(), order_id=uuid.uuid4(), merchant_id=uuid.uuid4(),
                             carrier="dhl", tracking_number="JD0001")
    return make_event("fulfilment", payload, subject=str(payload.order_id), tenant_id=str(payload.merchant_id))


def test_event_round_trips_with_order_id_as_key():
    event = _booked()
    parsed, payload = parse_event(event.model_dump_json())
    assert parsed == event and parsed.key == str(payload.order_id)
    assert parsed.specversion == "1.0" and parsed.type == "shipment.booked" and parsed.tenantid


def test_aggregate_version_travels_on_the_envelope_and_reads_as_0_on_events_from_before_it():
    payload = _booked()
    versioned = make_event("fulfilment", ShipmentBooked.model_validate(payload.data), subject=payload.subject,
                           tenant_id=payload.tenantid, aggregate_version=3)
    assert json.loads(versioned.model_dump_json())["aggregateversion"] == 3
    assert parse_event(versioned.model_dump_json())[0].aggregate_version == 3
    legacy = json.loads(payload.model_dump_json())
    legacy.pop("aggregateversion")
    assert parse_event(json.dumps(legacy))[0].aggregate_version == 0


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda e: e.pop("id"), "invalid CloudEvent envelope: id: Field required"),
    (lambda e: e.update(specversion="0.3"), "invalid CloudEvent envelope: specversion"),
    (lambda e: e.update(type="order.exploded"), "unknown event type 'order.exploded'"),
    (lambda e: e.update(aggregateversion=0), "invalid CloudEvent envelope: aggregateversion"),
    (lambda e: e.update(aggregateversion="newest"), "invalid CloudEvent envelope: aggregateversion"),
    (lambda e: e["data"].update(tracking_number=None), "invalid shipment.booked payload: data.tracking_number"),
    (lambda e: e["data"].update(surprise=1), "invalid shipment.booked payload: data.surprise"),
])
def test_invalid_events_are_rejected_naming_the_field(mutate, message):
    raw = json.loads(_booked().model_dump_json())
    mutate(raw)
    with pytest.raises(EventError) as excinfo:
        parse_event(json.dumps(raw))
    assert str(excinfo.value).startswith(message)


def test_asyncapi_document_lists_every_topic_and_is_committed_current():
    document = build_document()
    addresses = {c["address"] for c in document["channels"].values()}
    assert addresses == set(EVENT_TYPES) | {f"{t}.dlq" for t in EVENT_TYPES}
    committed = yaml.safe_load((ROOT / "docs" / "asyncapi.yaml").read_text())
    assert committed == document, "docs/asyncapi.yaml is stale: run `channelbridge asyncapi`"
