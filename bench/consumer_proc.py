"""The consuming service's side of the backbone benchmark, in its own process (own event loop, own core).

In production the service that writes an event and the service that consumes it are separate processes;
running the ConsumerRunner beside the writers and the relay on one event loop would make them take turns
on one core. The parent starts `run` with the multiprocessing spawn context and talks to it over a pipe:

    child → parent   ("count", n)          after each effect commit: effects committed so far (tiny message,
                                           so the pipe never fills and never blocks the runner)
    parent → child   "stop"                report, then cancel the runner
    child → parent   ("done", effects, batches)  {event id: (monotonic, wall) of its effect commit}, and the
                                           number of new events in each effect transaction; sent before the
                                           runner leaves the group, so a slow shutdown cannot lose it

time.monotonic() is CLOCK_MONOTONIC, system-wide on Linux, so the parent can subtract its own commit times.
"""

from __future__ import annotations

import asyncio
import cProfile
import logging
import time
from multiprocessing.connection import Connection
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bench.workload import TOPIC
from shared.background import running
from shared.db import create_engine_for_schema, session_factory
from shared.events import CloudEvent
from shared.heap import freeze_startup_objects
from shared.logging import configure_logging
from shared.messaging.consumer import BatchHandler, ConsumerRunner, Received
from shared.settings import Settings

_effects_metadata = sa.MetaData()
effects = sa.Table(
    "effects", _effects_metadata,
    sa.Column("n", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("event_id", sa.Text, nullable=False),
)

_INSERT_EFFECT = effects.insert()  # built once; per-call values go in as parameters, so no per-event compile


async def record_effect(session: AsyncSession, event: CloudEvent, _payload) -> None:
    """The per-event handler: one insert statement per event, in the runner's transaction."""
    await session.execute(_INSERT_EFFECT, {"event_id": event.id})


async def record_effects(session: AsyncSession, received: list[Received]) -> None:
    """The batch handler: one multi-row insert for every new event of the fetch, in the runner's transaction."""
    await session.execute(_INSERT_EFFECT, [{"event_id": event.id} for event, _ in received])


HANDLERS = {"each": record_effect, "batch": BatchHandler(record_effects)}


def run(settings: Settings, schema: str, group_id: str, handler: str, conn: Connection,
        profile: Path | None = None) -> None:
    """Process entry point: run the consumer service until the parent says stop."""
    configure_logging("bench-consumer", "WARNING")
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    try:
        asyncio.run(_serve(settings, schema, group_id, HANDLERS[handler], conn))
    finally:
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)
        conn.close()


async def _serve(settings: Settings, schema: str, group_id: str, handler, conn: Connection) -> None:
    loop = asyncio.get_running_loop()
    engine = create_engine_for_schema(settings.database_url, schema, pool_size=4)
    effects_at: dict[str, tuple[float, float]] = {}
    batches: list[int] = []

    def after_effect(events: list[CloudEvent]) -> None:
        mono, wall = time.monotonic(), time.time()
        batches.append(len(events))
        for event in events:
            effects_at.setdefault(event.id, (mono, wall))
        conn.send(("count", len(effects_at)))

    stop = asyncio.Event()

    def on_message() -> None:
        if conn.recv() == "stop":
            stop.set()

    runner = ConsumerRunner(settings, group_id=group_id, handlers={TOPIC: handler},
                            sessions=session_factory(engine), after_effect=after_effect)
    loop.add_reader(conn.fileno(), on_message)
    freeze_startup_objects()  # as the services do at the end of startup
    try:
        async with running(runner.run()):
            await stop.wait()
            # Report before shutting down: leaving the group can take a while, and the figures are final now.
            conn.send(("done", effects_at, batches))
            # Cancelling the runner can cut an offset commit short: aiokafka then logs a closed connection.
            for name in ("aiokafka", "asyncio"):
                logging.getLogger(name).setLevel(logging.CRITICAL)
    finally:
        loop.remove_reader(conn.fileno())
        await engine.dispose()
