"""CloudEvents 1.0 structured-JSON envelope with the `tenantid` extension.

Producers build envelopes with `make_event`; consumers call `parse_event`, which validates the envelope
and the payload against the model registered for the event type, so a malformed message is rejected
with the field that is wrong before any handler sees it.

`aggregateversion` (a CloudEvents extension attribute: the spec allows only lower-case letters and digits
in attribute names) is the version of the aggregate the event describes after the change, counted per
aggregate by its owner in the transaction that stages the event. Events of one aggregate travel on
several topics (`order.paid`, `order.cancelled`), so they can arrive in any order; projections compare
versions instead of trusting arrival order. It lives on the envelope, not in the payload, because the
envelope accepts unknown attributes: a consumer running the previous release still reads new events
during a rolling deploy, and events published before the deploy (no version) read as version 0.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.events.registry import event_type_of, payload_model


class EventError(ValueError):
    """A message that is not a valid ChannelBridge event (poison): carries the reason for the DLQ."""


class CloudEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")

    specversion: str = Field("1.0", pattern=r"^1\.0$")
    id: str = Field(min_length=1)
    source: str = Field(min_length=1)
    type: str = Field(min_length=1)
    time: datetime
    subject: str | None = None
    datacontenttype: str = "application/json"
    tenantid: str | None = None
    aggregateversion: int | None = Field(
        None, ge=1, description="version of the aggregate after this change; absent on unversioned events")
    data: dict[str, Any]

    @property
    def key(self) -> str:
        """Partition key: the aggregate id, kept in `subject`."""
        return self.subject or self.id

    @property
    def aggregate_version(self) -> int:
        """The version to compare; 0 for events published before versions existed."""
        return self.aggregateversion or 0


def make_event(source: str, payload: BaseModel, *, subject: str, tenant_id: str | None,
               aggregate_version: int | None = None) -> CloudEvent:
    return CloudEvent(
        id=str(uuid.uuid4()),
        source=source,
        type=event_type_of(type(payload)),
        time=datetime.now(UTC),
        subject=subject,
        tenantid=tenant_id,
        aggregateversion=aggregate_version,
        data=payload.model_dump(mode="json"),
    )


def parse_event(raw: bytes | str) -> tuple[CloudEvent, BaseModel]:
    """Validate a message body; raise EventError naming the bad field."""
    try:
        event = CloudEvent.model_validate_json(raw)
    except ValidationError as exc:
        raise EventError(f"invalid CloudEvent envelope: {_first_error(exc)}") from exc
    model = payload_model(event.type)
    if model is None:
        raise EventError(f"unknown event type {event.type!r}")
    try:
        payload = model.model_validate(event.data)
    except ValidationError as exc:
        raise EventError(f"invalid {event.type} payload: {_first_error(exc, prefix='data')}") from exc
    return event, payload


def _first_error(exc: ValidationError, prefix: str = "") -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in (prefix, *err["loc"]) if p != "")
    return f"{loc or '<body>'}: {err['msg']}"
