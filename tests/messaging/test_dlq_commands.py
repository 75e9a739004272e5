"""`channelbridge dlq list|replay` as an operator runs them, against the real broker and a consumer's inbox."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid

from shared.background import running
from shared.db import session_factory
from shared.events import dlq_topic
from shared.messaging.consumer import ConsumerRunner
from shared.messaging.kafka import ensure_topics
from shared.messaging.relay import OutboxRelay
from tests.conftest import eventually
from tests.messaging.harness import TOPIC, cancelled_event, create_test_service, effect_count, publish, record_effect


async def _channelbridge(settings, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CB_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
           "CB_DATABASE_URL": settings.database_url}
    return await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "shared.cli", *args], env=env,
                                   capture_output=True, text=True, timeout=120)


async def _listed(settings, event_id: str) -> list[dict]:
    done = await _channelbridge(settings, "dlq", "list", "--topic", TOPIC)
    assert done.returncode == 0, done.stderr
    return [entry for entry in map(json.loads, done.stdout.splitlines()) if entry["id"] == event_id]


async def test_dead_letter_is_listed_and_replayed_once_after_the_handler_is_fixed(settings):
    schema, engine = await create_test_service(settings.database_url)
    await ensure_topics(settings, [TOPIC, dlq_topic(TOPIC)])
    doomed = cancelled_event("bug in the handler")
    fixed = {"yes": False}

    async def handler(session, event, payload):
        if event.id == doomed.id and not fixed["yes"]:
            raise ValueError("quantity: must be positive")  # deterministic: dead-lettered after max_attempts
        await record_effect(session, event, payload)

    group = f"g-{uuid.uuid4().hex[:8]}"
    runner = ConsumerRunner(settings, group_id=group, handlers={TOPIC: handler}, sessions=session_factory(engine),
                            max_attempts=2, retry_backoff_s=0.01)
    async with running(OutboxRelay(settings, schema, idle_poll_s=0.2).run(), runner.run()):
        await publish(engine, doomed)

        async def dead_lettered():
            return len(await _listed(settings, doomed.id)) == 1
        await eventually(dead_lettered, timeout=60)
        [entry] = await _listed(settings, doomed.id)
        assert entry["consumer"] == group and entry["topic"] == TOPIC
        assert "handler failed 2 times" in entry["reason"] and "quantity: must be positive" in entry["reason"]
        assert await effect_count(engine, doomed.id) == 0

        fixed["yes"] = True
        for _ in range(2):  # a second replay of the same letter is absorbed by the inbox
            done = await _channelbridge(settings, "dlq", "replay", "--topic", TOPIC, "--id", doomed.id)
            assert done.returncode == 0, done.stderr
            assert json.loads(done.stdout.splitlines()[0]) == {"replayed": doomed.id, "topic": TOPIC}

        async def applied():
            return await effect_count(engine, doomed.id) == 1
        await eventually(applied, timeout=60)
        marker = cancelled_event("after both replays")
        await publish(engine, marker)

        async def marker_applied():
            return await effect_count(engine, marker.id) == 1
        await eventually(marker_applied, timeout=60)
    assert await effect_count(engine, doomed.id) == 1


async def test_replay_names_ids_that_are_not_dead_letters(settings):
    await ensure_topics(settings, [TOPIC, dlq_topic(TOPIC)])
    done = await _channelbridge(settings, "dlq", "replay", "--topic", TOPIC, "--id", "no-such-event")
    assert done.returncode == 1 and "no-such-event" in done.stderr
    unknown = await _channelbridge(settings, "dlq", "list", "--topic", "order.nope")
    assert unknown.returncode == 2 and "order.nope" in unknown.stderr
