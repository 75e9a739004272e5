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
import gc
import multiprocessing
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench import consumer_proc
from bench.infra import CpuMeter
from bench.workload import WARMUP_SOURCE, cancelled_events, chunks, deal, paced
from shared.background import running
from shared.db import create_engine_for_schema, session_factory
from shared.events import CloudEvent
from shared.heap import freeze_startup_objects
from shared.messaging.outbox import add_event, add_events
from shared.messaging.relay import OutboxRelay
from shared.messaging.tables import metadata as messaging_metadata
from shared.settings import Settings
from shared.wakeup import wait_for_wakeup

WARM_UP_ROUND = 12  # warm-up events per extra round: random keys, so every partition very likely gets one


class ConsumerProcess:
    """One replica of the consuming service in its own process; counts its effect commits as reported."""

    def __init__(self, settings: Settings, schema: str, group_id: str, handler: str, profile: Path | None, *,
                 replica: int, changed: asyncio.Event) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child_conn = ctx.Pipe()
        self._proc = ctx.Process(target=consumer_proc.run, args=(settings, schema, group_id, handler, child_conn, profile),
                                 name=f"bench-consumer-{replica}", daemon=True)
        self._child_conn = child_conn
        self.count = 0
        self._stopped = False
        self.effects: dict[str, tuple[float, float]] = {}  # event id -> (monotonic, wall) of its effect commit
        self.batches: list[int] = []  # new events per effect transaction, in order
        self._changed = changed  # shared by the replicas of a group: set on every report from any of them

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

    def check_alive(self) -> None:
        if not self._proc.is_alive():
            raise RuntimeError(f"{self._proc.name} exited with code {self._proc.exitcode}")

    async def __aexit__(self, *exc) -> None:
        loop = asyncio.get_running_loop()
        try:
            if self._proc.is_alive():
                self._conn.send("stop")
                deadline = time.monotonic() + 30
                while not self._stopped and self._proc.is_alive() and time.monotonic() < deadline:
                    self._changed.clear()
                    await wait_for_wakeup(self._changed, 0.5)
            await asyncio.to_thread(self._proc.join, 10)
        finally:
            with contextlib.suppress(Exception):
                loop.remove_reader(self._conn.fileno())
            if self._proc.is_alive():
                self._proc.terminate()
            self._conn.close()
        if not self._stopped and exc[0] is None:
            raise RuntimeError(f"{self._proc.name} did not report its effects (exit code {self._proc.exitcode})")


class ConsumerGroup:
    """`replicas` processes of the consuming service in one consumer group, as when ops scale it out."""

    def __init__(self, settings: Settings, schema: str, group_id: str, handler: str, profile: Path | None,
                 replicas: int) -> None:
        self._changed = asyncio.Event()
        self.members = [ConsumerProcess(settings, schema, group_id, handler, profile if i == 0 else None,
                                        replica=i + 1, changed=self._changed) for i in range(replicas)]
        self._batches_before: list[int] = [0] * replicas

    async def __aenter__(self) -> ConsumerGroup:
        for member in self.members:
            await member.__aenter__()
        return self

    async def __aexit__(self, *exc) -> None:
        for member in self.members:
            await member.__aexit__(*exc)

    @property
    def count(self) -> int:
        return sum(m.count for m in self.members)

    @property
    def pids(self) -> list[int]:
        return [m.pid for m in self.members]

    @property
    def effects(self) -> dict[str, tuple[float, float]]:
        """After exit: event id -> (monotonic, wall) of its first effect commit in any replica."""
        merged: dict[str, tuple[float, float]] = {}
        for member in self.members:
            for event_id, at in member.effects.items():
                merged[event_id] = min(at, merged.get(event_id, at))
        return merged

    def start_measuring(self) -> None:
        """The effect transactions reported so far were warm-up."""
        self._batches_before = [len(m.batches) for m in self.members]

    @property
    def measured_batches(self) -> list[int]:
        """After exit: new events per effect transaction since `start_measuring`, every replica's."""
        return [n for m, before in zip(self.members, self._batches_before, strict=True) for n in m.batches[before:]]

    async def wait_count(self, n: int, limit_s: float) -> None:
        """Until `n` distinct events have had their effect committed."""
        deadline = time.monotonic() + limit_s
        while self.count < n:
            for member in self.members:
                member.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{n - self.count} of {n} effects not committed in {limit_s}s")
            self._changed.clear()
            await wait_for_wakeup(self._changed, 0.5)


