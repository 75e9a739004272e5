"""Driving the running stack and the Etsy sandbox the way a merchant, an API user and Kafka subscriber would."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
from aiokafka import AIOKafkaConsumer

from tests.api_client import bearer, new_tenant
from tests.sandbox_control import AsyncSandboxControl

ALL_SCOPES = ["connections:read", "connections:write", "orders:read", "orders:write", "fulfilment:write"]


class Sandbox(AsyncSandboxControl):
    """An emulator's control API as the e2e tests drive it: faults and the request log."""

    async def fault(self, **body) -> None:
        await self.control("POST", "/faults", json=body)

    async def requests(self, path_prefix: str = "") -> list[dict]:
        return (await self.control("GET", "/requests", params={"path_prefix": path_prefix}))["results"]


class EtsySandbox(Sandbox):
    marketplace = "etsy"

    async def new_shop(self, name: str) -> dict:
        return await self.control("POST", "/shops", json={"shop_name": name})

    async def add_receipts(self, shop_id: int, **body) -> list[int]:
        return (await self.control("POST", f"/shops/{shop_id}/receipts", json=body))["receipt_ids"]


class BigCommerceSandbox(Sandbox):
    marketplace = "bigcommerce"

    async def new_store(self, scopes: list[str] | None = None) -> tuple[dict, dict]:
        store = await self.control("POST", "/stores", json={"name": f"BC {uuid.uuid4().hex[:6]}"})
        account = await self.control("POST", f"/stores/{store['store_hash']}/api_accounts",
                                     json={"scopes": scopes} if scopes is not None else {})
        return store, account

    async def add_orders(self, store_hash: str, **body) -> list[int]:
        return (await self.control("POST", f"/stores/{store_hash}/orders", json=body))["order_ids"]


class AllegroSandbox(Sandbox):
    marketplace = "allegro"


