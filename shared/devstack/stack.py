"""The whole ChannelBridge stack as child processes: the services and the gateway, each under uvicorn.

`make run` and the end-to-end tests start the same stack, so what the tests prove is what a newcomer
runs. Every child gets the same `CB_*` environment; the supervisor waits for each `/readyz` and stops
children in reverse order.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
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
    exports: dict[str, str] = field(default_factory=dict)  # CB_* variables pointing at it; "{url}" is its origin
    ready_path: str = "/readyz"
    marketplace: str | None = None  # set on a marketplace's sandbox


MARKETPLACES = ("etsy", "bigcommerce", "allegro")


def marketplace_url_settings(marketplace: str) -> tuple[str, ...]:
    """The settings that say where a marketplace is: any one given by the user points it away from the sandbox."""
    prefix = f"CB_{marketplace.upper()}_"
    return tuple(prefix + name for name in ("API_URL", "AUTHORIZE_URL", "TOKEN_URL", "UPLOAD_URL"))


def pointed_elsewhere(user_env: Mapping[str, str]) -> dict[str, str]:
    """Marketplaces the user pointed somewhere (a real API, their own test double) → the setting that does it.

    Their sandboxes are neither started nor exported to the services, so none of the sandbox's settings
    (its app credentials included) can mix with the user's.
    """
    found = {}
    for marketplace in MARKETPLACES:
        given = [name for name in marketplace_url_settings(marketplace) if user_env.get(name)]
        if given:
            found[marketplace] = given[0]
    return found


ETSY_SANDBOX_EXPORTS = {
    "CB_ETSY_API_URL": "{url}",
    "CB_ETSY_AUTHORIZE_URL": "{url}/oauth/connect",
    "CB_ETSY_TOKEN_URL": "{url}/v3/public/oauth/token",
    "CB_ETSY_CLIENT_ID": "sandbox-etsy-keystring",
    "CB_ETSY_CLIENT_SECRET": "sandbox-etsy-secret",
}


# Keys that open sealed secrets (or hash client secrets) reach only the apps that use them.
KEY_HOLDERS = {"CB_ENCRYPTION_KEYS": ("services.auth.", "services.orders."), "CB_CLIENT_SECRET_HASH_KEY": ("services.auth.",)}

BIGCOMMERCE_SANDBOX_EXPORTS = {"CB_BIGCOMMERCE_API_URL": "{url}"}

ALLEGRO_SANDBOX_EXPORTS = {
    "CB_ALLEGRO_API_URL": "{url}",
    "CB_ALLEGRO_AUTHORIZE_URL": "{url}/auth/oauth/authorize",
    "CB_ALLEGRO_TOKEN_URL": "{url}/auth/oauth/token",
    "CB_ALLEGRO_CLIENT_ID": "sandbox-allegro-client-id",
    "CB_ALLEGRO_CLIENT_SECRET": "sandbox-allegro-client-secret",
}

SANDBOX_EXPORTS = {"etsy": ETSY_SANDBOX_EXPORTS, "bigcommerce": BIGCOMMERCE_SANDBOX_EXPORTS,
                   "allegro": ALLEGRO_SANDBOX_EXPORTS}


def default_components(base_port: int = 8000, gateway_port: int | None = None,
                       user_env: Mapping[str, str] | None = None) -> list[Component]:
    """Sandboxes first (services may call them on start), the gateway last (it needs the services).

    The sandbox of a marketplace that `user_env` points elsewhere is left out.
    """
    skipped = pointed_elsewhere(user_env or {})
    return [c for c in _all_components(base_port, gateway_port) if c.marketplace not in skipped]


def _all_components(base_port: int, gateway_port: int | None) -> list[Component]:
    return [
        Component("etsy-sandbox", "sandbox.etsy.app:app", base_port + 11, ETSY_SANDBOX_EXPORTS,
                  ready_path="/_sandbox/etsy/settings", marketplace="etsy"),
        Component("bigcommerce-sandbox", "sandbox.bigcommerce.app:app", base_port + 12, BIGCOMMERCE_SANDBOX_EXPORTS,
                  ready_path="/_sandbox/bigcommerce/settings", marketplace="bigcommerce"),
        Component("allegro-sandbox", "sandbox.allegro.app:app", base_port + 13, ALLEGRO_SANDBOX_EXPORTS,
                  ready_path="/_sandbox/allegro/settings", marketplace="allegro"),
        Component("auth", "services.auth.main:app", base_port + 1, {"CB_AUTH_URL": "{url}"}),
        Component("orders", "services.orders.main:app", base_port + 2, {"CB_ORDERS_URL": "{url}"}),
        Component("listings", "services.listings.main:app", base_port + 3, {"CB_LISTINGS_URL": "{url}"}),
        Component("fulfilment", "services.fulfilment.main:app", base_port + 4, {"CB_FULFILMENT_URL": "{url}"}),
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
        """The environment every child gets: the user's and the stack's, plus where the sandboxes listen.

        A marketplace setting the user gave wins over the sandbox's: a marketplace pointed elsewhere gets
        none of its sandbox's settings, and single settings (a client id, say) are never overwritten.
        """
        env = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
        user = {**os.environ, **self.env}
        skipped = pointed_elsewhere(user)
        for c in self.components:
            if c.marketplace in skipped:
                continue
            for name, template in c.exports.items():
                if c.marketplace is None or not user.get(name):
                    env[name] = template.format(url=f"http://127.0.0.1:{c.port}")
        gateway = next((c for c in self.components if c.name == "gateway"), None)
        if gateway is not None:
            env["CB_GATEWAY_PORT"] = str(gateway.port)
            env.setdefault("CB_PUBLIC_BASE_URL", f"http://127.0.0.1:{gateway.port}")
        return env

    def start(self, timeout: float = 90.0) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for c in self.components:
            self._spawn(c)
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def _spawn(self, c: Component) -> None:
        # --no-proxy-headers: uvicorn would otherwise believe X-Forwarded-For from any local peer; the gateway
        # decides itself, from CB_TRUSTED_PROXIES.
        args = [sys.executable, "-m", "uvicorn", c.app, "--host", "127.0.0.1", "--port", str(c.port),
                "--no-access-log", "--no-proxy-headers", "--timeout-graceful-shutdown", "5"]
        env = self.child_env()
        for name, holders in KEY_HOLDERS.items():
            if not c.app.startswith(holders):
                env.pop(name, None)
        self._procs[c.name] = spawn(args, env=env, log_path=self.log_dir / f"{c.name}.log", cwd=ROOT)

    def kill(self, name: str) -> None:
        """SIGKILL one component: no shutdown hooks run, as when a node dies."""
        proc = self._procs.pop(name)
        proc.kill()
        proc.wait()

    def restart(self, name: str, timeout: float = 60.0) -> None:
        component = self._component(name)
        self._spawn(component)
        self.wait_ready(timeout, [component])

    def wait_ready(self, timeout: float, components: list[Component] | None = None) -> None:
        deadline = time.monotonic() + timeout
        pending = list(components or self.components)
        with httpx.Client(timeout=2.0) as client:
            while pending:
                c = pending[0]
                proc = self._procs[c.name]
                if proc.poll() is not None:
                    raise RuntimeError(f"{c.name} exited with code {proc.returncode}; see {self.log_dir / c.name}.log")
                try:
                    if client.get(f"http://127.0.0.1:{c.port}{c.ready_path}").status_code == 200:
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