class Backbone:
    """Two throw-away service schemas: the producer's (outbox) and the consumer's (inbox, effects)."""

    def __init__(self, settings: Settings, name: str, *, pool_size: int) -> None:
        self.settings = settings
        tag = uuid.uuid4().hex[:8]
        self.producer_schema, self.consumer_schema = f"{name}_prod_{tag}", f"{name}_cons_{tag}"
        self.engine: AsyncEngine = create_engine_for_schema(settings.database_url, self.producer_schema,
                                                            pool_size=pool_size)
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(self.engine)
        self.warmups = 0  # warm-up events published so far (they carry WARMUP_SOURCE)

    async def create(self) -> None:
        async with self.engine.begin() as conn:
            for schema in (self.producer_schema, self.consumer_schema):
                await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
                await conn.execute(sa.text(f'SET LOCAL search_path = "{schema}"'))
                await conn.run_sync(messaging_metadata.create_all)
            await conn.run_sync(consumer_proc.effects.metadata.create_all)  # search_path: the consumer's schema

    def relay(self):
        return OutboxRelay(self.settings, self.producer_schema).run()  # production defaults: NOTIFY, 1 s poll

    def consumers(self, handler: str, profile: Path | None, replicas: int = 1) -> ConsumerGroup:
        return ConsumerGroup(self.settings, self.consumer_schema, f"{self.consumer_schema}-group", handler, profile,
                             replicas)

    async def publish_bulk(self, events: Sequence[CloudEvent]) -> None:
        """One transaction, one multi-row insert for all `events` (a bulk producer: an order-sync page)."""
        async with self.sessions() as session, session.begin():
            await add_events(session, list(events))

    async def publish_each(self, events: Sequence[CloudEvent]) -> None:
        """One transaction, one add_event call (one insert statement) per event."""
        async with self.sessions() as session, session.begin():
            for event in events:
                await add_event(session, event)

    async def warm_up(self, consumers: ConsumerGroup) -> None:
        """Topics created, relay producer connected, group joined, statements compiled: one round trip.

        With several replicas, more rounds until every replica has applied something: each then holds
        partitions, so no rebalance falls into the measured window.
        """
        await self.publish_each(cancelled_events(1, source=WARMUP_SOURCE))
        self.warmups = 1
        await consumers.wait_count(self.warmups, limit_s=90)
        deadline = time.monotonic() + 90
        while any(m.count == 0 for m in consumers.members):
            if time.monotonic() > deadline:
                raise TimeoutError("a consumer replica got no partitions within 90 s")
            await self.publish_bulk(cancelled_events(WARM_UP_ROUND, source=WARMUP_SOURCE))
            self.warmups += WARM_UP_ROUND
            await consumers.wait_count(self.warmups, limit_s=90)
        consumers.start_measuring()

    async def verify(self, measured: int) -> None:
        """Every measured event applied exactly once (the effects table has no unique constraint on purpose)."""
        effects = consumer_proc.effects
        async with self.engine.connect() as conn:
            await conn.execute(sa.text(f'SET search_path = "{self.consumer_schema}"'))
            total, distinct = (await conn.execute(
                sa.select(sa.func.count(), sa.func.count(sa.distinct(effects.c.event_id))))).one()
            await conn.rollback()
        if total != distinct or distinct != measured + self.warmups:
            raise AssertionError(f"effects: {total} rows, {distinct} distinct; expected {measured + self.warmups}")

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
                     handler: str, broker_pid: int, replicas: int = 1, profile_dir: Path | None = None) -> dict:
    """`events` written by `writers` concurrent writers, `per_tx` per transaction, relayed and consumed.

    bulk=True: each transaction stages its events with one add_events call; False: one add_event per event.
    handler: "batch" (a BatchHandler, one insert per fetch) or "each" (one insert per event).
    replicas: consuming-service processes in the consumer group.
    """
    name = f"tput_{'bulk' if bulk else 'each'}_{handler}_x{replicas}"
    bb = Backbone(settings, f"bench_{name}", pool_size=max(writers, 4))
    await bb.create()
    publish: Callable = bb.publish_bulk if bulk else bb.publish_each
    try:
        async with bb.consumers(handler, _profile_path(profile_dir, f"consumer-{name}"), replicas) as consumers, \
                running(bb.relay()):
            await bb.warm_up(consumers)
            freeze_startup_objects()  # as a service does after startup; the workload is built by now

            async def write(batches) -> None:
                for batch in batches:
                    await publish(batch)

            cpu = CpuMeter({"producer": [_self_pid()], "consumer": consumers.pids, "broker": [broker_pid]})
            with _profiled(_profile_path(profile_dir, f"producer-{name}")):
                t0, wall0 = time.monotonic(), time.time()
                await asyncio.gather(*(write(b) for b in deal(list(chunks(events, per_tx)), writers)))
                written = time.monotonic() - t0
                await consumers.wait_count(bb.warmups + len(events), limit_s=240)
            cpu_s = cpu.stop()
        effects = consumers.effects
        _check_reported(effects, events)
        elapsed = max(effects[e.id][0] for e in events) - t0
        await bb.verify(len(events))
        stages = await bb.stages()
    finally:
        gc.unfreeze()  # the next phase freezes its own startup objects
        await bb.engine.dispose()
    return {
        "events": len(events), "seconds": elapsed, "rate": len(events) / elapsed,
        "writes_committed_s": written,
        "last_relayed_s": max(s[2] for s in stages) - wall0,
        "last_consumer_txn_start_s": max(s[3] for s in stages) - wall0,
        "cpu_s": cpu_s, "consumer_txns": _txns(consumers.measured_batches),
    }


