"""An outbox event the broker refuses is parked after N tries instead of blocking every later event."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid

import sqlalchemy as sa
from prometheus_client import REGISTRY

from shared.background import running
from shared.messaging.maintenance import MessagingMaintenance
from shared.messaging.tables import outbox
from tests.conftest import eventually
from tests.messaging.harness import backbone, cancelled_event, create_test_service, effect_count, publish


async def _channelbridge(settings, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CB_DATABASE_URL": settings.database_url,
           "CB_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers}
    return await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "shared.cli", *args], env=env,
                                   capture_output=True, text=True, timeout=120)


async def _row(engine, event_id: str):
    async with engine.connect() as conn:
        return (await conn.execute(sa.select(outbox).where(outbox.c.id == uuid.UUID(event_id)))).one()


async def test_too_large_event_is_parked_after_n_tries_and_later_events_flow_then_retry_releases_it(settings):
    settings = settings.model_copy(update={"outbox_park_after_attempts": 3})
    schema, engine = await create_test_service(settings.database_url)
    huge = cancelled_event("x" * 1_200_000)  # over the producer's 1 MB request limit: refused every time
    after = [cancelled_event(f"after the huge one {i}") for i in range(3)]
    await publish(engine, huge)
    await publish(engine, *after)
    relay, consumer = backbone(settings, schema, engine)
    async with running(relay, consumer):
        async def later_events_applied():
            return all([await effect_count(engine, e.id) == 1 for e in after])
        await eventually(later_events_applied, timeout=60)

        async def parked():
            return (await _row(engine, huge.id)).parked_at is not None
        await eventually(parked, timeout=30)
        row = await _row(engine, huge.id)
        assert row.published_at is None and row.attempts == 3 and "MessageSizeTooLarge" in row.last_error

        await MessagingMaintenance(settings, schema, engine).refresh_gauges()
        assert REGISTRY.get_sample_value("cb_outbox_parked_events", {"service": schema}) == 1
        assert REGISTRY.get_sample_value("cb_outbox_parked_total", {"service": schema, "topic": huge.type}) == 1
        assert REGISTRY.get_sample_value("cb_outbox_backlog", {"service": schema}) == 0

        listed = await _channelbridge(settings, "outbox", "parked", "--service", schema)
        assert listed.returncode == 0, listed.stderr
        [entry] = [json.loads(line) for line in listed.stdout.splitlines()]
        assert entry["id"] == huge.id and entry["topic"] == huge.type and entry["attempts"] == 3
        assert entry["size_bytes"] > 1_200_000 and "MessageSizeTooLarge" in entry["last_error"]

        # The operator deals with the cause (here: the payload is cut down), then releases the event.
        async with engine.begin() as conn:
            small = huge.model_copy(update={"data": {**huge.data, "reason": "shortened by ops"}})
            await conn.execute(outbox.update().where(outbox.c.id == uuid.UUID(huge.id))
                               .values(event=small.model_dump(mode="json")))
        released = await _channelbridge(settings, "outbox", "retry", "--service", schema, "--id", huge.id)
        assert released.returncode == 0, released.stderr
        assert json.loads(released.stdout) == {"released": huge.id, "service": schema}

        async def huge_applied():
            return await effect_count(engine, huge.id) == 1
        await eventually(huge_applied, timeout=60)
    assert (await _row(engine, huge.id)).published_at is not None


async def test_outbox_commands_name_what_is_wrong(settings):
    schema, _engine = await create_test_service(settings.database_url)
    not_parked = await _channelbridge(settings, "outbox", "retry", "--service", schema, "--id", str(uuid.uuid4()))
    assert not_parked.returncode == 1 and "not parked" in not_parked.stderr
    bad_id = await _channelbridge(settings, "outbox", "retry", "--service", schema, "--id", "nope")
    assert bad_id.returncode == 2 and "--id" in bad_id.stderr
    no_outbox = await _channelbridge(settings, "outbox", "parked", "--service", "no_such_service")
    assert no_outbox.returncode == 2 and "no_such_service" in no_outbox.stderr


async def test_backlog_and_oldest_unsent_age_gauges_while_the_relay_is_not_running(settings):
    schema, engine = await create_test_service(settings.database_url)
    waiting = [cancelled_event(f"waiting {i}") for i in range(4)]
    await publish(engine, *waiting)
    async with engine.begin() as conn:
        await conn.execute(outbox.update().where(outbox.c.id == uuid.UUID(waiting[0].id))
                           .values(created_at=sa.func.now() - sa.text("interval '1 hour'")))
        await conn.execute(outbox.update().where(outbox.c.id == uuid.UUID(waiting[1].id))
                           .values(published_at=sa.func.now(), created_at=sa.func.now() - sa.text("interval '2 hours'")))
        await conn.execute(outbox.update().where(outbox.c.id == uuid.UUID(waiting[2].id))
                           .values(parked_at=sa.func.now(), created_at=sa.func.now() - sa.text("interval '3 hours'")))
    await MessagingMaintenance(settings, schema, engine).refresh_gauges()
    assert REGISTRY.get_sample_value("cb_outbox_backlog", {"service": schema}) == 2
    oldest = REGISTRY.get_sample_value("cb_outbox_oldest_unsent_age_seconds", {"service": schema})
    assert 3600 <= oldest < 2 * 3600  # the hour-old unsent one; published and parked rows do not count
    assert REGISTRY.get_sample_value("cb_outbox_parked_events", {"service": schema}) == 1


async def test_relay_skips_parked_rows(settings):
    schema, engine = await create_test_service(settings.database_url)
    parked, fresh = cancelled_event("parked"), cancelled_event("fresh")
    await publish(engine, parked, fresh)
    async with engine.begin() as conn:
        await conn.execute(outbox.update().where(outbox.c.id == uuid.UUID(parked.id)).values(parked_at=sa.func.now()))
    relay, consumer = backbone(settings, schema, engine)
    async with running(relay, consumer):
        async def fresh_applied():
            return await effect_count(engine, fresh.id) == 1
        await eventually(fresh_applied, timeout=60)
    assert await effect_count(engine, parked.id) == 0
    assert (await _row(engine, parked.id)).published_at is None


