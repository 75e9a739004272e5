"""The event backbone as deployed: two services, two processes.

Producing service (this process, one event loop): writers stage events in their own transactions with
`add_events` / `add_event` into its outbox, and its OutboxRelay publishes them to the broker.
Consuming service (a separate process started with the spawn context, `bench.consumer_proc`): a
ConsumerRunner reads them and applies each in a transaction holding its inbox row and one effect row.
Each service has its own schema, as in production.

Throughput is timed from the first write to the last effect commit. Latency is per event, from the moment
its producing transaction committed (here) to the moment the consumer's transaction holding its effect
committed (there; time.monotonic() is system-wide on Linux). Stage timestamps from the outbox and inbox
rows (database clock = wall clock, same machine) say where the time went.
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import multiprocessing
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench import consumer_proc
from bench.infra import CpuMeter
from bench.workload import WARMUP_SOURCE, cancelled_events, chunks, deal, paced, running
from shared.db import create_engine_for_schema, session_factory
from shared.events import CloudEvent
from shared.messaging.outbox import add_event, add_events
from shared.messaging.relay import OutboxRelay
from shared.messaging.tables import metadata as messaging_metadata
from shared.settings import Settings

WARMUPS = 1


class ConsumerProcess:
    """The consuming service in its own process; counts its effect commits as they are reported."""

    def __init__(self, settings: Settings, schema: str, group_id: str, profile: Path | None) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child_conn = ctx.Pipe()
        self._proc = ctx.Process(target=consumer_proc.run, args=(settings, schema, group_id, child_conn, profile),
                                 name="bench-consumer", daemon=True)
        self._child_conn = child_conn
        self.count = 0
        self._stopped = False
        self.effects: dict[str, tuple[float, float]] = {}  # event id -> (monotonic, wall) of its effect commit
        self.batches: list[int] = []  # new events per effect transaction, in order
        self._changed = asyncio.Event()

    @property
    def pid(self) -> int:
        return self._proc.pid

    async def __aenter__(self) -> ConsumerProcess:
        self._proc.start()
        self._child_conn.close()
        asyncio.get_running_loop().add_reader(self._conn.fileno(), self._on_message)
        return self

    def _on_message(self) -> None:
        try:
            while self._conn.poll():
                kind, *rest = self._conn.recv()
                if kind == "count":
                    self.count = rest[0]
                elif kind == "done":
                    self.effects, self.batches = rest
                    self._stopped = True
        except EOFError:
            asyncio.get_running_loop().remove_reader(self._conn.fileno())
        self._changed.set()

    async def wait_count(self, n: int, limit_s: float) -> None:
        """Until `n` distinct events have had their effect committed."""
        deadline = time.monotonic() + limit_s
        while self.count < n:
            if not self._proc.is_alive():
                raise RuntimeError(f"consumer process exited with code {self._proc.exitcode}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{n - self.count} of {n} effects not committed in {limit_s}s")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), 0.5)

    async def __aexit__(self, *exc) -> None:
        loop = asyncio.get_running_loop()
        try:
            if self._proc.is_alive():
                self._conn.send("stop")
                deadline = time.monotonic() + 30
                while not self._stopped and self._proc.is_alive() and time.monotonic() < deadline:
                    self._changed.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), 0.5)
            await asyncio.to_thread(self._proc.join, 10)
        finally:
            with contextlib.suppress(Exception):
                loop.remove_reader(self._conn.fileno())
            if self._proc.is_alive():
                self._proc.terminate()
            self._conn.close()


class Backbone:
    """Two throw-away service schemas: the producer's (outbox) and the consumer's (inbox, effects)."""

    def __init__(self, settings: Settings, name: str, *, pool_size: int) -> None:
        self.settings = settings
        tag = uuid.uuid4().hex[:8]
        self.producer_schema, self.consumer_schema = f"{name}_prod_{tag}", f"{name}_cons_{tag}"
        self.engine: AsyncEngine = create_engine_for_schema(settings.database_url, self.producer_schema,
                                                            pool_size=pool_size)
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(self.engine)

    async def create(self) -> None:
        async with self.engine.begin() as conn:
            for schema in (self.producer_schema, self.consumer_schema):
                await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
                await conn.execute(sa.text(f'SET LOCAL search_path = "{schema}"'))
                await conn.run_sync(messaging_metadata.create_all)
            await conn.run_sync(consumer_proc.effects.metadata.create_all)  # search_path: the consumer's schema

    def relay(self):
        return OutboxRelay(self.settings, self.producer_schema).run()  # production defaults: NOTIFY, 1 s poll

    def consumer(self, profile: Path | None) -> ConsumerProcess:
        return ConsumerProcess(self.settings, self.consumer_schema, f"{self.consumer_schema}-group", profile)

    async def publish_bulk(self, events: Sequence[CloudEvent]) -> None:
        """One transaction, one multi-row insert for all `events` (a bulk producer: an order-sync page)."""
        async with self.sessions() as session, session.begin():
            await add_events(session, list(events))

    async def publish_each(self, events: Sequence[CloudEvent]) -> None:
        """One transaction, one add_event call (one insert statement) per event."""
        async with self.sessions() as session, session.begin():
            for event in events:
                await add_event(session, event)

    async def warm_up(self, consumer: ConsumerProcess) -> None:
        """Topics created, relay producer connected, consumer group joined, statements compiled: one round trip."""
        await self.publish_each(cancelled_events(WARMUPS, source=WARMUP_SOURCE))
        await consumer.wait_count(WARMUPS, limit_s=90)

    async def verify(self, measured: int) -> None:
        """Every measured event applied exactly once (the effects table has no unique constraint on purpose)."""
        effects = consumer_proc.effects
        async with self.engine.connect() as conn:
            await conn.execute(sa.text(f'SET search_path = "{self.consumer_schema}"'))
            total, distinct = (await conn.execute(
                sa.select(sa.func.count(), sa.func.count(sa.distinct(effects.c.event_id))))).one()
            await conn.rollback()
        if total != distinct or distinct != measured + WARMUPS:
            raise AssertionError(f"effects: {total} rows, {distinct} distinct; expected {measured + WARMUPS}")

    async def stages(self) -> list[tuple[str, float, float, float]]:
        """(event id, created_at, published_at, processed_at) as epoch seconds, for the measured events."""
        query = sa.text(f"""
            SELECT o.id::text, extract(epoch FROM o.created_at), extract(epoch FROM o.published_at),
                   extract(epoch FROM i.processed_at)
            FROM "{self.producer_schema}".outbox o JOIN "{self.consumer_schema}".inbox i ON i.event_id = o.id::text
            WHERE o.event->>'source' <> :warmup
        """)  # schema names are ours, not input
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query, {"warmup": WARMUP_SOURCE})).all()
        return [(r[0], float(r[1]), float(r[2]), float(r[3])) for r in rows]


@contextlib.contextmanager
def _profiled(path: Path | None):
    if path is None:
        yield
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        profiler.dump_stats(path)


def _profile_path(profile_dir: Path | None, name: str) -> Path | None:
    if profile_dir is None:
        return None
    profile_dir.mkdir(parents=True, exist_ok=True)
    return profile_dir / f"{name}.prof"


async def throughput(settings: Settings, events: list[CloudEvent], *, writers: int, per_tx: int, bulk: bool,
                     broker_pid: int, profile_dir: Path | None = None) -> dict:
    """`events` written by `writers` concurrent writers, `per_tx` per transaction, relayed and consumed.

    bulk=True: each transaction stages its events with one add_events call; False: one add_event per event.
    """
    name = "tput_bulk" if bulk else "tput_each"
    bb = Backbone(settings, f"bench_{name}", pool_size=max(writers, 4))
    await bb.create()
    publish: Callable = bb.publish_bulk if bulk else bb.publish_each
    try:
        async with bb.consumer(_profile_path(profile_dir, f"consumer-{name}")) as consumer, running(bb.relay()):
            await bb.warm_up(consumer)

            async def write(batches) -> None:
                for batch in batches:
                    await publish(batch)

            cpu = CpuMeter({"producer": _self_pid(), "consumer": consumer.pid, "broker": broker_pid})
            with _profiled(_profile_path(profile_dir, f"producer-{name}")):
                t0, wall0 = time.monotonic(), time.time()
                await asyncio.gather(*(write(b) for b in deal(list(chunks(events, per_tx)), writers)))
                written = time.monotonic() - t0
                await consumer.wait_count(WARMUPS + len(events), limit_s=240)
            cpu_s = cpu.stop()
        effects = consumer.effects
        elapsed = max(effects[e.id][0] for e in events) - t0
        await bb.verify(len(events))
        stages = await bb.stages()
    finally:
        await bb.engine.dispose()
    return {
        "events": len(events), "seconds": elapsed, "rate": len(events) / elapsed,
        "writes_committed_s": written,
        "last_relayed_s": max(s[2] for s in stages) - wall0,
        "last_consumer_txn_start_s": max(s[3] for s in stages) - wall0,
        "cpu_s": cpu_s, "consumer_txns": _txns(consumer.batches),
    }


async def latency(settings: Settings, events: list[CloudEvent], *, rate: float, per_tick: int,
                  broker_pid: int, profile_dir: Path | None = None) -> dict:
    """Single-event transactions (add_event) paced at `rate`; latency = producing commit → effect commit."""
    bb = Backbone(settings, "bench_lat", pool_size=settings.db_pool_size)
    await bb.create()
    committed: dict[str, float] = {}
    committed_wall: dict[str, float] = {}

    async def produce(event: CloudEvent) -> None:
        await bb.publish_each([event])
        committed[event.id] = time.monotonic()
        committed_wall[event.id] = time.time()

    try:
        async with bb.consumer(_profile_path(profile_dir, "consumer-latency")) as consumer, running(bb.relay()):
            await bb.warm_up(consumer)
            cpu = CpuMeter({"producer": _self_pid(), "consumer": consumer.pid, "broker": broker_pid})
            with _profiled(_profile_path(profile_dir, "producer-latency")):
                await asyncio.gather(*await paced(events, rate, per_tick, produce))
                await consumer.wait_count(WARMUPS + len(events), limit_s=120)
            cpu_s = cpu.stop()
        effects = consumer.effects
        await bb.verify(len(events))
        stages = await bb.stages()
    finally:
        await bb.engine.dispose()
    ids = [e.id for e in events]
    span = max(committed.values()) - min(committed.values())
    return {
        "events": len(events),
        "latencies_s": [effects[i][0] - committed[i] for i in ids],
        "achieved_rate": (len(events) - 1) / span,
        "cpu_s": cpu_s, "consumer_txns": _txns(consumer.batches),
        "stages_s": {  # per event, from its producing commit (wall clock, same machine as the database)
            "commit_to_relayed": [published - committed_wall[i] for i, _, published, _ in stages],
            "commit_to_consumer_txn_start": [processed - committed_wall[i] for i, _, _, processed in stages],
            "consumer_txn_start_to_effect_commit": [effects[i][1] - processed for i, _, _, processed in stages],
        },
    }


def _self_pid() -> int:
    return multiprocessing.current_process().pid


def _txns(batches: list[int]) -> dict:
    """The consumer's effect transactions during the phase (warm-up left out): how many, how full."""
    measured = batches[1:]
    return {"count": len(measured), "mean_events": sum(measured) / max(1, len(measured)),
            "max_events": max(measured, default=0)}
