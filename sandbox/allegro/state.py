"""In-memory world of the Allegro emulator.

Everything lives in one `AllegroState` so a test resets it in one call and two apps never share
data. Handlers are `async def` and never await while mutating, so one asyncio loop needs no
locks. Time comes from `now()` (wall clock + control offset) so token lifetimes, the refresh
grace window, journal retention and the rate-limit window can all be advanced by tests.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox.allegro.offers import OffersWorld

DEFAULT_CLIENT_ID = "sandbox-allegro-client-id"
DEFAULT_CLIENT_SECRET = "sandbox-allegro-client-secret"
ACCESS_TOKEN_TTL_S = 12 * 3600
REFRESH_TOKEN_TTL_S = 90 * 86400  # "3 months" [issues #1174]
JOURNAL_RETENTION_S = 60 * 86400  # "about 60 days" [issues #5576, #11307, #8496]

# Scopes named in the operations' `security` blocks of allegro-openapi.yaml.
KNOWN_SCOPES = (
    "allegro:api:orders:read",
    "allegro:api:orders:write",
    "allegro:api:profile:read",
    "allegro:api:profile:write",
    "allegro:api:sale:offers:read",
    "allegro:api:sale:offers:write",
    "allegro:api:sale:settings:read",
    "allegro:api:sale:settings:write",
    "allegro:api:payments:read",
    "allegro:api:payments:write",
    "allegro:api:shipments:read",
    "allegro:api:shipments:write",
)
CHECKOUT_FORM_STATUSES = ("BOUGHT", "FILLED_IN", "READY_FOR_PROCESSING", "CANCELLED")
FULFILLMENT_STATUSES = (
    "NEW",
    "PROCESSING",
    "READY_FOR_SHIPMENT",
    "READY_FOR_PICKUP",
    "SENT",
    "PICKED_UP",
    "CANCELLED",
    "SUSPENDED",
    "RETURNED",
)
EVENT_TYPES = (
    "BOUGHT",
    "FILLED_IN",
    "READY_FOR_PROCESSING",
    "BUYER_CANCELLED",
    "FULFILLMENT_STATUS_CHANGED",
    "BUYER_MODIFIED",
    "AUTO_CANCELLED",
)
PAYMENT_TYPES = ("CASH_ON_DELIVERY", "WIRE_TRANSFER", "ONLINE", "SPLIT_PAYMENT", "EXTENDED_TERM")
PAYMENT_PROVIDERS = ("PAYU", "P24", "AF", "OFFLINE", "EPT")
# `GET /order/carriers`; `OTHER` has no name, as in the spec's example.
DEFAULT_CARRIERS: tuple[tuple[str, str | None], ...] = (
    ("ALLEGRO", "Allegro"),
    ("POCZTA_POLSKA", "Poczta Polska"),
    ("INPOST", "InPost"),
    ("DHL", "DHL"),
    ("DPD", "DPD"),
    ("GLS", "GLS"),
    ("UPS", "UPS"),
    ("FEDEX", "FedEx"),
    ("ORLEN", "ORLEN Paczka"),
    ("POCZTEX", "Pocztex"),
    ("YUN_EXPRESS", "Yun Express"),
    ("OTHER", None),
)


def iso(ts: float) -> str:
    """Allegro's timestamp shape: UTC, milliseconds, `Z` (`2018-10-12T10:12:32.321Z`)."""
    ms = round(ts * 1000)
    moment = datetime.fromtimestamp(ms // 1000, UTC) + timedelta(milliseconds=ms % 1000)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def money(amount: Decimal, currency: str) -> dict[str, str]:
    """`Price`: the amount is a decimal string with two places, never a number."""
    return {"amount": f"{amount:.2f}", "currency": currency}


@dataclass
class Settings:
    """Knobs the control API can turn; defaults mirror production Allegro as the fact sheet has it."""

    access_token_ttl_s: int = ACCESS_TOKEN_TTL_S
    refresh_token_ttl_s: int = REFRESH_TOKEN_TTL_S
    refresh_grace_s: int = 60
    auth_code_ttl_s: int = 600
    rate_per_minute: int = 9000
    # Allegro documents no Retry-After on 429; on by default so clients' back-off hints are testable.
    retry_after_header: bool = True
    event_retention_s: int = JOURNAL_RETENTION_S
    approving_user_id: str | None = None
    deny_consent: bool = False
    require_vendor_accept: bool = True
    auto_sent_on_tracking: bool = False
    duplicate_ready_for_processing: bool = False
    waybill_max_orders: int = 5
    carriers: list[dict[str, Any]] = field(
        default_factory=lambda: [{"id": i, "name": n} if n else {"id": i} for i, n in DEFAULT_CARRIERS]
    )


@dataclass
class App:
    client_id: str
    client_secret: str
    redirect_uris: list[str] = field(default_factory=list)  # empty = any redirect_uri accepted
    scopes: list[str] = field(default_factory=lambda: list(KNOWN_SCOPES))


@dataclass
class User:
    id: str
    login: str
    email: str
    first_name: str | None
    last_name: str | None
    company_name: str | None
    tax_id: str | None
    base_marketplace: str = "allegro-pl"
    features: list[str] = field(default_factory=list)


@dataclass
class LineItem:
    id: str
    offer_id: str
    offer_name: str
    external_id: str | None
    quantity: int
    price: Decimal
    original_price: Decimal
    bought_at: float


@dataclass
class Payment:
    id: str
    type: str
    provider: str | None
    finished_at: float | None
    paid_amount: Decimal | None


@dataclass
class Shipment:
    id: str
    checkout_form_id: str
    seller_id: str
    waybill: str
    carrier_id: str
    carrier_name: str | None
    line_item_ids: list[str]
    created_at: float
    source: str  # api | control (added in Moje Allegro or by the carrier)


@dataclass
class FulfillmentChange:
    checkout_form_id: str
    previous: str
    status: str
    revision: str
    at: float
    source: str  # api | control


@dataclass
class CheckoutForm:
    id: str
    seller_id: str
    buyer: dict[str, Any]  # CheckoutFormBuyerReference as Allegro renders it
    status: str
    fulfillment_status: str
    currency: str
    line_items: list[LineItem]
    revision: str
    updated_at: float
    marketplace_id: str = "allegro-pl"
    provider_id: str = "SELLER"
    delivery: dict[str, Any] | None = None  # CheckoutFormDeliveryReference as rendered
    invoice: dict[str, Any] | None = None  # CheckoutFormInvoiceInfo as rendered
    payment: Payment | None = None
    payment_type: str = "ONLINE"
    payment_provider: str | None = "P24"
    surcharges: list[Payment] = field(default_factory=list)
    message_to_seller: str | None = None
    note: str | None = None
    shipments: list[Shipment] = field(default_factory=list)

    @property
    def bought_at(self) -> float:
        """`lineItems.boughtAt` filters and sorts use the latest line item purchase."""
        return max(item.bought_at for item in self.line_items)

    @property
    def delivery_cost(self) -> Decimal:
        cost = (self.delivery or {}).get("cost")
        return Decimal(cost["amount"]) if cost else Decimal(0)

    @property
    def total_to_pay(self) -> Decimal:
        return sum((i.price * i.quantity for i in self.line_items), Decimal(0)) + self.delivery_cost

    def line_items_sent(self) -> str:
        sent = {item_id for s in self.shipments for item_id in s.line_item_ids}
        if not sent:
            return "NONE"
        return "ALL" if all(i.id in sent for i in self.line_items) else "SOME"


@dataclass
class OrderEvent:
    id: int
    type: str
    occurred_at: float
    seller_id: str
    checkout_form_id: str
    order: dict[str, Any]  # OrderEventData snapshot taken when the event happened


@dataclass
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    code_challenge: str | None
    code_challenge_method: str
    user_id: str
    scopes: list[str]
    expires_at: float
    used: bool = False


@dataclass
class AccessToken:
    token: str
    jti: str
    user_id: str | None  # None = client_credentials (application token)
    client_id: str
    scopes: list[str]
    expires_at: float
    revoked: bool = False


@dataclass
class RefreshToken:
    token: str
    user_id: str
    client_id: str
    scopes: list[str]
    expires_at: float
    access_token: str  # issued together; dies when this refresh token is first used
    first_used_at: float | None = None
    revoked: bool = False


@dataclass
class Fault:
    """One queued misbehaviour; consumed by requests whose path starts with `path_prefix`."""

    fault_id: int
    kind: str  # rate_limit | server_error | slow | token_server_error | stale_revision | offer_conflict
    remaining: int
    path_prefix: str
    status: int = 500
    retry_after: int = 1
    delay_s: float = 0.0
    checkout_form_id: str | None = None


class AllegroState:
    """The emulator's whole world plus the counters that make ids look like Allegro's."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.settings = Settings()
        self.clock_offset_s = 0.0
        self.signing_key = secrets.token_bytes(32)
        self.apps: dict[str, App] = {DEFAULT_CLIENT_ID: App(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)}
        self.users: dict[str, User] = {}
        self.checkout_forms: dict[str, CheckoutForm] = {}
        self.events: list[OrderEvent] = []
        self.shipments: list[Shipment] = []
        self.fulfillment_changes: list[FulfillmentChange] = []
        self.auth_codes: dict[str, AuthCode] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.faults: list[Fault] = []
        self.rate_windows: dict[str, deque[float]] = {}
        self.request_log: deque[dict[str, Any]] = deque(maxlen=10_000)
        self._ids = {"user": 46_968_690, "fault": 0, "shipment": 0}
        self._last_event_id = 0
        self.offers = OffersWorld()

    # -- time and ids -------------------------------------------------------------------------
    def now(self) -> float:
        """Millisecond precision, like Allegro's timestamps, so a rendered time compares equal to itself."""
        return round(time.time() + self.clock_offset_s, 3)

    def next_id(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def next_event_id(self) -> int:
        """Microsecond-timestamp-looking ids (observed on Allegro), strictly increasing."""
        self._last_event_id = max(self._last_event_id + 1, int(self.now() * 1_000_000))
        return self._last_event_id

    def bump(self, form: CheckoutForm) -> None:
        """Record a change: a new revision and a strictly later `updatedAt`."""
        revision = form.revision
        while revision == form.revision:
            revision = secrets.token_hex(4)
        form.revision = revision
        form.updated_at = max(self.now(), round(form.updated_at + 0.001, 3))

    # -- lookups ------------------------------------------------------------------------------
    def approving_user_id(self) -> str | None:
        if self.settings.approving_user_id is not None:
            return self.settings.approving_user_id
        return next(iter(self.users), None)

    def retained_events(self, seller_id: str) -> list[OrderEvent]:
        """The seller's journal, oldest first, without events past the retention window."""
        horizon = self.now() - self.settings.event_retention_s
        return [e for e in self.events if e.seller_id == seller_id and e.occurred_at >= horizon]

    # -- tokens -------------------------------------------------------------------------------
    def expire_access_tokens(self) -> int:
        now = self.now()
        live = [t for t in self.access_tokens.values() if t.expires_at > now]
        for token in live:
            token.expires_at = now - 1
        return len(live)

    def revoke_grant(self, user_id: str) -> int:
        """What a seller unlinking the app ("Powiązane aplikacje") does: every token dies."""
        count = 0
        for access in self.access_tokens.values():
            if access.user_id == user_id and not access.revoked:
                access.revoked = True
                count += 1
        for refresh in self.refresh_tokens.values():
            if refresh.user_id == user_id and not refresh.revoked:
                refresh.revoked = True
                count += 1
        return count
