"""The BigCommerce emulator as a real uvicorn server, its control API, and a recorder that checks every
exchange of our client against BigCommerce's own OpenAPI files.

Fixtures are imported by the `test_bigcommerce_*` modules (the shared conftest belongs to Etsy). The
server runs for the session on a free port; each test gets a reset world. The specs are vendored in
`specs/marketplaces/bigcommerce-*.yml`.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import yaml
from openapi_core import Config, OpenAPI

from sandbox.bigcommerce.app import create_app
from shared.marketplaces.bigcommerce.client import BigCommerceClient
from shared.marketplaces.bigcommerce.quota import bigcommerce_http
from shared.marketplaces.http import MarketplaceHttp
from shared.settings import Settings
from tests.inprocess import serve
from tests.marketplaces.bigcommerce_orders import SPEC_DIR
from tests.marketplaces.conftest import Exchanges, RecordingTransport
from tests.openapi_exchange import OpenAPIRequest, OpenAPIResponse, path_matches
from tests.sandbox_control import SandboxControl

BIGCOMMERCE_HOST = "https://api.bigcommerce.com"
# Which vendored spec describes a path (after /stores/{hash}); first match wins.
SPEC_FILES = (
    ("/v2/orders", "bigcommerce-orders.v2.oas2.yml"),
    ("/v2/order_statuses", "bigcommerce-orders.v2.oas2.yml"),
    ("/v2/store", "bigcommerce-store_information.v2.yml"),
    ("/v3/hooks", "bigcommerce-webhooks.v3.yml"),
    ("/v3/catalog/products", "bigcommerce-products_catalog.v3.yml"),
    ("/v3/inventory", "bigcommerce-inventory.v3.yml"),
)



# --- the contract --------------------------------------------------------------------------------------


@dataclass
class Contract:
    """Validates requests of 2xx exchanges and responses of declared statuses; keeps violations."""

    specs: dict[str, tuple[OpenAPI, dict[str, Any]]]
    validated: int = 0
    violations: list[str] = field(default_factory=list)
    undeclared: list[str] = field(default_factory=list)
    operations: set[str] = field(default_factory=set)

    @classmethod
    def load(cls) -> Contract:
        specs = {}
        for _, name in SPEC_FILES:
            if name not in specs:
                raw = yaml.safe_load((SPEC_DIR / name).read_text())
                _repair(raw)
                specs[name] = (OpenAPI.from_dict(raw, config=Config(spec_validator_cls=None)), raw)
        return cls(specs)

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        """(spec file, operation) of a request path under /stores/{hash}, or None if no spec has it."""
        parts = path.split("/")
        if len(parts) < 4 or parts[1] != "stores":
            return None
        version, rest = parts[3], "/" + "/".join(parts[4:])
        local = f"/{version}{rest}"
        name = next((n for prefix, n in SPEC_FILES if local.startswith(prefix)), None)
        if name is None:
            return None
        raw = self.specs[name][1]
        templates = [t for t in raw["paths"] if path_matches(t, rest)]
        if not templates:
            return None
        template = max(templates, key=lambda t: sum(not s.startswith("{") for s in t.split("/")))
        operation = raw["paths"][template].get(method.lower())
        return (name, operation) if operation else None

    def __call__(self, response: httpx.Response) -> None:
        request = response.request
        label = f"{request.method} {request.url.path}?{request.url.query.decode()} -> {response.status_code}"
        found = self.operation(request.method, request.url.path)
        if found is None:
            self.violations.append(f"{label}: operation not in the specs")
            return
        name, operation = found
        self.operations.add(operation.get("operationId", label))
        openapi = self.specs[name][0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if response.is_success:
                try:
                    openapi.validate_request(OpenAPIRequest(request, BIGCOMMERCE_HOST))
                except Exception as exc:
                    self.violations.append(f"{label}: request invalid: {exc!r} {exc.__cause__!r}")
            if str(response.status_code) not in operation["responses"]:
                self.undeclared.append(label)
                return
            if response.status_code == 204 and not response.content:
                self.validated += 1  # declared "No Content" (`content: {}`), and none came
                return
            try:
                openapi.validate_response(OpenAPIRequest(request, BIGCOMMERCE_HOST), OpenAPIResponse.from_httpx(response))
                self.validated += 1
            except Exception as exc:
                self.violations.append(f"{label}: response invalid: {exc!r} {exc.__cause__!r}")


def _repair(raw: dict[str, Any]) -> None:
    """Three quirks of the vendored files, repaired before loading; everything else is validated as published.

    - `sort` lists bare field names in its enum while its description (and the API) take `field:asc` /
      `field:desc`; the suffixed forms are added to the enum.
    - `order_RespOnly.consignments` is `oneOf` two schemas that a `{url, resource}` link satisfies
      both (neither forbids extra properties), so every real order fails `oneOf`; it becomes `anyOf`.
    - Webhooks' `webhooks_Resp.data` says `minItems: 1`, yet a store without hooks answers `data: []`.
    """
    components = raw.get("components", {})
    hooks = components.get("responses", {}).get("webhooks_Resp")
    if hooks is not None:
        hooks["content"]["application/json"]["schema"]["properties"]["data"].pop("minItems", None)
    sort = components.get("parameters", {}).get("sort")
    if sort is not None:
        fields = sort["schema"]["enum"]
        sort["schema"]["enum"] = [*fields, *(f"{f}:{d}" for f in fields for d in ("asc", "desc"))]
    resp_only = components.get("schemas", {}).get("order_RespOnly")
    if resp_only is not None and "oneOf" in resp_only["properties"].get("consignments", {}):
        resp_only["properties"]["consignments"]["anyOf"] = resp_only["properties"]["consignments"].pop("oneOf")


# --- the emulator --------------------------------------------------------------------------------------


class World(SandboxControl):
    """The emulator's control API (`/_sandbox/bigcommerce/...`) over real HTTP."""

    marketplace = "bigcommerce"

    def __init__(self, client: httpx.Client, base_url: str) -> None:
        super().__init__(client)
        self.base_url = base_url

    def store(self, **body: Any) -> dict[str, Any]:
        return self.control("POST", "/stores", json=body)

    def account(self, store_hash: str, **body: Any) -> dict[str, Any]:
        return self.control("POST", f"/stores/{store_hash}/api_accounts", json=body)

    def orders(self, store_hash: str, **body: Any) -> list[int]:
        return self.control("POST", f"/stores/{store_hash}/orders", json={"emit_webhooks": False, **body})["order_ids"]

    def order(self, store_hash: str, order_id: int) -> dict[str, Any]:
        return self.control("GET", f"/stores/{store_hash}/orders/{order_id}")

    def set_status(self, store_hash: str, order_id: int, status_id: int) -> dict[str, Any]:
        return self.control("PUT", f"/stores/{store_hash}/orders/{order_id}/status", json={"status_id": status_id})

    def fault(self, **body: Any) -> dict[str, Any]:
        return self.control("POST", "/faults", json=body)

    def requests_log(self) -> list[dict[str, Any]]:
        return self.control("GET", "/requests")["results"]

    def hooks(self, store_hash: str) -> list[dict[str, Any]]:
        return self.control("GET", f"/stores/{store_hash}/hooks")["results"]


