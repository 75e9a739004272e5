"""Outbox and inbox rows past their retention are deleted in batches; nothing unsent or recent is touched."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from prometheus_client import REGISTRY

from shared.background import running
from shared.messaging.maintenance import MessagingMaintenance
from shared.messaging.tables import inbox, outbox
from tests.conftest import eventually
from tests.messaging.harness import TOPIC, cancelled_event, create_test_service, publish

_DAYS_AGO = sa.text("now() - interval '10 days'")


async def _arrange(engine) -> dict[str, list[str]]:
    """Per kind of row, the ids of the rows: old published, recent published, old unsent, old parked, inbox rows."""
    kinds = {"old_published": 5, "recent_published": 2, "old_unsent": 1, "old_parked": 1}
    events = {kind: [cancelled_event(kind) for _ in range(n)] for kind, n in kinds.items()}
    await publish(engine, *[e for batch in events.values() for e in batch])
    values = {"old_published": {"published_at": _DAYS_AGO, "created_at": _DAYS_AGO},
              "recent_published": {"published_at": sa.func.now()},
              "old_unsent": {"created_at": _DAYS_AGO},
              "old_parked": {"created_at": _DAYS_AGO, "parked_at": _DAYS_AGO}}
    old_inbox, recent_inbox = [str(uuid.uuid4()) for _ in range(7)], [str(uuid.uuid4()) for _ in range(2)]
    async with engine.begin() as conn:
        for kind, batch in events.items():
            await conn.execute(outbox.update().where(outbox.c.id.in_([uuid.UUID(e.id) for e in batch]))
                               .values(**values[kind]))
        await conn.execute(inbox.insert(), [{"consumer": "g", "event_id": i, "topic": TOPIC}
                                            for i in old_inbox + recent_inbox])
        await conn.execute(inbox.update().where(inbox.c.event_id.in_(old_inbox)).values(processed_at=_DAYS_AGO))
    ids = {kind: [e.id for e in batch] for kind, batch in events.items()}
    return {**ids, "old_inbox": old_inbox, "recent_inbox": recent_inbox}


async def _left(engine) -> tuple[set[str], set[str]]:
    async with engine.connect() as conn:
        outbox_ids = {str(i) for i in (await conn.execute(sa.select(outbox.c.id))).scalars()}
        inbox_ids = set((await conn.execute(sa.select(inbox.c.event_id))).scalars())
    return outbox_ids, inbox_ids


async def test_prune_deletes_only_published_outbox_and_inbox_rows_past_retention_in_batches(settings):
    settings = settings.model_copy(update={"outbox_retention_hours": 24, "inbox_retention_hours": 48,
                                           "messaging_prune_batch": 2})
    schema, engine = await create_test_service(settings.database_url)
    rows = await _arrange(engine)
    assert await MessagingMaintenance(settings, schema, engine).prune() == {"outbox": 5, "inbox": 7}
    outbox_left, inbox_left = await _left(engine)
    assert outbox_left == {*rows["recent_published"], *rows["old_unsent"], *rows["old_parked"]}
    assert inbox_left == set(rows["recent_inbox"])
    assert REGISTRY.get_sample_value("cb_messaging_pruned_total", {"service": schema, "table": "inbox"}) == 7


async def test_maintenance_loop_prunes_on_its_schedule(settings):
    settings = settings.model_copy(update={"messaging_prune_interval_s": 0.2})
    schema, engine = await create_test_service(settings.database_url)
    rows = await _arrange(engine)  # retention at its default of 7 days: the 10-day-old rows go
    async with running(MessagingMaintenance(settings, schema, engine, gauge_interval_s=0.1).run()):
        async def pruned():
            outbox_left, inbox_left = await _left(engine)
            return not outbox_left & set(rows["old_published"]) and inbox_left == set(rows["recent_inbox"])
        await eventually(pruned, timeout=30)
