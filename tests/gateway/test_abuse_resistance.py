"""Abuse resistance at the edge: body limits, raw-path checks, caller addresses, failed-auth limits, readiness."""

from __future__ import annotations

import asyncio
import socket
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from shared.devstack.processes import free_listen_port
from shared.web.body_limit import LINGER_BYTES
from tests.api_client import bearer, new_tenant
from tests.conftest import _start_stack

FIVE_MB = 5 * 1024 * 1024
TOKEN_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def hung_service():
    """A port that accepts connections and never answers: a service that hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


@pytest.fixture(scope="module")
def edge_gateway(stack, settings, infra_dir, hung_service):
    """A second gateway in front of the session stack's services, behind a "proxy" at 127.0.0.2.

    Its orders URL points at a port nobody listens on (orders down), its fulfilment URL at one that never
    answers (fulfilment hung), and its limit is small enough to reach with a handful of requests.
    Requests from 127.0.0.1 come from an untrusted peer.
    """
    dead_orders = f"http://127.0.0.1:{free_listen_port()}"
    running = _start_stack(settings, infra_dir / "edge-gateway", {"gateway"}, extra_env={
        "CB_TRUSTED_PROXIES": "127.0.0.2",
        "CB_RATE_LIMIT": "3/minute",
        "CB_UPSTREAM_TIMEOUT_S": "2",
        "CB_AUTH_URL": stack.url("auth"),
        "CB_ORDERS_URL": dead_orders,
        "CB_LISTINGS_URL": stack.url("listings"),
        "CB_FULFILMENT_URL": hung_service,
    })
    yield running
    running.stop()


def _client(base_url: str, source: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=source)
    return httpx.AsyncClient(base_url=base_url, transport=transport, timeout=15.0)


# --- body limits ---

async def test_5_mb_body_to_the_token_endpoint_is_413(gateway):
    response = await gateway.post("/v1/oauth/token", content=b"a" * FIVE_MB, headers=TOKEN_FORM)

    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/body-too-large")


async def test_declared_5_mb_body_is_refused_before_the_body_is_sent(stack):
    """Only the headers and 1 KiB go out; the 413 must come back without the other 5 MB."""
    origin = urlsplit(stack.url("gateway"))
    reader, writer = await asyncio.open_connection(origin.hostname, origin.port)
    try:
        writer.write(b"POST /v1/oauth/token HTTP/1.1\r\nHost: gateway\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: %d\r\n\r\n" % FIVE_MB + b"a" * 1024)
        await writer.drain()
        async with asyncio.timeout(15):  # a hang guard: the gateway waiting for the rest would never answer
            status_line = await reader.readline()
    finally:
        writer.close()
    assert status_line.split()[1] == b"413", status_line


async def test_streamed_body_without_length_is_counted_and_refused(gateway):
    async def chunks():  # chunked, no Content-Length: only counting can refuse it
        for _ in range(64):
            yield b"a" * 16384

    response = await gateway.post("/v1/oauth/token", content=chunks(), headers=TOKEN_FORM)

    assert response.status_code == 413


async def test_endless_body_ends_with_the_connection_after_a_bounded_amount(gateway):
    sent = 0

    async def endless():
        nonlocal sent
        while True:
            sent += 65536
            yield b"a" * 65536

    try:
        response = await gateway.post("/v1/oauth/token", content=endless(), headers=TOKEN_FORM)
        assert response.status_code == 413
    except httpx.TransportError:
        pass  # past the linger bound the gateway drops the connection; the point is that it does
    assert sent < 2 * LINGER_BYTES


async def test_default_limit_applies_to_other_routes_and_to_services_reached_directly(gateway, stack):
    admin = bearer((await new_tenant(gateway, ["orders:read"]))["token"])
    big = {"name": "x" * (1024 * 1024 + 10)}
    through_gateway = await gateway.post("/v1/merchants", json=big, headers=admin)
    async with httpx.AsyncClient(base_url=stack.url("fulfilment"), timeout=15.0) as direct:
        at_service = await direct.post(f"/v1/orders/{uuid.uuid4()}/shipments", json=big)
        small = await direct.post(f"/v1/orders/{uuid.uuid4()}/shipments", json={"carrier": "dhl"})

    assert through_gateway.status_code == 413 and at_service.status_code == 413
    assert small.status_code == 401  # under the limit the request reaches the route (and lacks an identity)


# --- raw paths ---

@pytest.mark.parametrize("target", [
    b"/v1/merchants/../clients", b"/v1/./merchants", b"/v1/merchants/%2e%2e", b"/v1/merchants/%2E%2e/clients",
    b"/v1/connections/x%2fsync", b"/v1/orders/a%5Cb", b"/v1/orders/%00",
])
async def test_dot_segments_and_encoded_separators_are_400_before_routing(gateway, target):
    response = await gateway.request("GET", "/placeholder", extensions={"target": target})

    assert response.status_code == 400, (target, response.status_code)
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/bad-path")


# --- caller addresses and limits ---

async def test_forwarded_for_is_ignored_from_an_untrusted_peer(edge_gateway):
    async with _client(edge_gateway.url("gateway")) as direct:
        statuses = [(await direct.get("/.well-known/jwks.json", headers={"X-Forwarded-For": f"203.0.113.{i}"}))
                    .status_code for i in range(1, 5)]

    assert statuses == [200, 200, 200, 429]  # one peer, one key, whatever it claims to forward


async def test_forwarded_for_from_a_trusted_proxy_keys_the_limit_by_the_real_client(edge_gateway):
    async with _client(edge_gateway.url("gateway"), source="127.0.0.2") as proxy:
        async def from_client(forwarded_for: str) -> int:
            response = await proxy.get("/.well-known/jwks.json", headers={"X-Forwarded-For": forwarded_for})
            return response.status_code

        first = [await from_client("198.51.100.1") for _ in range(4)]
        another_client = await from_client("198.51.100.2")
        # The rightmost untrusted hop is the client: an address it prepended itself changes nothing.
        spoofed_prefix = await from_client("10.9.9.9, 198.51.100.1")

    assert first == [200, 200, 200, 429]
    assert another_client == 200
    assert spoofed_prefix == 429


async def test_authenticated_requests_are_limited_per_client_whatever_their_address(edge_gateway, gateway):
    tenant = await new_tenant(gateway, ["orders:read"])
    path = f"/v1/merchants/{tenant['merchant_id']}"
    async with _client(edge_gateway.url("gateway"), source="127.0.0.2") as proxy:
        statuses = [(await proxy.get(path, headers={**bearer(tenant["token"]), "X-Forwarded-For": f"192.0.2.{i}"}))
                    .status_code for i in range(1, 5)]

    assert statuses == [200, 200, 200, 429]


async def test_failed_authentications_are_limited_per_client_id(gateway):
    victim = await new_tenant(gateway, ["orders:read"])
    bystander = await new_tenant(gateway, ["orders:read"])
    form = {"grant_type": "client_credentials"}

    failures = [(await gateway.post("/v1/oauth/token", data=form, auth=(victim["client_id"], f"guess-{i}"))).status_code
                for i in range(10)]
    locked = await gateway.post("/v1/oauth/token", data={**form, "client_id": victim["client_id"],
                                                         "client_secret": victim["client_secret"]})
    other = await gateway.post("/v1/oauth/token", data=form, auth=(bystander["client_id"], bystander["client_secret"]))

    assert failures == [401] * 10
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) >= 1
    assert locked.headers["content-type"] == "application/problem+json"
    assert other.status_code == 200


# --- readiness ---

async def test_a_down_or_hung_service_fails_its_routes_only_and_the_gateway_stays_ready(edge_gateway, gateway):
    tenant = await new_tenant(gateway, ["orders:read"])
    async with _client(edge_gateway.url("gateway")) as edge:
        ready = await edge.get("/readyz")
        down = await edge.get("/v1/orders", headers=bearer(tenant["token"]))
        hung = await edge.get(f"/v1/shipments/{uuid.uuid4()}", headers=bearer(tenant["token"]))
        merchant = await edge.get(f"/v1/merchants/{tenant['merchant_id']}", headers=bearer(tenant["token"]))
        still_ready = await edge.get("/readyz")

    assert ready.status_code == 200 and still_ready.status_code == 200, ready.text
    assert down.status_code == 503 and down.headers["content-type"] == "application/problem+json"
    assert hung.status_code == 504 and hung.headers["content-type"] == "application/problem+json"
    assert merchant.status_code == 200


# --- keys and secrets per process ---

def _environment_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)


def test_only_services_that_open_sealed_secrets_get_the_encryption_keys(stack):
    holders = {name for name in ("auth", "orders", "listings", "fulfilment", "gateway")
               if _environment_of(stack._procs[name].pid).get("CB_ENCRYPTION_KEYS")}
    assert holders == {"auth", "orders"}