@dataclass
class Connection:
    """A store with a store-level API account, as the merchant pastes it into ChannelBridge."""

    store_hash: str
    api_path: str
    client_id: str
    client_secret: str
    access_token: str


class StaticTokens:
    """A `TokenProvider` the way auth hands out a BigCommerce token: the stored one, refresh or not."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[bool] = []

    async def __call__(self, force_refresh: bool) -> str:
        self.calls.append(force_refresh)
        return self.token


@pytest.fixture(scope="session")
def bigcommerce_base_url() -> Iterator[str]:
    yield from serve(create_app(), "BigCommerce sandbox")


@pytest.fixture(scope="session")
def bigcommerce_contract_loaded() -> Contract:
    return Contract.load()


@pytest.fixture
def exchanges(bigcommerce_contract_loaded: Contract) -> Iterator[Exchanges]:
    contract = Contract(bigcommerce_contract_loaded.specs)
    recorded = Exchanges(contract)
    yield recorded
    assert not contract.violations, "OpenAPI contract violations:\n" + "\n".join(contract.violations)


@pytest.fixture
def world(bigcommerce_base_url: str) -> Iterator[World]:
    with httpx.Client(base_url=bigcommerce_base_url, timeout=30) as client:
        sandbox = World(client, bigcommerce_base_url)
        sandbox.control("POST", "/reset")
        yield sandbox


@pytest.fixture
def bc_settings(bigcommerce_base_url: str) -> Settings:
    return Settings(bigcommerce_api_url=bigcommerce_base_url, marketplace_timeout_s=5, marketplace_max_retries=3,
                    marketplace_rate_storage="memory")  # these tests meet the client, not the shared budget


@pytest.fixture
def connection(world: World) -> Connection:
    store = world.store(name="Zoë's Ceramics")
    account = world.account(store["store_hash"])
    return Connection(store["store_hash"], account["api_path"], account["client_id"], account["client_secret"],
                      account["access_token"])


def recording_http(settings: Settings, store_hash: str, exchanges: Exchanges) -> MarketplaceHttp:
    """The store's HTTP client on a recording transport, fast enough for tests, short backoffs."""
    return bigcommerce_http(settings, store_hash, transport=RecordingTransport(exchanges), rate_per_second=500,
                            backoff_initial_s=0.05, backoff_max_s=0.2)


@pytest.fixture
async def tokens(connection: Connection) -> StaticTokens:
    return StaticTokens(connection.access_token)


@pytest.fixture
async def client(bc_settings: Settings, connection: Connection, tokens: StaticTokens,
                 exchanges: Exchanges) -> AsyncIterator[BigCommerceClient]:
    async with recording_http(bc_settings, connection.store_hash, exchanges) as http:
        yield BigCommerceClient(bc_settings, tokens, shop_id=connection.store_hash, http=http)
