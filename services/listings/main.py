"""The listings service app: `uvicorn services.listings.main:app`."""

from __future__ import annotations

from pathlib import Path

from shared.messaging.tables import metadata
from shared.web.service_app import ServiceSpec, create_service_app

# Handlers for the events this service will consume ("order.paid", "connection.*") arrive with its domain.
SPEC = ServiceSpec(
    name="listings",
    title="ChannelBridge listings",
    migrations_dir=Path(__file__).parent / "migrations",
    metadata=metadata,
    handlers={},
)

app = create_service_app(SPEC)
