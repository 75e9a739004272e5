"""The orders service app: `uvicorn services.orders.main:app`."""

from __future__ import annotations

from pathlib import Path

from shared.messaging.tables import metadata
from shared.web.service_app import ServiceSpec, create_service_app

# Handlers for the events this service will consume ("order.fulfilled", "connection.*") arrive with its domain.
SPEC = ServiceSpec(
    name="orders",
    title="ChannelBridge orders",
    migrations_dir=Path(__file__).parent / "migrations",
    metadata=metadata,
    handlers={},
)

app = create_service_app(SPEC)
