"""Throw-away infrastructure for one benchmark run: an embedded PostgreSQL and fresh Tansu brokers.

Each phase gets its own broker: the backbone's topic is named by the event type, so a second phase on the
same broker would make its new consumer group re-read the previous phase's 20,000 events.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from shared.devstack.infra import EmbeddedPostgres, TansuBroker
from shared.settings import Settings

# Production default: the backbone and the raw baselines use the same partition count.
PARTITIONS = Settings.model_fields["kafka_topic_partitions"].default


@contextlib.contextmanager
def scratch_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="cb-bench-") as tmp:
        yield Path(tmp)


@contextlib.contextmanager
def postgres(work_dir: Path) -> Iterator[str]:
    """A PostgreSQL server whose data directory is deleted when it stops."""
    server = EmbeddedPostgres(work_dir / "pg", keep=False, database="bench")
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@contextlib.contextmanager
def broker(work_dir: Path, name: str) -> Iterator[tuple[str, int]]:
    """A fresh broker: (bootstrap servers, process id)."""
    tansu = TansuBroker(log_path=work_dir / f"tansu-{name}.log")
    tansu.start()
    try:
        yield tansu.bootstrap_servers, tansu._proc.pid  # pid: for CPU accounting only
    finally:
        tansu.stop()


def bench_settings(database_url: str, bootstrap_servers: str) -> Settings:
    """The settings a service runs with (short Tansu session timeouts included), pointed at our servers."""
    return Settings(
        environment="test",
        service_name="bench",
        database_url=database_url,
        kafka_bootstrap_servers=bootstrap_servers,
        kafka_topic_partitions=PARTITIONS,
        log_level="WARNING",
    )


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds all cores have spent busy so far (user, nice, system, irq, softirq, steal)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """Where the CPU went during a measured window: named processes, and the rest of the machine."""

    def __init__(self, pids: dict[str, list[int]]) -> None:
        self.pids = pids  # name -> its processes (the consumer may run as several replicas)
        self._start = self._sample()

    def _sample(self) -> dict[str, float]:
        return {**{name: sum(process_cpu_seconds(pid) for pid in pids) for name, pids in self.pids.items()},
                "machine": machine_busy_seconds()}

    def stop(self) -> dict[str, float]:
        end = self._sample()
        used = {name: end[name] - self._start[name] for name in end}
        used["postgres_and_rest"] = used["machine"] - sum(used[name] for name in self.pids)
        return used
