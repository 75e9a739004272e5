"""In-memory world of the Etsy emulator.

Everything the emulator knows lives in one `EtsyState` so a test can reset it in one call and
two apps (two `create_app()` calls) never share data. Handlers are `async def` and never await
while mutating, so one asyncio loop needs no locks.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sandbox.etsy.ratelimit import RateLimiter

DEFAULT_CLIENT_ID = "sandbox-etsy-keystring"
DEFAULT_SECRET = "sandbox-etsy-secret"

RECEIPT_STATUSES = (
    "paid",
    "completed",
    "open",
    "payment processing",
    "canceled",
    "fully refunded",
    "partially refunded",
)
# Scope names from the spec's `components.securitySchemes.oauth2` flow.
KNOWN_SCOPES = frozenset(
    {
        "address_r",
        "address_w",
        "billing_r",
        "cart_r",
        "cart_w",
        "email_r",
        "favorites_r",
        "favorites_w",
        "feedback_r",
        "listings_d",
        "listings_r",
        "listings_w",
        "profile_r",
        "profile_w",
        "recommend_r",
        "recommend_w",
        "shops_r",
        "shops_w",
        "transactions_r",
        "transactions_w",
    }
)
# Carrier names accepted by createReceiptShipment (compared lower-cased, spaces/underscores as '-').
DEFAULT_CARRIERS = (
    "other",
    "usps",
    "ups",
    "fedex",
    "dhl",
    "dhl-express",
    "dhl-ecommerce",
    "royal-mail",
    "parcelforce",
    "canada-post",
    "australia-post",
    "deutsche-post",
    "dpd",
    "gls",
    "hermes",
    "evri",
    "la-poste",
    "colissimo",
    "chronopost",
    "poste-italiane",
    "correos",
    "postnl",
    "bpost",
    "an-post",
    "swiss-post",
    "posti",
    "postnord",
    "japan-post",
    "india-post",
    "china-post",
    "new-zealand-post",
    "inpost",
    "poczta-polska",
    "tnt",
    "aramex",
)
REFRESH_TOKEN_TTL_S = 90 * 24 * 3600


@dataclass
class Settings:
    """Knobs the control API can turn; defaults mirror production Etsy."""

    access_token_ttl_s: int = 3600
    refresh_token_ttl_s: int = REFRESH_TOKEN_TTL_S
    auth_code_ttl_s: int = 600
    rate_per_second: float = 10.0
    rate_per_day: int = 10_000
    approving_user_id: int | None = None
    deny_consent: bool = False
    # Since Feb 2026 Etsy rejects a bare keystring; False restores the 2025 behaviour.
    require_shared_secret: bool = True
    carriers: list[str] | None = field(default_factory=lambda: list(DEFAULT_CARRIERS))
    # 2025-26 processing-profile migration: once it applies to a shop, a physical listing needs a
    # readiness_state_id to go active. Off by default, as in the vendored 2025 spec.
    require_processing_profile: bool = False


@dataclass
class App:
    client_id: str
    secret: str
    redirect_uris: list[str] = field(default_factory=list)  # empty = any redirect_uri accepted


@dataclass
class User:
    user_id: int
    primary_email: str | None
    first_name: str | None
    last_name: str | None
    login_name: str


@dataclass
class Shop:
    shop_id: int
    user_id: int
    shop_name: str
    currency_code: str
    country_iso: str | None
    title: str | None
    created: int
    updated: int


@dataclass
class Variation:
    property_id: int
    value_id: int | None
    formatted_name: str
    formatted_value: str


@dataclass
class Transaction:
    transaction_id: int
    title: str | None
    description: str | None
    sku: str | None
    quantity: int
    price: int  # minor units (divisor 100)
    shipping_cost: int
    listing_id: int | None
    product_id: int | None
    is_digital: bool
    variations: list[Variation]
    shipped_timestamp: int | None = None


@dataclass
class Shipment:
    receipt_shipping_id: int
    shop_id: int
    receipt_id: int
    shipment_notification_timestamp: int
    carrier_name: str
    tracking_code: str
    send_bcc: bool
    note_to_buyer: str | None


@dataclass
class Refund:
    amount: int
    created_timestamp: int
    reason: str | None
    note_from_issuer: str | None
    status: str | None


@dataclass
class Receipt:
    receipt_id: int
    shop_id: int
    seller_user_id: int
    buyer_user_id: int
    buyer_email: str | None
    name: str
    first_line: str | None
    second_line: str | None
    city: str | None
    state: str | None
    zip: str | None
    country_iso: str | None
    status: str
    payment_method: str
    payment_email: str | None
    message_from_seller: str | None
    message_from_buyer: str | None
    is_paid: bool
    is_shipped: bool
    is_delivered: bool
    is_gift: bool
    gift_message: str
    gift_sender: str
    currency_code: str
    total_shipping_cost: int
    total_tax_cost: int
    total_vat_cost: int
    discount_amt: int
    gift_wrap_price: int
    created: int
    updated: int
    paid_timestamp: int | None
    transactions: list[Transaction]
    shipments: list[Shipment] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)

    @property
    def total_price(self) -> int:
        return sum(t.price * t.quantity for t in self.transactions)

    @property
    def grandtotal(self) -> int:
        return (
            self.total_price
            - self.discount_amt
            + self.total_shipping_cost
            + self.total_tax_cost
            + self.total_vat_cost
            + self.gift_wrap_price
        )


@dataclass
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    user_id: int
    scopes: list[str]
    expires_at: float
    used: bool = False


@dataclass
class AccessToken:
    token: str
    user_id: int
    client_id: str
    scopes: list[str]
    expires_at: float
    revoked: bool = False


@dataclass
class RefreshToken:
    token: str
    user_id: int
    client_id: str
    scopes: list[str]
    expires_at: float
    status: str = "active"  # active | used | revoked


@dataclass
class Fault:
    """One queued misbehaviour; consumed by requests whose path starts with `path_prefix`."""

    fault_id: int
    kind: str  # rate_limit | server_error | slow | token_server_error
    remaining: int
    path_prefix: str
    status: int = 500
    retry_after: int = 1
    delay_s: float = 0.0


class EtsyState:
    """The emulator's whole world plus the id counters that make ids look like Etsy's."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.settings = Settings()
        self.clock_offset_s = 0.0
        self.apps: dict[str, App] = {DEFAULT_CLIENT_ID: App(DEFAULT_CLIENT_ID, DEFAULT_SECRET)}
        self.users: dict[int, User] = {}
        self.shops: dict[int, Shop] = {}
        self.receipts: dict[int, Receipt] = {}
        self.shipments: list[Shipment] = []
        self.auth_codes: dict[str, AuthCode] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.faults: list[Fault] = []
        self.limiter = RateLimiter()
        # Listings world (sandbox/etsy/listings.py): keyed by id, values are its dataclasses.
        self.listings: dict[int, Any] = {}
        self.shipping_profiles: dict[int, Any] = {}
        self.readiness_states: dict[int, Any] = {}
        self.request_log: deque[dict[str, Any]] = deque(maxlen=10_000)
        self._ids = {
            "user": 70_000_000,
            "shop": 30_000_000,
            "receipt": 2_900_000_000,
            "transaction": 3_500_000_000,
            "shipment": 1_100_000_000,
            "listing": 1_500_000_000,
            "fault": 0,
            "product": 4_000_000_000,
            "offering": 5_000_000_000,
            "image": 6_000_000_000,
            "shipping_profile": 200_000_000,
            "destination": 300_000_000,
            "readiness": 1_000_000,
        }

    # -- time and ids -------------------------------------------------------------------------
    def now(self) -> float:
        """Wall clock shifted by the control API's clock offset (token expiry, timestamps)."""
        return time.time() + self.clock_offset_s

    def now_s(self) -> int:
        return int(self.now())

    def next_id(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    # -- lookups ------------------------------------------------------------------------------
    def shop_of_user(self, user_id: int) -> Shop | None:
        return next((s for s in self.shops.values() if s.user_id == user_id), None)

    def approving_user_id(self) -> int | None:
        if self.settings.approving_user_id is not None:
            return self.settings.approving_user_id
        return next(iter(self.users), None)

    def bump(self, receipt: Receipt) -> None:
        """Record a change; strictly increasing so `min_last_modified` watermarks see it."""
        receipt.updated = max(self.now_s(), receipt.updated + 1)

    # -- tokens -------------------------------------------------------------------------------
    def issue_code(
        self, client_id: str, redirect_uri: str, challenge: str, user_id: int, scopes: list[str]
    ) -> AuthCode:
        code = AuthCode(
            code=secrets.token_urlsafe(48),
            client_id=client_id,
            redirect_uri=redirect_uri,
            code_challenge=challenge,
            user_id=user_id,
            scopes=scopes,
            expires_at=self.now() + self.settings.auth_code_ttl_s,
        )
        self.auth_codes[code.code] = code
        return code

    def issue_tokens(self, user_id: int, client_id: str, scopes: list[str]) -> tuple[AccessToken, RefreshToken]:
        """Mint an access/refresh pair; both carry Etsy's `<user_id>.` prefix."""
        access = AccessToken(
            token=f"{user_id}.{secrets.token_urlsafe(48)}",
            user_id=user_id,
            client_id=client_id,
            scopes=list(scopes),
            expires_at=self.now() + self.settings.access_token_ttl_s,
        )
        refresh = RefreshToken(
            token=f"{user_id}.{secrets.token_urlsafe(48)}",
            user_id=user_id,
            client_id=client_id,
            scopes=list(scopes),
            expires_at=self.now() + self.settings.refresh_token_ttl_s,
        )
        self.access_tokens[access.token] = access
        self.refresh_tokens[refresh.token] = refresh
        return access, refresh

    def expire_access_tokens(self) -> int:
        now = self.now()
        live = [t for t in self.access_tokens.values() if t.expires_at > now]
        for token in live:
            token.expires_at = now - 1
        return len(live)

    def revoke_grant(self, user_id: int) -> int:
        """What a seller removing the app (or changing password) does: every token dies."""
        count = 0
        for access in self.access_tokens.values():
            if access.user_id == user_id and not access.revoked:
                access.revoked = True
                count += 1
        for refresh in self.refresh_tokens.values():
            if refresh.user_id == user_id and refresh.status != "revoked":
                refresh.status = "revoked"
                count += 1
        return count
