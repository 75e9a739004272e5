"""Fixtures: the Etsy emulator as a real uvicorn server, tokens from its real OAuth flow, and a client
whose every exchange is recorded and checked against Etsy's OpenAPI file.

The server fixture is the sandbox suite's own (`tests.sandbox.conftest.etsy_base_url`), so both suites
start the emulator the same way. Each test gets a reset world; contract violations fail the test at
teardown. Without the spec file the exchanges are still recorded, just not validated.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sandbox.etsy.state import DEFAULT_CLIENT_ID, DEFAULT_SECRET
from shared.marketplaces.etsy import oauth
from shared.marketplaces.etsy.client import EtsyClient, etsy_http
from shared.marketplaces.etsy.oauth import TokenSet
from shared.marketplaces.http import MarketplaceHttp
from shared.settings import Settings
from tests.sandbox.conftest import etsy_base_url as etsy_base_url  # the shared session server
from tests.sandbox.etsy_contract import ContractRecorder, load_spec
from tests.sandbox_control import SandboxControl

REDIRECT_URI = "https://channelbridge.test/v1/connections/oauth/callback"


@dataclass
class Exchanges:
    """Every request our code sent and the response it got, in order; fed to the contract recorder."""

    contract: Callable[[httpx.Response], None] | None  # a marketplace's contract check (response.request is set)
    sent: list[tuple[httpx.Request, httpx.Response]] = field(default_factory=list)

    def paths(self, method: str | None = None) -> list[str]:
        return [req.url.path for req, _ in self.sent if method is None or req.method == method]

    def calls(self, method: str | None = None, suffix: str = "") -> list[httpx.Request]:
        return [r for r, _ in self.sent if (method is None or r.method == method) and r.url.path.endswith(suffix)]


class RecordingTransport(httpx.AsyncBaseTransport):
    """A real HTTP transport that also records (and contract-checks) each exchange."""

    def __init__(self, exchanges: Exchanges) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._exchanges = exchanges

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        await response.aread()
        response.request = request
        self._exchanges.sent.append((request, response))
        if self._exchanges.contract is not None:
            self._exchanges.contract(response)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


class SandboxWorld(SandboxControl):
    """The emulator's control API (`/_sandbox/etsy/...`) over real HTTP."""

    marketplace = "etsy"

    def __init__(self, client: httpx.Client) -> None:
        super().__init__(client)

    def create_receipts(self, shop_id: int, **body: Any) -> list[dict[str, Any]]:
        return self.control("POST", f"/shops/{shop_id}/receipts", json=body)["results"]

    def patch_receipt(self, shop_id: int, receipt_id: int, **body: Any) -> dict[str, Any]:
        return self.control("PATCH", f"/shops/{shop_id}/receipts/{receipt_id}", json=body)

    def shipments(self, shop_id: int, receipt_id: int) -> list[dict[str, Any]]:
        return self.control("GET", f"/shops/{shop_id}/receipts/{receipt_id}/shipments")["results"]

    def fault(self, **body: Any) -> dict[str, Any]:
        return self.control("POST", "/faults", json=body)

    def requests_log(self, path_prefix: str = "/v3/") -> list[dict[str, Any]]:
        return self.control("GET", "/requests", params={"path_prefix": path_prefix})["results"]

    def clear_requests(self) -> None:
        self.control("DELETE", "/requests")


class SandboxTokens:
    """A `TokenProvider` the way auth behaves: hands out the current token, refreshes (with the marketplace's
    `oauth` module) when forced."""

    def __init__(self, flow: ModuleType, settings: Settings, tokens: TokenSet, http: httpx.AsyncClient) -> None:
        self.flow = flow
        self.settings = settings
        self.tokens = tokens
        self.http = http
        self.calls: list[bool] = []

    async def __call__(self, force_refresh: bool) -> str:
        self.calls.append(force_refresh)
        if force_refresh:
            self.tokens = await self.flow.refresh(self.settings, self.tokens.refresh_token, http=self.http)
        return self.tokens.access_token


@pytest.fixture(scope="session")
def etsy_contract_spec() -> tuple[Any, dict[str, Any]]:
    return load_spec()


@pytest.fixture
def exchanges(etsy_contract_spec: tuple[Any, dict[str, Any]]) -> Iterator[Exchanges]:
    contract = ContractRecorder(*etsy_contract_spec)
    recorded = Exchanges(contract)
    yield recorded
    assert not contract.violations, "OpenAPI contract violations:\n" + "\n".join(contract.violations)


@pytest.fixture
def world(etsy_base_url: str) -> Iterator[SandboxWorld]:
    with httpx.Client(base_url=etsy_base_url, timeout=30) as client:
        sandbox = SandboxWorld(client)
        sandbox.control("POST", "/reset")
        sandbox.settings(rate_per_second=1000)  # functional tests never trip Etsy's limiter
        yield sandbox


@pytest.fixture
def etsy_settings(etsy_base_url: str) -> Settings:
    return Settings(
        etsy_api_url=etsy_base_url,
        etsy_authorize_url=f"{etsy_base_url}/oauth/connect",
        etsy_token_url=f"{etsy_base_url}/v3/public/oauth/token",
        etsy_client_id=DEFAULT_CLIENT_ID,
        etsy_client_secret=DEFAULT_SECRET,
        etsy_rate_per_second=200,
        marketplace_rate_storage="memory",  # these tests meet the client, not the shared budget
        marketplace_timeout_s=5,
        marketplace_max_retries=3,
    )


@pytest.fixture
def shop(world: SandboxWorld) -> dict[str, Any]:
    return world.control("POST", "/shops", json={"shop_name": "ZoeCeramics"})


@pytest.fixture
async def oauth_http(exchanges: Exchanges) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5, transport=RecordingTransport(exchanges)) as client:
        yield client


async def connect(flow: ModuleType, settings: Settings, http: httpx.AsyncClient) -> TokenSet:
    """The merchant's connect flow with a marketplace's `oauth` module (Etsy's, Allegro's): authorize (stop at
    the redirect to us), check state, exchange."""
    verifier, challenge = flow.new_pkce_pair()
    state = secrets.token_urlsafe(16)
    url = flow.authorization_url(settings, state=state, code_challenge=challenge, redirect_uri=REDIRECT_URI)
    redirect = await http.get(url, follow_redirects=False)
    assert redirect.status_code == 302, redirect.text
    location = urlsplit(redirect.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    query = parse_qs(location.query)
    assert query["state"] == [state], query
    return await flow.exchange_code(
        settings, code=query["code"][0], code_verifier=verifier, redirect_uri=REDIRECT_URI, http=http
    )


@pytest.fixture
async def tokens(etsy_settings: Settings, shop: dict[str, Any], oauth_http: httpx.AsyncClient) -> SandboxTokens:
    return SandboxTokens(oauth, etsy_settings, await connect(oauth, etsy_settings, oauth_http), oauth_http)


def recording_http(settings: Settings, exchanges: Exchanges) -> MarketplaceHttp:
    """Etsy's HTTP client on a recording transport, with short backoffs so retry tests stay quick."""
    return etsy_http(settings, transport=RecordingTransport(exchanges), backoff_initial_s=0.05, backoff_max_s=0.2)


@pytest.fixture
async def etsy_client(etsy_settings: Settings, tokens: SandboxTokens, exchanges: Exchanges) -> AsyncIterator[EtsyClient]:
    async with recording_http(etsy_settings, exchanges) as http:
        yield EtsyClient(etsy_settings, tokens, http=http)
