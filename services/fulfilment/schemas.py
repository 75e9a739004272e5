"""The fulfilment API's request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.events.payloads import ShipmentLine
from shared.statuses import ShipmentStatus


class ShipmentIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"carrier": "DPD", "tracking_number": "0000123456789X"},
        {"carrier": "InPost", "tracking_number": "620000012345678901234567",
         "lines": [{"order_line_external_id": "1198765432", "quantity": 1}], "note": "first parcel of two"},
    ]})

    carrier: str = Field(min_length=1, max_length=100, description="free text; mapped to each marketplace's names")
    tracking_number: str = Field(min_length=1, max_length=100)
    lines: list[ShipmentLine] = Field(default_factory=list, description="empty: the whole order")
    note: str | None = Field(None, max_length=500)

    @field_validator("carrier", "tracking_number")
    @classmethod
    def strip(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class ShipmentOut(BaseModel):
    id: uuid.UUID
    order_id: uuid.UUID
    carrier: str
    tracking_number: str
    lines: list[ShipmentLine]
    note: str | None
    status: ShipmentStatus
    push_attempts: int
    last_error: str | None
    failure_reason: str | None
    carrier_sent: str | None
    marketplace_shipment_id: str | None
    created_at: datetime
    updated_at: datetime
