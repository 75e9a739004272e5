"""A closed-loop HTTP load generator, run as its own process so its CPU is not counted against the servers.

`python -m bench.loadgen --target direct=URL --target gateway=URL --connections 32 --slices 10
--slice-seconds 2` keeps `connections` requests in flight (one per kept-alive connection, like `hey -c`)
against one target at a time, switching target every slice: direct, gateway, direct, gateway, … Short
alternating slices put both targets under the same background load of a shared machine, which a run of
one target followed by a run of the other does not. Each target gets one unrecorded warm-up slice first.
It prints one JSON object: per target {"latencies_s", "seconds", "statuses", "requests", "cpu_s"} where
`cpu_s` holds the CPU seconds each process named with `--pid NAME=PID` (and this one, "loadgen") used
during that target's slices.

Headers per target: `--bearer NAME=ENV` sends `Authorization: Bearer $ENV` to target NAME (through the
gateway); `--identity NAME=ENV` signs gateway identity headers per request with the internal secret in
$ENV and the identity given as JSON in `$CB_BENCH_IDENTITY` (straight to a service): exactly what the
gateway adds, with a fresh request id and timestamp each time. Secrets come through the environment,
never the command line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from urllib.parse import urlsplit

import aiohttp

from bench.infra import machine_busy_seconds, process_cpu_seconds
from shared.web.identity import REQUEST_ID, Identity, identity_headers, request_target

Headers = Callable[[], dict[str, str]]


def _bearer(env: str) -> Headers:
    static = {"Authorization": f"Bearer {os.environ[env]}"}
    return lambda: static


def _identity(env: str, url: str) -> Headers:
    """Identity headers as the gateway signs them: bound to GET and this URL's raw path and query."""
    secret = os.environ[env]
    parsed = urlsplit(url)
    target = request_target(parsed.path, parsed.query)
    raw = json.loads(os.environ["CB_BENCH_IDENTITY"])
    identity = Identity(client_id=raw["client_id"], merchant_id=uuid.UUID(raw["merchant_id"]),
                        scopes=frozenset(raw["scopes"]))

    def signed() -> dict[str, str]:
        request_id = str(uuid.uuid4())
        return {REQUEST_ID: request_id,
                **identity_headers(secret, identity, request_id, method="GET", target=target)}

    return signed


class CpuClock:
    """CPU seconds of named processes (this one included), sampled at slice boundaries."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids

    def sample(self) -> dict[str, float]:
        return {**{name: process_cpu_seconds(pid) for name, pid in self.pids.items()},
                "loadgen": time.process_time(), "machine": machine_busy_seconds()}


async def _slice(session: aiohttp.ClientSession, url: str, headers: Headers, connections: int, seconds: float) -> dict:
    """`connections` workers for `seconds`; requests started in the slice are timed to their last byte."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    clock = time.perf_counter
    started = clock()
    stop_at = started + seconds

    async def worker() -> None:
        while (begin := clock()) < stop_at:
            async with session.get(url, headers=headers()) as response:
                await response.read()
            latencies.append(clock() - begin)
            statuses[response.status] += 1

    await asyncio.gather(*(worker() for _ in range(connections)))
    return {"latencies_s": latencies, "statuses": statuses, "seconds": clock() - started}


async def _run(args, targets: dict[str, tuple[str, Headers]]) -> dict:
    cpu = CpuClock({name: int(pid) for name, pid in (p.split("=", 1) for p in args.pid)})
    results = {name: {"latencies_s": [], "seconds": 0.0, "statuses": Counter(), "cpu_s": Counter()} for name in targets}
    sessions = {name: aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=args.connections),
                                            cookie_jar=aiohttp.DummyCookieJar()) for name in targets}
    try:
        for name, (url, headers) in targets.items():
            await _slice(sessions[name], url, headers, args.connections, args.warmup)
        for i in range(args.slices * len(targets)):
            name = list(targets)[i % len(targets)]
            url, headers = targets[name]
            before = cpu.sample()
            one = await _slice(sessions[name], url, headers, args.connections, args.slice_seconds)
            after = cpu.sample()
            total = results[name]
            total["latencies_s"] += one["latencies_s"]
            total["seconds"] += one["seconds"]
            total["statuses"].update(one["statuses"])
            total["cpu_s"].update({k: after[k] - before[k] for k in after})
    finally:
        for session in sessions.values():
            await session.close()
    return {name: {**r, "requests": len(r["latencies_s"]), "statuses": {str(k): v for k, v in r["statuses"].items()},
                   "cpu_s": dict(r["cpu_s"])} for name, r in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", action="append", required=True, help="NAME=URL, in the order slices alternate")
    parser.add_argument("--bearer", action="append", default=[], help="NAME=ENV: bearer token from $ENV")
    parser.add_argument("--identity", action="append", default=[], help="NAME=ENV: sign identity headers with $ENV")
    parser.add_argument("--pid", action="append", default=[], help="NAME=PID: a process whose CPU is measured")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--slices", type=int, default=10, help="measured slices per target")
    parser.add_argument("--slice-seconds", type=float, default=2.0)
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of unrecorded load per target first")
    args = parser.parse_args()
    urls = dict(t.split("=", 1) for t in args.target)
    makers = {**{k: _bearer(v) for k, v in (b.split("=", 1) for b in args.bearer)},
              **{k: _identity(v, urls[k]) for k, v in (i.split("=", 1) for i in args.identity)}}
    targets = {name: (url, makers.get(name, dict)) for name, url in urls.items()}
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        result = asyncio.run(_run(args, targets))
    else:
        result = uvloop.run(_run(args, targets))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
