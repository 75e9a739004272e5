"""In-memory world of the BigCommerce emulator.

Everything lives in one `BigCommerceState` so a test can reset it in one call and two apps never
share data. Handlers are `async def` and never await while mutating, so one asyncio loop needs no
locks; webhook deliveries run as tasks on that same loop.
"""

from __future__ import annotations

import asyncio
import secrets
import string
import time
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sandbox.bigcommerce.ratelimit import StoreQuota

# docs/integrations/webhooks/https-webhook-overview.mdx: retries after these delays (≈48 h), then deactivation.
DOCUMENTED_RETRY_DELAYS_S = [60.0, 180.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 21600.0, 50400.0, 86400.0]
API_HOST = "https://api.bigcommerce.com"


@dataclass
class Settings:
    """Knobs the control API can turn; defaults mirror a production Standard-plan store."""

    rate_limit_quota: int = 150
    rate_limit_window_ms: int = 30_000
    webhook_retry_delays_s: list[float] = field(default_factory=lambda: list(DOCUMENTED_RETRY_DELAYS_S))
    webhook_timeout_s: float = 10.0
    # Production only accepts https destinations on port 443; off by default so tests can use 127.0.0.1.
    webhook_require_https: bool = False
    orders_max_limit: int = 250
    # Merchant renames of statuses (ids stay fixed); keys are status ids.
    status_custom_labels: dict[int, str] = field(default_factory=dict)
    # Origin written into `url` links and api_path; None = the origin the request came in on.
    public_origin: str | None = None


@dataclass
class Store:
    store_hash: str
    store_id: int
    name: str
    domain: str
    first_name: str
    last_name: str
    admin_email: str
    order_email: str
    country: str
    country_code: str
    currency: str
    currency_symbol: str
    timezone_name: str
    raw_offset: int
    weight_units: str
    dimension_units: str
    plan_name: str
    plan_level: str
    account_uuid: str
    status: str = "live"


@dataclass
class ApiAccount:
    """A store-level API account: what the merchant copies into ChannelBridge."""

    name: str
    store_hash: str
    client_id: str
    client_secret: str
    access_token: str
    scopes: frozenset[str]
    created_at: int


@dataclass
class Address:
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    street_1: str = ""
    street_2: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""
    country_iso2: str = ""
    phone: str = ""
    email: str = ""


@dataclass
class ShippingAddress:
    id: int
    order_id: int
    address: Address
    shipping_method: str
    cost_ex_tax: Decimal
    cost_inc_tax: Decimal


@dataclass
class ProductOption:
    id: int
    option_id: int
    product_option_id: int
    display_name: str
    display_value: str
    value: str
    type: str
    name: str


@dataclass
class OrderProduct:
    id: int
    order_id: int
    product_id: int
    variant_id: int | None
    order_address_id: int
    name: str
    sku: str
    upc: str
    type: str
    quantity: int
    price_ex_tax: Decimal
    price_inc_tax: Decimal
    weight: Decimal
    options: list[ProductOption]
    quantity_shipped: int = 0


@dataclass
class Order:
    id: int
    store_hash: str
    customer_id: int
    status_id: int
    date_created: int
    date_modified: int
    billing_address: Address
    shipping_addresses: list[ShippingAddress]
    products: list[OrderProduct]
    currency_code: str
    payment_method: str
    payment_status: str
    shipping_cost_ex_tax: Decimal
    shipping_cost_inc_tax: Decimal
    discount_amount: Decimal
    customer_message: str
    staff_notes: str
    channel_id: int
    order_source: str
    external_source: str | None
    external_order_id: str
    cart_id: str
    date_shipped: int | None = None
    is_deleted: bool = False

    @property
    def items_total(self) -> int:
        return sum(p.quantity for p in self.products)

    @property
    def items_shipped(self) -> int:
        return sum(p.quantity_shipped for p in self.products)

    def product(self, order_product_id: int) -> OrderProduct | None:
        return next((p for p in self.products if p.id == order_product_id), None)

    def shipping_address(self, address_id: int) -> ShippingAddress | None:
        return next((a for a in self.shipping_addresses if a.id == address_id), None)


@dataclass
class ShipmentItem:
    order_product_id: int
    product_id: int
    quantity: int


@dataclass
class Shipment:
    id: int
    store_hash: str
    order_id: int
    customer_id: int
    order_address_id: int
    date_created: int
    tracking_number: str
    merchant_shipping_cost: Decimal
    shipping_method: str
    shipping_provider: str
    tracking_carrier: str
    tracking_link: str
    comments: str
    items: list[ShipmentItem]
    billing_address: Address
    shipping_address: Address
    created_by_client_id: str