class Merchant:
    """A tenant with an API client, talking to the gateway."""

    def __init__(self, gateway: httpx.AsyncClient, tenant: dict) -> None:
        self.gateway = gateway
        self.id = tenant["merchant_id"]
        self.headers = bearer(tenant["token"])

    @classmethod
    async def create(cls, gateway: httpx.AsyncClient) -> Merchant:
        return cls(gateway, await new_tenant(gateway, ALL_SCOPES))

    async def call(self, method: str, path: str, expect: int | tuple = 200, **kwargs):
        response = await self.gateway.request(method, path, headers={**self.headers, **kwargs.pop("headers", {})},
                                              **kwargs)
        expected = expect if isinstance(expect, tuple) else (expect,)
        assert response.status_code in expected, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    async def connect_etsy(self, sandbox: EtsySandbox, user_id: int) -> dict:
        """The whole OAuth dance: create, approve at (sandbox) Etsy as `user_id`, land on our callback."""
        pending = await self.call("POST", "/v1/connections", 201, json={"marketplace": "etsy", "merchant_id": self.id})
        assert pending["status"] == "pending"
        await sandbox.control("PUT", "/settings", json={"approving_user_id": user_id})
        approval = await sandbox.http.get(pending["authorization_url"], follow_redirects=False)
        assert approval.status_code in (302, 303), approval.text
        callback = urlsplit(approval.headers["location"])
        assert callback.path == "/v1/connections/oauth/callback"
        query = {k: v[0] for k, v in parse_qs(callback.query).items()}
        landed = await self.gateway.get(callback.path, params=query)  # no bearer token: the state protects it
        assert landed.status_code == 200, landed.text
        return landed.json()

    async def connect_bigcommerce(self, account: dict, expect: int = 201) -> dict:
        credentials = {k: account[k] for k in ("api_path", "client_id", "client_secret", "access_token")}
        return await self.call("POST", "/v1/connections", expect,
                               json={"marketplace": "bigcommerce", "merchant_id": self.id, "credentials": credentials})

    async def connect_allegro(self, sandbox: AllegroSandbox, seller_id) -> dict:
        """Allegro's code grant through the same callback route as Etsy's."""
        pending = await self.call("POST", "/v1/connections", 201, json={"marketplace": "allegro", "merchant_id": self.id})
        await sandbox.control("PUT", "/settings", json={"approving_user_id": seller_id})
        approval = await sandbox.http.get(pending["authorization_url"], follow_redirects=False)
        assert approval.status_code in (302, 303), approval.text
        callback = urlsplit(approval.headers["location"])
        landed = await self.gateway.get(callback.path, params={k: v[0] for k, v in parse_qs(callback.query).items()})
        assert landed.status_code == 200, landed.text
        return landed.json()

    async def orders(self, **params) -> list[dict]:
        items, cursor = [], None
        while True:
            page = await self.call("GET", "/v1/orders", params={**params, "limit": 200,
                                                                **({"cursor": cursor} if cursor else {})})
            items.extend(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                return items

    async def orders_by_external_id(self, connection_id: str) -> dict[str, dict]:
        """The connection's orders keyed by the marketplace's order id."""
        return {o["external_id"]: o for o in await self.orders(connection_id=connection_id)}

    async def sync_status(self, connection_id: str) -> dict:
        return await self.call("GET", f"/v1/connections/{connection_id}/sync")

    async def sync_now_and_wait(self, connection_id: str, timeout: float = 90.0) -> dict:
        before = (await self.sync_status(connection_id))["runs"]
        await self.call("POST", f"/v1/connections/{connection_id}/sync", 202)
        return await self.wait_for_sync(connection_id, after_runs=before, timeout=timeout)

    async def wait_for_sync(self, connection_id: str, after_runs: int = 0, timeout: float = 90.0) -> dict:
        """Until a run newer than `after_runs` has finished."""
        deadline = time.monotonic() + timeout
        while True:
            response = await self.gateway.get(f"/v1/connections/{connection_id}/sync", headers=self.headers)
            if response.status_code == 200:
                state = response.json()
                if state["runs"] > after_runs and state["last_outcome"] not in (None, "running"):
                    return state
            assert time.monotonic() < deadline, f"no finished sync for {connection_id} within {timeout}s"
            await asyncio.sleep(0.2)


async def wait_until(check, timeout: float = 60.0, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        assert time.monotonic() < deadline, f"{what} not met within {timeout}s"
        await asyncio.sleep(interval)


class EventLog:
    """Every event on some topics since the start of the broker, read by a group-less consumer."""

    def __init__(self, bootstrap: str, *topics: str) -> None:
        self._consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                          group_id=None, enable_auto_commit=False)
        self.records: list = []

    async def __aenter__(self) -> EventLog:
        await self._consumer.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self._consumer.stop()

    async def poll(self) -> None:
        batch = await self._consumer.getmany(timeout_ms=200)
        self.records.extend(r for records in batch.values() for r in records)

    async def settle(self, seconds: float = 1.0) -> None:
        """Wait, then read what arrived meanwhile: a duplicate published late shows up in `events` after this."""
        await asyncio.sleep(seconds)
        await self.poll()

    def events(self, event_type: str, **data_filter) -> list[tuple[bytes, dict]]:
        """(key, envelope) of every `event_type` whose data matches `data_filter`."""
        found = []
        for record in self.records:
            envelope = json.loads(record.value)
            if envelope.get("type") == event_type and all(
                    str(envelope["data"].get(k)) == str(v) for k, v in data_filter.items()):
                found.append((record.key, envelope))
        return found

    async def wait_for(self, event_type: str, count: int, timeout: float = 60.0, **data_filter) -> list:
        async def enough():
            await self.poll()
            return len(self.events(event_type, **data_filter)) >= count
        await wait_until(enough, timeout, interval=0, what=f"{count} x {event_type}")
        return self.events(event_type, **data_filter)
