"""The auth service app: `uvicorn services.auth.main:app`.

On start (after migrations) it loads or creates the active signing key and ensures the bootstrap
admin client, both under advisory locks so replicas starting together agree. The same SecretBox seals
signing keys and marketplace tokens.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.auth import keys, service
from services.auth.api import ROUTERS, install_error_handlers
from services.auth.client_secrets import SecretHasher
from services.auth.connections.api import ROUTERS as CONNECTION_ROUTERS
from services.auth.models import metadata
from shared.crypto import SecretBox
from shared.web.service_app import ServiceSpec, create_service_app


async def prepare_auth(app: FastAPI) -> None:
    settings = app.state.settings
    box = SecretBox(settings.encryption_keys.get_secret_value())
    app.state.box = box
    app.state.secret_hasher = SecretHasher.from_settings(settings)
    app.state.signing_key = await keys.ensure_active_signing_key(app.state.sessions, box)
    secret = settings.bootstrap_admin_client_secret
    if settings.bootstrap_admin_client_id and secret is not None and secret.get_secret_value():
        await service.ensure_bootstrap_admin(app.state.sessions, app.state.secret_hasher,
                                             settings.bootstrap_admin_client_id,
                                             secret.get_secret_value())


SPEC = ServiceSpec(
    name="auth",
    secrets=("internal_secret", "encryption_keys"),  # CB_CLIENT_SECRET_HASH_KEY: see client_secrets
    title="ChannelBridge auth",
    migrations_dir=Path(__file__).parent / "migrations",
    metadata=metadata,
    routers=[*ROUTERS, *CONNECTION_ROUTERS],
    on_startup=prepare_auth,
)

app = create_service_app(SPEC)
install_error_handlers(app)
