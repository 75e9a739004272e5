"""What the orders service's use cases refuse, in business terms; api.py turns each into a problem."""

from __future__ import annotations


class OrderNotFound(LookupError):
    """No such order for this merchant."""


class ConnectionNotFound(LookupError):
    """No such connection for this merchant (or not yet known to the orders service)."""


class OrderShipped(Exception):
    """The order has a shipment (booked or confirmed): too late to cancel it."""


class ConnectionInactive(Exception):
    """The connection is not active (disconnected, or the grant was lost): no syncs, no cancellations."""


class DeliveryRejected(Exception):
    """A webhook delivery we cannot trust (no webhooks registered, wrong secret, bad signature)."""


class CancellationRefused(Exception):
    """The marketplace refused the cancellation; `reason` is its rule (Etsy has no API for it, Allegro only
    before payment, …)."""

    def __init__(self, marketplace: str, reason: str) -> None:
        super().__init__(f"{marketplace} refused the cancellation: {reason}")
        self.reason = reason


class MarketplaceUnavailable(Exception):
    """The marketplace could not answer now and nothing was recorded, so a retry gets through; `retry_after`
    is the `Retry-After` header to pass on when it said when to come back."""

    def __init__(self, message: str, retry_after: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
