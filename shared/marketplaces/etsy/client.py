"""Etsy Open API v3 over HTTP for one connection (one shop): orders in, tracking out.

Every call carries `x-api-key: {keystring}:{shared_secret}` (Etsy rejects the bare keystring since
February 2026) and the connection's bearer token. A 401 gets one forced refresh and one more try
(`HttpOwner._authorized`); a second 401 means the merchant must reconnect.
Translation lives in `mapper`; rate limit and retries in `shared.marketplaces.http`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any

from shared.events.payloads import Marketplace
from shared.marketplaces.base import (
    FetchOrder,
    MarketplaceOrder,
    OrderPage,
    OrderSource,
    RejectedByMarketplace,
    ShopInfo,
    SyncWindow,
    TokenProvider,
    TrackingPush,
    TrackingResult,
)
from shared.marketplaces.etsy import mapper
from shared.marketplaces.http import HttpOwner, MarketplaceHttp, OutcomeUnknown, app_http, json_object
from shared.settings import Settings

API = "/v3/application"
PAGE_SIZE = 100  # getShopReceipts' maximum `limit`
EARLIEST_TIMESTAMP = 946_684_800  # the spec's minimum for min_last_modified


def etsy_http(settings: Settings, **options: Any) -> MarketplaceHttp:
    """The pooled HTTP client for Etsy (Etsy meters per app); `options` are `settings_http`'s."""
    return app_http(settings, "etsy", base_url=settings.etsy_api_url, app_key=settings.etsy_client_id,
                    rate_per_second=settings.etsy_rate_per_second, **options)


class EtsyClient(HttpOwner, OrderSource, FetchOrder):
    """One Etsy shop: the core plus fetching one receipt. Use as an async context manager, or call `aclose()`."""

    marketplace: Marketplace = "etsy"
    _refused_token = "Etsy refused a freshly refreshed token"

    def __init__(self, settings: Settings, token_provider: TokenProvider, *, shop_id: str | None = None,
                 http: MarketplaceHttp | None = None) -> None:
        super().__init__(settings, token_provider, shop_id=shop_id, http=http)
        self._api_key = f"{settings.etsy_client_id}:{settings.etsy_client_secret.get_secret_value()}"

    def _new_http(self, settings: Settings, shop_id: str | None) -> MarketplaceHttp:
        return etsy_http(settings)

    # --- the connection's shop ----------------------------------------------------------------------

    async def identify_shop(self) -> ShopInfo:
        """Which shop the token's user owns (getMe), with its name (getShop)."""
        me = await self._call("GET", f"{API}/users/me")
        if me.get("shop_id") is None:
            raise RejectedByMarketplace("the connected Etsy user has no shop", 404)
        shop_id = str(me["shop_id"])
        if self._shop_id is not None and self._shop_id != shop_id:
            raise RejectedByMarketplace(f"the token belongs to shop {shop_id}, not to shop {self._shop_id}", 403)
        self._shop_id = shop_id
        shop = await self._call("GET", f"{API}/shops/{shop_id}")
        return ShopInfo(shop_id=shop_id, shop_name=shop.get("shop_name"))

    async def _shop(self) -> str:
        if self._shop_id is None:
            await self.identify_shop()
        assert self._shop_id is not None
        return self._shop_id

    # --- orders -------------------------------------------------------------------------------------

    async def paid_unshipped_orders(self, window: SyncWindow) -> AsyncIterator[OrderPage]:
        """Pages of receipts to import, then (incremental runs only) receipts cancelled or shipped since.

        Pass 1: `was_paid=true&was_shipped=false&was_canceled=false`, oldest change first.
        Passes 2 and 3, only when `window.cursor` is set: `was_canceled=true`, then `was_shipped=true`,
        over the same `min_last_modified`, so orders imported earlier learn they were cancelled, or
        shipped by the seller on etsy.com (receipts we never imported can be ignored by the caller).
        Both read with offset paging to `count`; the overlap on the watermark re-reads receipts that
        moved while we paged, so the caller upserts by `external_id` using `updated_at`.
        """
        since = self._min_last_modified(window)
        shop_id = await self._shop()
        live = {"was_paid": "true", "was_shipped": "false", "was_canceled": "false"}
        async for page in self._receipt_pages(shop_id, live, since):
            yield page
        if since is not None:
            for changed in ({"was_canceled": "true"}, {"was_shipped": "true"}):
                async for page in self._receipt_pages(shop_id, changed, since):
                    yield page

    async def archived_orders(self, since: datetime) -> AsyncIterator[OrderPage]:
        """Paid receipts created since `since`, shipped or not (an archive import), oldest change first."""
        shop_id = await self._shop()
        created = {"was_paid": "true", "was_canceled": "false",
                   "min_created": str(max(EARLIEST_TIMESTAMP, int(since.timestamp())))}
        async for page in self._receipt_pages(shop_id, created, None):
            yield page

    async def cancel_order(self, external_order_id: str, reason: str | None) -> None:
        """Etsy's API has no cancel or refund operation (etsy.md §3): the seller cancels on etsy.com."""
        raise RejectedByMarketplace("Etsy does not allow cancelling an order through its API; "
                                    "cancel it on etsy.com and the next sync will mark it cancelled", None)

    def next_cursor(self, sync_started_at: datetime) -> str:
        """The watermark for the next run: when this one started, in epoch seconds."""
        if sync_started_at.tzinfo is None:
            raise ValueError("sync_started_at must be timezone-aware")
        return str(int(sync_started_at.timestamp()))

    async def get_order(self, external_id: str) -> MarketplaceOrder:
        """One receipt (getShopReceipt). ValueError if its payload cannot be accepted."""
        receipt = await self._receipt(await self._shop(), _receipt_id(external_id))
        return mapper.receipt_to_order(receipt)

    @staticmethod
    def _min_last_modified(window: SyncWindow) -> int | None:
        if window.cursor is None:
            return None
        try:
            cursor = int(window.cursor)
        except ValueError:
            raise ValueError(f"cursor must be epoch seconds, got {window.cursor!r}") from None
        return max(EARLIEST_TIMESTAMP, cursor - window.overlap_s)

    async def _receipt_pages(self, shop_id: str, filters: Mapping[str, str], since: int | None) -> AsyncIterator[OrderPage]:
        offset = 0
        while True:
            params = {**filters, "sort_on": "updated", "sort_order": "asc", "limit": PAGE_SIZE, "offset": offset}
            if since is not None:
                params["min_last_modified"] = since
            body = await self._call("GET", f"{API}/shops/{shop_id}/receipts", params=params)
            results = body.get("results") or []
            if results:
                yield mapper.parse_receipts(results)
            offset += len(results)
            if not results or offset >= int(body.get("count") or 0):
                return

    async def _receipt(self, shop_id: str, receipt_id: int) -> dict[str, Any]:
        return await self._call("GET", f"{API}/shops/{shop_id}/receipts/{receipt_id}")

    # --- fulfilment ---------------------------------------------------------------------------------

    async def push_tracking(self, push: TrackingPush) -> TrackingResult:
        """Record carrier + tracking on the receipt (createReceiptShipment); Etsy e-mails the buyer.

        Etsy ships whole receipts, so `push.lines` is not sent and the order is fully shipped.
        createReceiptShipment is not idempotent (each call adds a shipment and another e-mail), so we
        look at the receipt first: a tracking code already recorded (an earlier try whose answer was
        lost, or a redelivered event) is returned instead of sent again. The same check runs before
        each retry after a 5xx or timeout.
        """
        shop_id = await self._shop()
        receipt_id = _receipt_id(push.external_order_id)
        form = mapper.tracking_form(push.tracking_number, push.carrier, push.note)
        path = f"{API}/shops/{shop_id}/receipts/{receipt_id}/tracking"
        attempt = 0
        while True:
            attempt += 1
            receipt = await self._receipt(shop_id, receipt_id)
            already = mapper.recorded_shipment(receipt, form["tracking_code"])
            if already is not None:
                return _tracking_result(already, form["carrier_name"])
            try:
                updated = await self._call("POST", path, data=form)
            except OutcomeUnknown as exc:
                await self._http.before_recheck(attempt, exc)
                continue
            shipment = mapper.recorded_shipment(updated, form["tracking_code"]) or {}
            return _tracking_result(shipment, form["carrier_name"])

    # --- transport ----------------------------------------------------------------------------------

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """One API call with our headers → its JSON object."""
        return json_object(await self._authorized(method, path, **kwargs), method, path)

    def _auth_headers(self, token: str, *, with_body: bool) -> dict[str, str]:
        return {"x-api-key": self._api_key, "authorization": f"Bearer {token}"}


def _receipt_id(external_id: str) -> int:
    """Receipt ids are positive integers; checking here keeps odd input out of the URL path."""
    if not external_id.isdigit() or int(external_id) < 1:
        raise ValueError(f"external_id must be an Etsy receipt id (positive integer), got {external_id!r}")
    return int(external_id)


def _tracking_result(shipment: Mapping[str, Any], carrier_sent: str) -> TrackingResult:
    shipment_id = shipment.get("receipt_shipping_id")
    return TrackingResult(
        marketplace_shipment_id=None if shipment_id is None else str(shipment_id),
        carrier_sent=str(shipment.get("carrier_name") or carrier_sent),
        order_fully_shipped=True,
    )
