"""Events: the CloudEvents envelope, typed payloads and the topic registry."""

from shared.events.envelope import CloudEvent, EventError, make_event, parse_event
from shared.events.registry import EVENT_TYPES, dlq_topic, payload_model

__all__ = ["EVENT_TYPES", "CloudEvent", "EventError", "dlq_topic", "make_event", "parse_event", "payload_model"]
