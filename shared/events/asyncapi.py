"""The AsyncAPI 3 document of every topic, generated from the payload registry so it cannot drift."""

from __future__ import annotations

from typing import Any

from shared.events.envelope import CloudEvent
from shared.events.registry import EVENT_TYPES, dlq_topic

PUBLISHERS = {
    "connection": "auth", "order.fulfilled": "fulfilment", "shipment": "fulfilment",
    "listing": "listings", "inventory": "listings", "order": "orders", "customer": "orders",
}


def _publisher(event_type: str) -> str:
    return next(svc for prefix, svc in PUBLISHERS.items() if event_type == prefix or event_type.startswith(prefix + "."))


def _key(event_type: str) -> str:
    return event_type.replace(".", "_")


def build_document() -> dict[str, Any]:
    envelope = CloudEvent.model_json_schema()
    envelope["properties"].pop("data", None)
    channels, operations, messages, schemas = {}, {}, {}, {"CloudEventEnvelope": envelope}
    for event_type, model in EVENT_TYPES.items():
        name = _key(event_type)
        payload_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for def_name, definition in payload_schema.pop("$defs", {}).items():
            schemas[def_name] = definition
        schemas[model.__name__] = payload_schema
        messages[name] = {
            "name": event_type,
            "title": model.__name__,
            "summary": (model.__doc__ or event_type).strip().splitlines()[0],
            "contentType": "application/cloudevents+json",
            "headers": {"type": "object", "properties": {"ce_id": {"type": "string"}, "ce_type": {"const": event_type}}},
            "payload": {"allOf": [
                {"$ref": "#/components/schemas/CloudEventEnvelope"},
                {"type": "object", "properties": {"type": {"const": event_type},
                                                  "data": {"$ref": f"#/components/schemas/{model.__name__}"}}},
            ]},
            "bindings": {"kafka": {"key": {"type": "string", "description": "the aggregate id (CloudEvent subject)"}}},
        }
        channels[name] = {"address": event_type, "messages": {name: {"$ref": f"#/components/messages/{name}"}}}
        channels[f"{name}_dlq"] = {
            "address": dlq_topic(event_type),
            "description": "Messages no consumer could process; headers cb-dlq-reason, cb-dlq-consumer, cb-dlq-source.",
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
        }
        operations[f"publish_{name}"] = {
            "action": "send", "channel": {"$ref": f"#/channels/{name}"},
            "summary": f"Published by the {_publisher(event_type)} service through its outbox.",
        }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "ChannelBridge events", "version": "1.0.0",
                 "description": "One topic per event type; CloudEvents 1.0 structured JSON; key = aggregate id."},
        "defaultContentType": "application/cloudevents+json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }
