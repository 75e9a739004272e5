"""What every marketplace adapter speaks: canonical orders, sync pages, tracking pushes, and errors.

Services depend on this module only; each marketplace module translates its own payloads into these
types (pure functions, tested with spec-shaped payloads) and does its HTTP in its own client.

What a client can do is declared, not probed: `OrderSource` is the core every marketplace has, and each
optional capability (`FetchOrder`, `RecentlyUpdatedOrders`, `OrderWebhooks`, `PublishListing`,
`SetStock`) is a runtime-checkable protocol a client inherits when it implements it. Services ask
`isinstance(source, Capability)`, never `getattr` or a list of marketplace names, so a new marketplace
or capability changes the client alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal, Protocol, runtime_checkable

from shared.events.payloads import Address, Buyer, Marketplace, OrderLine

OrderState = Literal["paid", "shipped", "cancelled", "unpaid"]


@dataclass(frozen=True)
class MarketplaceOrder:
    """An order as the marketplace reports it, already in our vocabulary (Decimal money, UTC times)."""

    external_id: str
    state: OrderState
    buyer: Buyer
    shipping_address: Address
    billing_address: Address
    billing_copied_from_shipping: bool
    lines: tuple[OrderLine, ...]
    total: Decimal
    currency: str
    placed_at: datetime | None
    paid_at: datetime | None
    updated_at: datetime
    marketplace_status: str = ""  # the platform's own status value, kept for support


@dataclass(frozen=True)
class RejectedOrder:
    """A payload we could not turn into an order; the reason names the field. Never blocks the others."""

    external_id: str
    reason: str


@dataclass(frozen=True)
class OrderPage:
    orders: tuple[MarketplaceOrder, ...]
    rejected: tuple[RejectedOrder, ...] = ()
    cursor: str | None = None  # a checkpoint the caller stores in the same transaction as this page


@dataclass(frozen=True)
class ShopInfo:
    shop_id: str
    shop_name: str | None = None


@dataclass(frozen=True)
class TrackingPush:
    external_order_id: str
    carrier: str
    tracking_number: str
    lines: tuple[tuple[str, int], ...] = ()  # (external line id, quantity); empty = the whole order
    note: str | None = None


@dataclass(frozen=True)
class TrackingResult:
    marketplace_shipment_id: str | None
    carrier_sent: str
    order_fully_shipped: bool


@dataclass
class SyncWindow:
    """Where an incremental sync starts: an opaque cursor the adapter wrote at the end of the last run."""

    cursor: str | None
    overlap_s: int = 600
    extra: dict = field(default_factory=dict)


class MarketplaceError(Exception):
    """Base class; `retryable` tells the caller whether trying again later can help."""

    retryable = False


class TransientMarketplaceError(MarketplaceError):
    """5xx, timeouts, or rate limits that outlasted our retries: try again later."""

    retryable = True


class RejectedByMarketplace(MarketplaceError):
    """A 4xx the marketplace means: the request itself is wrong (carries the marketplace's reason)."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class AuthorizationLost(MarketplaceError):
    """The grant is gone (revoked, expired refresh token, 401 after refresh): the merchant must reconnect."""


TokenProvider = Callable[[bool], Awaitable[str]]
"""Returns a valid access token; called with True after a 401 to force a refresh."""


@runtime_checkable
class OrderSource(Protocol):
    """The core of one marketplace connection, which every client implements: etsy, bigcommerce, allegro.

    Optional capabilities are the protocols below; a client inherits each one it implements.
    """

    marketplace: Marketplace

    async def identify_shop(self) -> ShopInfo: ...

    def paid_unshipped_orders(self, window: SyncWindow) -> AsyncIterator[OrderPage]:
        """Orders changed since the window's cursor (everything when it is None): paid-and-unshipped ones,
        and those cancelled or shipped since, so the caller can follow them. A page may carry a cursor
        checkpoint (event-journal marketplaces); time-based ones leave it None and use `next_cursor`."""
        ...

    def next_cursor(self, sync_started_at: datetime) -> str | None:
        """The cursor to store after a complete run (None: keep the last page checkpoint)."""
        ...

    def archived_orders(self, since: datetime) -> AsyncIterator[OrderPage]:
        """Orders placed since `since`, whatever their state (an archive import; history, not new sales)."""
        ...

    async def push_tracking(self, push: TrackingPush) -> TrackingResult: ...

    async def cancel_order(self, external_order_id: str, reason: str | None) -> None:
        """Cancel at the marketplace; RejectedByMarketplace (with its reason) where it does not allow it."""
        ...

    async def aclose(self) -> None:
        """Release the client's connection pool; every caller closes what it opened."""
        ...


# --- optional capabilities: a client inherits the ones it implements -----------------------------------


@runtime_checkable
class FetchOrder(Protocol):
    """Reads one order by its marketplace id (what a webhook delivery names)."""

    async def get_order(self, external_id: str) -> MarketplaceOrder:
        """ValueError if its payload cannot be accepted; RejectedByMarketplace (404) if there is no such order."""
        ...


@runtime_checkable
class RecentlyUpdatedOrders(Protocol):
    """Lists every order updated since a time: the safety-net sweep beside an event journal (Allegro), whose
    `paid_unshipped_orders` cursor is a journal position and would miss what a lost event hides."""

    def recently_updated_orders(self, since: datetime) -> AsyncIterator[OrderPage]: ...


@runtime_checkable
class OrderWebhooks(FetchOrder, Protocol):
    """Pushes order changes to a URL of ours; each delivery names an order, so these clients also fetch one."""

    async def register_order_webhooks(self, destination: str, secret: str) -> list[int]:
        """Idempotent: hooks already registered for `destination` are re-used → the hook ids."""
        ...

    async def remove_order_webhooks(self, destination: str) -> list[int]:
        """Delete every hook delivering to `destination` (on disconnect) → the ids removed."""
        ...


@dataclass(frozen=True)
class ListingDraft:
    """A product to offer on a marketplace. Declared for the listings work; no client publishes yet."""

    sku: str
    title: str
    description: str
    price: Decimal
    currency: str
    quantity: int


@dataclass(frozen=True)
class PublishedListing:
    external_listing_id: str
    url: str | None = None


@dataclass(frozen=True)
class StockLevel:
    """How many of `sku` the marketplace may sell. Declared for the stock work; no client sets stock yet."""

    sku: str
    quantity: int


@runtime_checkable
class PublishListing(Protocol):
    """Creates or updates a listing. Declared, not implemented yet: the listings issue adds it to clients."""

    async def publish_listing(self, listing: ListingDraft) -> PublishedListing: ...


@runtime_checkable
class SetStock(Protocol):
    """Sets available quantities. Declared, not implemented yet: the stock issue adds it to clients."""

    async def set_stock(self, levels: Sequence[StockLevel]) -> None: ...


CAPABILITIES: tuple[type, ...] = (FetchOrder, RecentlyUpdatedOrders, OrderWebhooks, PublishListing, SetStock)
"""Every optional capability, for tests and documentation that walk them all."""
