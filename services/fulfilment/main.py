"""The fulfilment service app: `uvicorn services.fulfilment.main:app`.

Owns shipments. Books them through its API (also for shipping platforms reacting to `order.paid`),
then pushes carrier + tracking to the marketplace until it confirms.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.fulfilment import api, consumers
from services.fulfilment.models import metadata
from services.fulfilment.push import TrackingPusher
from shared.auth_client import AuthClient
from shared.web.service_app import ServiceSpec, create_service_app


async def wire(app: FastAPI) -> None:
    settings = app.state.settings
    app.state.tracking_pusher = TrackingPusher(settings, app.state.sessions, AuthClient.from_settings(settings))


async def run_tracking_pusher(app: FastAPI) -> None:
    await app.state.tracking_pusher.run_forever()


SPEC = ServiceSpec(
    name="fulfilment",
    title="ChannelBridge fulfilment",
    migrations_dir=Path(__file__).parent / "migrations",
    metadata=metadata,
    routers=[api.router],
    handlers=consumers.HANDLERS,
    on_startup=wire,
    background=[run_tracking_pusher],
)

app = create_service_app(SPEC)
