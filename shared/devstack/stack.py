"""The whole ChannelBridge stack as child processes: the services and the gateway, each under uvicorn.

`make run` and the end-to-end tests start the same stack, so what the tests prove is what a newcomer
runs. Every child gets the same `CB_*` environment; the supervisor waits for each `/readyz` and stops
children in reverse order.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shared.devstack.processes import spawn, stop

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Component:
    name: str
    app: str  # uvicorn "module:attribute"
    port: int
    url_setting: str | None = None  # the CB_* variable other components use to reach it


def default_components(base_port: int = 8000, gateway_port: int | None = None) -> list[Component]:
    return [
        Component("auth", "services.auth.main:app", base_port + 1, "CB_AUTH_URL"),
        Component("orders", "services.orders.main:app", base_port + 2, "CB_ORDERS_URL"),
        Component("listings", "services.listings.main:app", base_port + 3, "CB_LISTINGS_URL"),
        Component("fulfilment", "services.fulfilment.main:app", base_port + 4, "CB_FULFILMENT_URL"),
        Component("gateway", "services.gateway.main:app", gateway_port or base_port),
    ]


@dataclass
class Stack:
    env: dict[str, str]
    components: list[Component]
    log_dir: Path
    _procs: dict[str, object] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self._component(name).port}"

    def _component(self, name: str) -> Component:
        return next(c for c in self.components if c.name == name)

    def child_env(self) -> dict[str, str]:
        env = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
        for c in self.components:
            if c.url_setting:
                env[c.url_setting] = f"http://127.0.0.1:{c.port}"
        gateway = next((c for c in self.components if c.name == "gateway"), None)
        if gateway is not None:
            env["CB_GATEWAY_PORT"] = str(gateway.port)
            env.setdefault("CB_PUBLIC_BASE_URL", f"http://127.0.0.1:{gateway.port}")
        return env

    def start(self, timeout: float = 90.0) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = self.child_env()
        for c in self.components:
            args = [sys.executable, "-m", "uvicorn", c.app, "--host", "127.0.0.1", "--port", str(c.port),
                    "--no-access-log", "--timeout-graceful-shutdown", "5"]
            self._procs[c.name] = spawn(args, env=env, log_path=self.log_dir / f"{c.name}.log", cwd=ROOT)
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = [c for c in self.components]
        with httpx.Client(timeout=2.0) as client:
            while pending:
                c = pending[0]
                proc = self._procs[c.name]
                if proc.poll() is not None:
                    raise RuntimeError(f"{c.name} exited with code {proc.returncode}; see {self.log_dir / c.name}.log")
                try:
                    if client.get(f"http://127.0.0.1:{c.port}/readyz").status_code == 200:
                        pending.pop(0)
                        continue
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{c.name} not ready within {timeout}s; see {self.log_dir / c.name}.log")
                time.sleep(0.2)

    def crashed(self) -> str | None:
        """The name of a component whose process has exited, if any."""
        return next((name for name, proc in self._procs.items() if proc.poll() is not None), None)

    def stop(self) -> None:
        for c in reversed(self.components):
            proc = self._procs.pop(c.name, None)
            if proc is not None:
                stop(proc)
