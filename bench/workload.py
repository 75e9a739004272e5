"""What every measurement moves: real CloudEvents, and the identical bytes and rows the baselines use."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from shared.events import CloudEvent, make_event
from shared.events.payloads import OrderCancelled

TOPIC = "order.cancelled"
MEASURED_SOURCE = "bench"  # warm-up events carry another source, so DB queries can leave them out
WARMUP_SOURCE = "bench-warmup"


def cancelled_events(n: int, source: str = MEASURED_SOURCE) -> list[CloudEvent]:
    events = []
    for i in range(n):
        payload = OrderCancelled(order_id=uuid.uuid4(), merchant_id=uuid.uuid4(), connection_id=uuid.uuid4(),
                                 marketplace="etsy", external_id=str(1_000_000 + i), reason="buyer asked")
        events.append(make_event(source, payload, subject=str(payload.order_id), tenant_id=str(payload.merchant_id)))
    return events


@dataclass(frozen=True)
class RawMessage:
    """One event as the relay puts it on the wire: same key, same headers, same envelope length."""

    id: str
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]

    @property
    def row(self) -> tuple[uuid.UUID, str, str, str]:
        """(id, topic, key, event) as the raw insert baseline writes it."""
        return uuid.UUID(self.id), self.topic, self.key.decode(), self.value.decode()


def raw_message(event: CloudEvent) -> RawMessage:
    # The relay publishes Postgres' jsonb text, which uses json.dumps' default separators: same length.
    value = json.dumps(event.model_dump(mode="json")).encode()
    headers = [("ce_id", event.id.encode()), ("ce_type", event.type.encode()),
               ("content-type", b"application/cloudevents+json")]
    return RawMessage(event.id, event.type, event.key.encode(), value, headers)


def chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def deal(items: Sequence, hands: int) -> list[list]:
    """Round-robin `items` over `hands` concurrent writers."""
    return [list(items[i::hands]) for i in range(hands)]


async def paced(items: Sequence, rate: float, per_tick: int, start) -> list[asyncio.Task]:
    """Start `start(item)` for `per_tick` items every per_tick/rate seconds on an absolute schedule (no drift)."""
    loop = asyncio.get_running_loop()
    tick = per_tick / rate
    t0 = loop.time()
    tasks = []
    for k, batch in enumerate(chunks(items, per_tick)):
        delay = t0 + k * tick - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.extend(asyncio.create_task(start(item)) for item in batch)
    return tasks
