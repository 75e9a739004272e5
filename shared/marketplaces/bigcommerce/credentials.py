"""Connecting a store-level API account: read the store hash from the API path, check the token live,
and find out which of the scopes we need it was given.

BigCommerce has no endpoint that lists a token's scopes, so each scope is probed: a cheap read of an
endpoint that scope guards (403 = not granted). A read cannot tell "modify" from "read-only", so each
scope we write with is probed once more with a write that cannot change anything: an update of id 0,
which never exists (`PUT /v2/orders/0`, `PUT /v3/catalog/products/0`,
`PUT /v3/inventory/locations/0/items`). BigCommerce checks scopes before it looks the resource up, so
403 means read-only and 404 (or a 400/422 about the body) means the token may modify. Any other answer
is reported as not granted, the cautious reading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from shared.marketplaces.base import AuthorizationLost, RejectedByMarketplace
from shared.marketplaces.bigcommerce.quota import bigcommerce_http
from shared.marketplaces.http import MarketplaceHttp, error_reason
from shared.settings import Settings

ORDERS = "store_v2_orders"
PRODUCTS = "store_v2_products"
INVENTORY = "store_inventory"
INFORMATION_READ = "store_v2_information_read_only"
REQUIRED_SCOPES = (ORDERS, PRODUCTS, INVENTORY, INFORMATION_READ)


@dataclass(frozen=True)
class _Probe:
    scope: str
    read_path: str  # GET with `limit=1`
    write_path: str | None = None  # PUT of a resource that cannot exist, when the scope must allow writes
    write_body: dict | None = None


_PROBES = (
    _Probe(ORDERS, "/v2/orders", "/v2/orders/0", {"status_id": 11}),
    _Probe(PRODUCTS, "/v3/catalog/products", "/v3/catalog/products/0", {"name": "ChannelBridge scope check"}),
    _Probe(INVENTORY, "/v3/inventory/items", "/v3/inventory/locations/0/items", {"settings": []}),
)
_STORE_HASH = re.compile(r"/stores/([A-Za-z0-9]{1,64})(?:/v[23])?/?")


@dataclass(frozen=True)
class CredentialCheck:
    """What a live check of an API account found: the store, and required scopes granted or missing.

    `granted_scopes` names read-only variants too (e.g. `store_v2_orders_read_only`) when only those
    were found, so the merchant sees what to change.
    """

    store_hash: str
    store_name: str | None
    granted_scopes: tuple[str, ...]
    missing_scopes: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.missing_scopes


def parse_store_hash(api_path: str) -> str:
    """The store hash from an API path such as `https://api.bigcommerce.com/stores/{store_hash}/v3/`.

    Any http(s) origin is accepted (in dev the path points at the sandbox); requests always go to the
    origin in our settings, never to the pasted one. ValueError names `credentials.api_path`.
    """
    if not isinstance(api_path, str):
        raise ValueError("credentials.api_path must be a string")
    parts = urlsplit(api_path.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("credentials.api_path must be an http(s) URL like https://api.bigcommerce.com/stores/{store_hash}/v3/")
    match = _STORE_HASH.fullmatch(parts.path)
    if match is None or parts.query or parts.fragment:
        raise ValueError("credentials.api_path must look like https://api.bigcommerce.com/stores/{store_hash}/v3/")
    return match.group(1)


async def check_credentials(
    settings: Settings,
    api_path: str,
    client_id: str,
    access_token: str,
    *,
    http: MarketplaceHttp | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> CredentialCheck:
    """Check the token live (GET /v2/store) and probe each required scope; see the module docstring.

    Raises ValueError for malformed input (naming the `credentials.*` field), AuthorizationLost for
    a token BigCommerce does not know (401), TransientMarketplaceError when it cannot be reached.
    """
    store_hash = parse_store_hash(api_path)
    if not client_id or not client_id.strip():
        raise ValueError("credentials.client_id must not be empty")
    if not access_token or not access_token.strip():
        raise ValueError("credentials.access_token must not be empty")
    headers = {"X-Auth-Token": access_token.strip(), "Accept": "application/json"}
    owned = http is None
    client = http or bigcommerce_http(settings, store_hash, transport=transport)
    try:
        granted: list[str] = []
        missing: list[str] = []
        store = await _get(client, "/v2/store", headers)
        store_name = None
        if store is None:
            missing.append(INFORMATION_READ)
        else:
            granted.append(INFORMATION_READ)
            try:
                name = store.json().get("name")
            except (ValueError, AttributeError):
                name = None
            store_name = name if isinstance(name, str) and name else None
        for probe in _PROBES:
            if await _get(client, probe.read_path, headers, params={"limit": 1}) is None:
                missing.append(probe.scope)
            elif probe.write_path is None or await _may_write(client, probe, headers):
                granted.append(probe.scope)
            else:
                granted.append(f"{probe.scope}_read_only")
                missing.append(probe.scope)
    finally:
        if owned:
            await client.aclose()
    order = {scope: i for i, scope in enumerate(REQUIRED_SCOPES)}
    return CredentialCheck(
        store_hash=store_hash,
        store_name=store_name,
        granted_scopes=tuple(granted),
        missing_scopes=tuple(sorted(missing, key=lambda s: order.get(s, len(order)))),
    )


async def _get(client: MarketplaceHttp, path: str, headers: dict[str, str],
               params: dict[str, int] | None = None) -> httpx.Response | None:
    """The response, or None when the token lacks the scope (403)."""
    try:
        response = await client.request("GET", path, headers=headers, params=params)
    except RejectedByMarketplace as exc:
        if exc.status == 403:
            return None
        raise
    if response.status_code == 401:
        raise AuthorizationLost(f"BigCommerce does not accept this access token: {error_reason(response)}")
    return response


async def _may_write(client: MarketplaceHttp, probe: _Probe, headers: dict[str, str]) -> bool:
    """Update a resource that cannot exist: 403 = read-only; 404 (or 400/422) = the token may write."""
    assert probe.write_path is not None
    try:
        response = await client.request("PUT", probe.write_path, headers={**headers, "Content-Type": "application/json"},
                                        json_body=probe.write_body)
    except RejectedByMarketplace as exc:
        return exc.status in (400, 404, 422)
    if response.status_code == 401:
        raise AuthorizationLost(f"BigCommerce does not accept this access token: {error_reason(response)}")
    return response.is_success  # not expected for id 0; if it ever happens the write was allowed
