"""Fixtures for the BigCommerce emulator: real uvicorn servers and a per-test harness.

The emulator and a tiny webhook receiver each run in a background thread on a free 127.0.0.1
port for the whole session; each test gets a reset world and an httpx client whose every
`/stores/...` exchange is checked against BigCommerce's OpenAPI files (violations fail the test
at teardown). Import the fixtures into a test module to use them.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from sandbox.bigcommerce.app import create_app
from tests.inprocess import serve
from tests.sandbox.bigcommerce_contract import ContractRecorder, Spec, load_specs
from tests.sandbox_control import SandboxControl

ALL_SCOPES = ["store_v2_orders", "store_v2_products", "store_inventory", "store_v2_information_read_only"]


def wait_for(condition: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class ReceivedCall:
    path: str
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.raw)


@dataclass
class WebhookReceiver:
    """A webhook destination that records every call and answers with queued statuses (default 200)."""

    base_url: str = ""
    calls: list[ReceivedCall] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, name: str = "bigcommerce") -> str:
        return f"{self.base_url}/hooks/{name}"

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.statuses.clear()

    def fail_next(self, count: int, status: int = 500) -> None:
        with self.lock:
            self.statuses.extend([status] * count)

    def received(self, scope: str | None = None) -> list[ReceivedCall]:
        with self.lock:
            return [c for c in self.calls if scope is None or c.json.get("scope") == scope]

    def app(self) -> FastAPI:
        receiver = FastAPI()

        @receiver.post("/hooks/{name}")
        async def receive(request: Request, name: str) -> Response:
            raw = await request.body()
            with self.lock:
                self.calls.append(ReceivedCall(f"/hooks/{name}", dict(request.headers), raw))
                status = self.statuses.pop(0) if self.statuses else 200
            return Response(status_code=status)

        return receiver


@pytest.fixture(scope="session")
def bigcommerce_base_url() -> Iterator[str]:
    yield from serve(create_app(), "BigCommerce sandbox")


@pytest.fixture(scope="session")
def bigcommerce_specs() -> list[Spec]:
    return load_specs()


@pytest.fixture(scope="session")
def _receiver_server() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    for base_url in serve(receiver.app(), "webhook receiver"):
        receiver.base_url = base_url
        yield receiver


@pytest.fixture
def webhook_receiver(_receiver_server: WebhookReceiver) -> WebhookReceiver:
    _receiver_server.reset()
    return _receiver_server


class BigCommerceHarness(SandboxControl):
    """Thin helpers over the control API and the BigCommerce endpoints; all traffic is real HTTP."""

    marketplace = "bigcommerce"

    def __init__(self, client: httpx.Client, contract: ContractRecorder) -> None:
        super().__init__(client)
        self.contract = contract

    # control API
    def create_store(self, **body: Any) -> dict[str, Any]:
        return self.control("POST", "/stores", json=body)

    def create_account(self, store_hash: str, scopes: list[str], name: str = "ChannelBridge") -> dict[str, Any]:
        return self.control("POST", f"/stores/{store_hash}/api_accounts", json={"name": name, "scopes": scopes})

    def create_orders(self, store_hash: str, **body: Any) -> list[dict[str, Any]]:
        return self.control("POST", f"/stores/{store_hash}/orders", json=body)["orders"]

    def set_status(self, store_hash: str, order_id: int, status_id: int) -> dict[str, Any]:
        return self.control("PUT", f"/stores/{store_hash}/orders/{order_id}/status", json={"status_id": status_id})

    def fault(self, **body: Any) -> dict[str, Any]:
        return self.control("POST", "/faults", json=body)

    def deliveries(self, **params: Any) -> list[dict[str, Any]]:
        return self.control("GET", "/deliveries", params=params)["results"]

    # BigCommerce API
    def api(self, method: str, store_hash: str, path: str, token: str | None, **kwargs: Any) -> httpx.Response:
        headers = {"Accept": "application/json", "Content-Type": "application/json", **kwargs.pop("headers", {})}
        if token is not None:
            headers["X-Auth-Token"] = token
        return self.http.request(method, f"/stores/{store_hash}{path}", headers=headers, **kwargs)


@dataclass
class Merchant:
    """A store plus one API account, as the merchant would paste them into ChannelBridge."""

    store_hash: str
    store_id: int
    token: str
    client_id: str
    client_secret: str
    api_path: str


@pytest.fixture
def bc(bigcommerce_base_url: str, bigcommerce_specs: list[Spec]) -> Iterator[BigCommerceHarness]:
    contract = ContractRecorder(bigcommerce_specs)
    with httpx.Client(base_url=bigcommerce_base_url, timeout=30, event_hooks={"response": [contract]}) as client:
        harness = BigCommerceHarness(client, contract)
        harness.control("POST", "/reset")
        # Generous quota so functional tests never trip the limiter; rate tests lower it again.
        harness.settings(rate_limit_quota=100_000)
        yield harness
    assert not contract.violations, "OpenAPI contract violations:\n" + "\n".join(contract.violations)


@pytest.fixture
def merchant(bc: BigCommerceHarness) -> Merchant:
    store = bc.create_store(name="ChannelBridge Test Store")
    account = bc.create_account(store["store_hash"], ALL_SCOPES)
    return Merchant(
        store_hash=store["store_hash"],
        store_id=store["store_id"],
        token=account["access_token"],
        client_id=account["client_id"],
        client_secret=account["client_secret"],
        api_path=account["api_path"],
    )