async def latency(settings: Settings, events: list[CloudEvent], *, rate: float, per_tick: int, handler: str,
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
        async with bb.consumers(handler, _profile_path(profile_dir, "consumer-latency")) as consumers, running(bb.relay()):
            await bb.warm_up(consumers)
            freeze_startup_objects()  # as a service does after startup; the workload is built by now
            cpu = CpuMeter({"producer": [_self_pid()], "consumer": consumers.pids, "broker": [broker_pid]})
            with _profiled(_profile_path(profile_dir, "producer-latency")):
                await asyncio.gather(*await paced(events, rate, per_tick, produce))
                await consumers.wait_count(bb.warmups + len(events), limit_s=120)
            cpu_s = cpu.stop()
        effects = consumers.effects
        _check_reported(effects, events)
        await bb.verify(len(events))
        stages = await bb.stages()
    finally:
        gc.unfreeze()  # the next phase freezes its own startup objects
        await bb.engine.dispose()
    ids = [e.id for e in events]
    span = max(committed.values()) - min(committed.values())
    return {
        "events": len(events),
        "latencies_s": [effects[i][0] - committed[i] for i in ids],
        "achieved_rate": (len(events) - 1) / span,
        "cpu_s": cpu_s, "consumer_txns": _txns(consumers.measured_batches),
        "stages_s": {  # per event, from its producing commit (wall clock, same machine as the database)
            "commit_to_relayed": [published - committed_wall[i] for i, _, published, _ in stages],
            "commit_to_consumer_txn_start": [processed - committed_wall[i] for i, _, _, processed in stages],
            "consumer_txn_start_to_effect_commit": [effects[i][1] - processed for i, _, _, processed in stages],
        },
    }


def _check_reported(effects: dict, events: list[CloudEvent]) -> None:
    missing = sum(1 for e in events if e.id not in effects)
    if missing:
        raise RuntimeError(f"{missing} of {len(events)} measured events have no reported effect time "
                           f"({len(effects)} reported in all)")


def _self_pid() -> int:
    return multiprocessing.current_process().pid


def _txns(measured: list[int]) -> dict:
    """The consumer's effect transactions during the phase (warm-up left out): how many, how full."""
    return {"count": len(measured), "mean_events": sum(measured) / max(1, len(measured)),
            "max_events": max(measured, default=0)}
