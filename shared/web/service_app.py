"""The one way a ChannelBridge service is assembled: FastAPI app + lifespan wiring.

On start a service migrates its own schema, then runs its outbox relay, its consumer runner, the upkeep
of its outbox and inbox (gauges, pruning) and any background jobs it declares beside the HTTP API;
on stop it cancels them and closes the pool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from fastapi import APIRouter, FastAPI, Request
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncSession

from shared.background import running
from shared.db import create_engine_for_schema, migrate_to_head, session_factory
from shared.db.engine import service_engine
from shared.heap import freeze_startup_objects
from shared.logging import configure_logging
from shared.messaging.consumer import BatchHandler, ConsumerRunner, Handler
from shared.messaging.maintenance import MessagingMaintenance
from shared.messaging.relay import OutboxRelay
from shared.settings import Settings, get_settings
from shared.web import health
from shared.web.body_limit import BodyLimitMiddleware, BodyLimits
from shared.web.middleware import ProblemOnUnhandledError, RequestContextMiddleware
from shared.web.problems import install_problem_docs, install_problem_handlers
from shared.web.text_input import NulCharacterMiddleware

log = structlog.get_logger(__name__)


@dataclass
class ServiceSpec:
    name: str  # also the schema, the consumer group and the CloudEvents source
    title: str
    migrations_dir: Path
    metadata: MetaData
    routers: list[APIRouter] = field(default_factory=list)
    handlers: dict[str, Handler | BatchHandler] = field(default_factory=dict)
    on_startup: Callable[[FastAPI], Awaitable[None]] | None = None
    background: list[Callable[[FastAPI], Awaitable[None]]] = field(default_factory=list)
    # Settings that must not be empty outside dev mode; the service refuses to start without them.
    secrets: tuple[str, ...] = ("internal_secret",)


def create_service_app(spec: ServiceSpec, settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings = settings.model_copy(update={"service_name": spec.name})

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(spec.name, settings.log_level)
        settings.require_secrets(*spec.secrets)
        # Migrations run without the statement and command timeouts: one may take long, and a replica
        # waits for the migrator on an advisory lock.
        migrator = create_engine_for_schema(settings.database_url, spec.name, pool_size=1)
        try:
            await migrate_to_head(migrator, spec.migrations_dir, spec.name, spec.metadata)
        finally:
            await migrator.dispose()
        engine = service_engine(settings, spec.name)
        app.state.engine = engine
        app.state.sessions = session_factory(engine)
        if spec.on_startup is not None:
            await spec.on_startup(app)
        runner = ConsumerRunner(settings, group_id=spec.name, handlers=spec.handlers, sessions=app.state.sessions)
        jobs = [OutboxRelay(settings, spec.name).run(), runner.run(),
                MessagingMaintenance(settings, spec.name, engine).run(), *(job(app) for job in spec.background)]
        try:
            async with running(*jobs):
                freeze_startup_objects()
                log.info("service.started", service=spec.name)
                yield
        finally:
            await engine.dispose()
            log.info("service.stopped", service=spec.name)

    app = FastAPI(title=spec.title, version="1.0.0", lifespan=lifespan)
    app.state.settings = settings
    app.add_middleware(ProblemOnUnhandledError)  # added first = inside the request context
    app.add_middleware(NulCharacterMiddleware)
    app.add_middleware(BodyLimitMiddleware, limits=BodyLimits.from_settings(settings))
    app.add_middleware(RequestContextMiddleware, service=spec.name, deadline_s=settings.interactive_deadline_s)
    install_problem_handlers(app)
    install_problem_docs(app)
    app.include_router(health.router)
    for router in spec.routers:
        app.include_router(router)
    return app


async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """FastAPI dependency: a session on the service's own schema; the handler decides when to commit."""
    async with request.app.state.sessions() as session:
        yield session
