"""`channelbridge run`: the whole stack on the embedded default (or on servers named in the environment)."""

from __future__ import annotations

import os
import signal
import threading
from contextlib import ExitStack
from pathlib import Path

from shared.devstack import demo, secrets
from shared.devstack.infra import EmbeddedPostgres, TansuBroker
from shared.devstack.processes import port_open
from shared.devstack.stack import MARKETPLACES, ROOT, Stack, default_components, pointed_elsewhere


def _echo(text: str = "") -> None:
    print(text, flush=True)


def run_dev_stack(dev_dir: Path | None = None) -> None:
    dev_dir = dev_dir or Path(os.environ.get("CB_DEV_DIR") or ROOT / ".dev")
    dev_dir.mkdir(exist_ok=True)
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())

    env = secrets.load_or_create(dev_dir / "secrets.env")
    with ExitStack() as cleanup:
        database_url = os.environ.get("CB_DATABASE_URL")
        if not database_url:
            pg = EmbeddedPostgres(dev_dir / "pg", keep=True)
            database_url = pg.start()
            cleanup.callback(pg.stop)
        bootstrap = os.environ.get("CB_KAFKA_BOOTSTRAP_SERVERS")
        if not bootstrap:
            broker = TansuBroker(port=None if port_open("127.0.0.1", 9092) else 9092, log_path=dev_dir / "tansu.log")
            bootstrap = broker.start()
            cleanup.callback(broker.stop)

        gateway_port = int(os.environ.get("CB_GATEWAY_PORT", "8000"))
        elsewhere = pointed_elsewhere(os.environ)
        stack = Stack(env={**env, "CB_ENVIRONMENT": "dev", "CB_DATABASE_URL": database_url,
                           "CB_KAFKA_BOOTSTRAP_SERVERS": bootstrap},
                      components=default_components(base_port=gateway_port, user_env=os.environ),
                      log_dir=dev_dir / "logs")
        _echo("Starting ChannelBridge…")
        stack.start()
        cleanup.callback(stack.stop)
        seeded = demo.seed(stack.url("gateway"), env["CB_BOOTSTRAP_ADMIN_CLIENT_ID"],
                           env["CB_BOOTSTRAP_ADMIN_CLIENT_SECRET"], dev_dir / "demo.json")
        shops = demo.connect_demo_shops(stack.url("gateway"), {m: stack.url(f"{m}-sandbox") for m in
                                                               MARKETPLACES if m not in elsewhere}, seeded)

        _echo("\nChannelBridge is running:")
        _echo(f"  gateway       {stack.url('gateway')}   (API docs: {stack.url('gateway')}/docs)")
        for c in stack.components:
            if c.name != "gateway":
                _echo(f"  {c.name:<13} {stack.url(c.name)}")
        _echo(f"  postgres      {database_url}")
        _echo(f"  kafka         {bootstrap}")
        _echo(f"  logs          {dev_dir / 'logs'}")
        _echo(f"\nAdmin client:  {env['CB_BOOTSTRAP_ADMIN_CLIENT_ID']} / {env['CB_BOOTSTRAP_ADMIN_CLIENT_SECRET']}")
        _echo(f"Demo merchant: {seeded['merchant_id']}")
        _echo(f"Demo client:   {seeded['client_id']} / {seeded['client_secret']}")
        for shop in shops:
            _echo(f"{shop['marketplace'].capitalize() + ' shop:':<15}{shop['shop_name']} ({shop['shop_id']}), "
                  f"connection {shop['id']} ({shop['status']})")
        for marketplace, setting in elsewhere.items():
            _echo(f"{marketplace.capitalize() + ' shop:':<15}no demo shop: {setting} points at {os.environ[setting]} "
                  f"(your setting); connect your shop there with POST /v1/connections")
        _echo("Their paid orders appear at GET /v1/orders within seconds, with order.paid events on Kafka.")
        _echo(f"\nTry: curl -s -u {seeded['client_id']}:{seeded['client_secret']} "
              f"-d grant_type=client_credentials {stack.url('gateway')}/v1/oauth/token")
        _echo("Ctrl-C stops everything.")

        while not stopping.wait(0.5):
            crashed = stack.crashed()
            if crashed:
                _echo(f"\n{crashed} stopped unexpectedly; see {dev_dir / 'logs' / crashed}.log")
                break
        _echo("\nStopping…")
    _echo("Stopped.")
