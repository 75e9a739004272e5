"""The orders service app: `uvicorn services.orders.main:app`.

Owns canonical orders. Syncs every active connection on a schedule (and on demand), turning
marketplace orders into `order.paid` / `order.updated` / `order.cancelled` events.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.orders import api, consumers
from services.orders.models import metadata
from services.orders.sync import OrderSync
from shared.auth_client import AuthClient
from shared.crypto import SecretBox
from shared.web.service_app import ServiceSpec, create_service_app


async def wire(app: FastAPI) -> None:
    settings = app.state.settings
    app.state.box = SecretBox(settings.encryption_keys.get_secret_value())
    app.state.auth_client = AuthClient.from_settings(settings)
    app.state.order_sync = OrderSync(settings, app.state.engine, app.state.sessions, app.state.auth_client, app.state.box)


async def run_order_sync(app: FastAPI) -> None:
    await app.state.order_sync.run_forever()


SPEC = ServiceSpec(
    name="orders",
    secrets=("internal_secret", "encryption_keys"),
    title="ChannelBridge orders",
    migrations_dir=Path(__file__).parent / "migrations",
    metadata=metadata,
    routers=[api.router, api.webhook_router],
    handlers=consumers.HANDLERS,
    on_startup=wire,
    background=[run_order_sync],
)

app = create_service_app(SPEC)