@dataclass
class Hook:
    id: int
    store_hash: str
    client_id: str
    scope: str
    destination: str
    is_active: bool
    headers: dict[str, str] | None
    created_at: int
    updated_at: int


@dataclass
class WebhookEvent:
    """One thing that happened; every delivery (retry or replay) of it sends the same body."""

    event_id: str  # Standard Webhooks `webhook-id`
    store_hash: str
    scope: str
    hash: str
    created_at: int
    body: bytes


@dataclass
class Delivery:
    delivery_id: int
    hook_id: int
    event_id: str
    destination: str
    replay_of: int | None = None
    status: str = "pending"  # pending | delivered | failed | cancelled
    attempts: list[dict[str, Any]] = field(default_factory=list)
    next_attempt_at: float | None = None


@dataclass
class Fault:
    """One queued misbehaviour; consumed by API requests whose path starts with `path_prefix`."""

    fault_id: int
    kind: str  # rate_limit | server_error | slow
    remaining: int
    path_prefix: str
    status: int = 500
    reset_ms: int = 1000
    with_quota_headers: bool = False
    delay_s: float = 0.0


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


LOWER_ALNUM = string.ascii_lowercase + string.digits


class BigCommerceState:
    """The emulator's whole world plus id counters that make ids look like BigCommerce's."""

    def __init__(self) -> None:
        self.delivery_tasks: set[asyncio.Task[None]] = set()
        self.reset()

    def reset(self) -> None:
        for task in list(getattr(self, "delivery_tasks", ())):
            task.cancel()
        self.delivery_tasks = set()
        self.settings = Settings()
        self.clock_offset_s = 0.0
        self.stores: dict[str, Store] = {}
        self.accounts: dict[str, ApiAccount] = {}  # by access_token
        self.orders: dict[int, Order] = {}
        self.products: dict[int, Any] = {}  # catalog.Product by id (catalog.py holds the model)
        self.shipments: list[Shipment] = []
        self.hooks: dict[int, Hook] = {}
        self.events: dict[str, WebhookEvent] = {}
        self.deliveries: dict[int, Delivery] = {}
        self.faults: list[Fault] = []
        self.quota = StoreQuota()
        self.request_log: deque[dict[str, Any]] = deque(maxlen=10_000)
        self._ids = {
            "store": 1_001_000_000,
            "order": 100,
            "order_product": 0,
            "catalog_product": 76,
            "variant": 120,
            "option": 17,
            "option_value": 60,
            "sku": 300,
            "image": 400,
            "custom_field": 10,
            "order_address": 0,
            "product_option": 0,
            "shipment": 0,
            "hook": 22_561_000,
            "delivery": 0,
            "fault": 0,
        }

    # -- time and ids -------------------------------------------------------------------------
    def now(self) -> float:
        """Wall clock shifted by the control API's clock offset (order dates, webhook timestamps)."""
        return time.time() + self.clock_offset_s

    def now_s(self) -> int:
        return int(self.now())

    def next_id(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def bump(self, order: Order) -> None:
        """Record a change; strictly increasing so `min_date_modified` watermarks see it."""
        order.date_modified = max(self.now_s(), order.date_modified + 1)

    # -- stores and accounts ------------------------------------------------------------------
    def new_store_hash(self) -> str:
        while True:
            candidate = _random(LOWER_ALNUM, 10)
            if candidate not in self.stores and not candidate.isdigit():
                return candidate

    def issue_account(self, store: Store, name: str, scopes: frozenset[str]) -> ApiAccount:
        account = ApiAccount(
            name=name,
            store_hash=store.store_hash,
            client_id=_random(LOWER_ALNUM, 31),
            client_secret=_random(LOWER_ALNUM, 64),
            access_token=_random(LOWER_ALNUM, 31),
            scopes=scopes,
            created_at=self.now_s(),
        )
        self.accounts[account.access_token] = account
        return account

    def delete_account(self, account: ApiAccount) -> int:
        """What deleting an API account does: the token dies and hooks it created disappear."""
        self.accounts.pop(account.access_token, None)
        doomed = [h.id for h in self.hooks.values() if h.client_id == account.client_id and h.store_hash == account.store_hash]
        for hook_id in doomed:
            del self.hooks[hook_id]
        return len(doomed)

    def account_by_client_id(self, store_hash: str, client_id: str) -> ApiAccount | None:
        return next((a for a in self.accounts.values() if a.client_id == client_id and a.store_hash == store_hash), None)
