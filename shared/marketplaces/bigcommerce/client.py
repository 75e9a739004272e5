"""BigCommerce REST (Orders V2, Webhooks V3) over HTTP for one connection (one store).

Every call carries `X-Auth-Token` from the `TokenProvider`. BigCommerce tokens do not expire, but a
401 still gets one forced `token_provider(True)` (auth may have a newer token after a reconnect) and
one more try (`HttpOwner._authorized`); a second 401 means the API account is gone: `AuthorizationLost`.
V2 collections are bare JSON arrays and an empty one is HTTP 204 without a body. Orders are read with
`include=consignments.line_items&consignment_structure=object`, which embeds their products and
shipping addresses (otherwise links, two more calls per order): a page of 250 orders is one call.
Translation lives in `mapper`, the store's quota in `quota`, retries in `shared.marketplaces.http`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.events.payloads import Marketplace
from shared.marketplaces.base import (
    MarketplaceOrder,
    OrderPage,
    OrderSource,
    OrderWebhooks,
    RejectedByMarketplace,
    RejectedOrder,
    ShopInfo,
    SyncWindow,
    TokenProvider,
    TrackingPush,
    TrackingResult,
    TransientMarketplaceError,
)
from shared.marketplaces.bigcommerce import mapper
from shared.marketplaces.bigcommerce.quota import bigcommerce_http
from shared.marketplaces.bigcommerce.webhooks import ORDER_SCOPES, SECRET_HEADER
from shared.marketplaces.http import HttpOwner, MarketplaceHttp, OutcomeUnknown
from shared.settings import Settings

PAGE_SIZE = 250  # the largest `limit` BigCommerce accepts on V2 collections
# Orders fetched at once for their sub-resources; the token bucket still sets the pace.
SUBRESOURCE_CONCURRENCY = 4
# Keyset paging steps back this far so orders stamped in the same second as the last one are re-read.
_KEYSET_STEP_BACK = timedelta(seconds=1)
# Embeds each order's products and shipping addresses in its `consignments` (spec `order_includes`).
WITH_LINES_AND_ADDRESSES = {"include": "consignments.line_items", "consignment_structure": "object"}


class BigCommerceClient(HttpOwner, OrderSource, OrderWebhooks):
    """One BigCommerce store: the core plus order webhooks (and so fetching one order).
    Use as an async context manager, or call `aclose()`."""

    marketplace: Marketplace = "bigcommerce"
    _refused_token = "BigCommerce refused the store's access token"

    def __init__(
        self,
        settings: Settings,
        token_provider: TokenProvider,
        *,
        shop_id: str | None,
        http: MarketplaceHttp | None = None,
        page_size: int | None = None,
    ) -> None:
        if not shop_id:
            raise ValueError("shop_id (the store hash) is required: a BigCommerce token does not name its store")
        super().__init__(settings, token_provider, shop_id=shop_id, http=http)
        self.store_hash = shop_id
        self._page_size = page_size or settings.bigcommerce_page_size

    def _new_http(self, settings: Settings, shop_id: str | None) -> MarketplaceHttp:
        assert shop_id is not None  # checked in __init__
        return bigcommerce_http(settings, shop_id)

    # --- the connection's store ---------------------------------------------------------------------

    async def identify_shop(self) -> ShopInfo:
        """The store's name (GET /v2/store); the id is the store hash the connection was made with."""
        store = await self._call("GET", "/v2/store")
        name = store.get("name") if isinstance(store, Mapping) else None
        return ShopInfo(shop_id=self.store_hash, shop_name=name if isinstance(name, str) and name else None)

    # --- orders -------------------------------------------------------------------------------------

    async def paid_unshipped_orders(self, window: SyncWindow) -> AsyncIterator[OrderPage]:
        """Pages of orders to import, then (incremental runs only) orders that ended since the cursor.

        Pass 1, one query per status (the API filters one `status_id` at a time): 11 Awaiting
        Fulfillment, 9 Awaiting Shipment, 3 Partially Shipped (lines = what is left to ship).
        Pass 2, only when `window.cursor` is set: 5 Cancelled, 2 Shipped, 4 Refunded, so imported
        orders learn how they ended (state cancelled/shipped; the caller ignores ones it never saw).
        Both read `min_date_modified` = cursor - overlap, oldest change first; the caller upserts by
        `external_id` using `updated_at`.
        """
        since = self._since(window)
        for status_id in mapper.PAID_UNSHIPPED_STATUSES:
            async for page in self._order_pages(status_id, "date_modified", since):
                yield page
        if since is not None:
            for status_id in mapper.FOLLOW_UP_STATUSES:
                async for page in self._order_pages(status_id, "date_modified", since):
                    yield page

    def next_cursor(self, sync_started_at: datetime) -> str:
        """The watermark for the next run: when this one started, ISO 8601 in UTC."""
        if sync_started_at.tzinfo is None:
            raise ValueError("sync_started_at must be timezone-aware")
        return sync_started_at.astimezone(UTC).isoformat(timespec="seconds")

    async def archived_orders(self, since: datetime) -> AsyncIterator[OrderPage]:
        """Orders created since `since` in every paid status, shipped and completed ones included."""
        if since.tzinfo is None:
            raise ValueError("since must be timezone-aware")
        for status_id in mapper.ARCHIVE_STATUSES:
            async for page in self._order_pages(status_id, "date_created", since.astimezone(UTC)):
                yield page

    async def get_order(self, external_id: str) -> MarketplaceOrder:
        """One order with its products and addresses (for webhook-driven fetches). ValueError if its
        payload cannot be accepted; RejectedByMarketplace (404) if the store has no such order."""
        order_id = _order_id(external_id)
        order = await self._call("GET", f"/v2/orders/{order_id}", params=WITH_LINES_AND_ADDRESSES)
        embedded = mapper.consignment_parts(order)
        products, addresses = embedded if embedded is not None else await self._subresources(order_id)
        return mapper.to_order(order, products, addresses)

    @staticmethod
    def _since(window: SyncWindow) -> datetime | None:
        if window.cursor is None:
            return None
        try:
            cursor = datetime.fromisoformat(window.cursor)
        except ValueError:
            raise ValueError(f"cursor must be an ISO 8601 time, got {window.cursor!r}") from None
        if cursor.tzinfo is None:
            raise ValueError(f"cursor must carry a UTC offset, got {window.cursor!r}")
        return cursor.astimezone(UTC) - timedelta(seconds=window.overlap_s)

    async def _order_pages(self, status_id: int, date_field: str, since: datetime | None) -> AsyncIterator[OrderPage]:
        """One status's orders, oldest first, in pages of `PAGE_SIZE`.

        Paged by keyset, not by page number alone: after each full page the lower bound moves to the
        last order's date (less a second) and paging restarts at 1. With plain page numbers, an order
        that leaves the filter while we page (shipped meanwhile) shifts the rest up by one and the
        order after it is never seen. Orders read twice at the boundary are dropped by id; a second
        holding more than a page of orders falls back to the next page number.
        """
        seen: set[int] = set()
        lower = since
        page = 1
        while True:
            params: dict[str, Any] = {"status_id": status_id, "sort": f"{date_field}:asc", "limit": self._page_size,
                                      "page": page, **WITH_LINES_AND_ADDRESSES}
            if lower is not None:
                params[f"min_{date_field}"] = lower.strftime("%Y-%m-%dT%H:%M:%S+00:00")
            rows = await self._collection("/v2/orders", params)
            fresh = [
                row for row in rows
                if not (isinstance(row, Mapping) and (row.get("id") in seen or row.get("is_deleted") is True))
            ]
            seen.update(row["id"] for row in rows if isinstance(row, Mapping) and isinstance(row.get("id"), int))
            if fresh:
                yield await self._page(fresh)
            if len(rows) < self._page_size:
                return
            last = _date_or_none(rows[-1], date_field)
            if last is not None and (lower is None or last - _KEYSET_STEP_BACK > lower):
                lower, page = last - _KEYSET_STEP_BACK, 1
            else:
                page += 1

    async def _page(self, orders: Sequence[Any]) -> OrderPage:
        """Translate a page of orders read with their consignments; an order that came without embedded
        products (a store ignoring `include`) has its products and shipping addresses fetched."""
        gate = asyncio.Semaphore(SUBRESOURCE_CONCURRENCY)

        async def bundle(order: Any) -> tuple[Any, list[Any], list[Any]] | RejectedOrder:
            order_id = order.get("id") if isinstance(order, Mapping) else None
            if isinstance(order_id, bool) or not isinstance(order_id, int) or order_id < 1:
                return order, [], []  # the mapper rejects it, naming the field
            embedded = mapper.consignment_parts(order)
            if embedded is not None:
                return order, *embedded
            async with gate:
                try:
                    products, addresses = await self._subresources(order_id)
                except RejectedByMarketplace as exc:  # e.g. archived between the list and this read
                    return RejectedOrder(external_id=str(order_id), reason=f"products/shipping_addresses: {exc.reason}")
            return order, products, addresses

        results = await asyncio.gather(*(bundle(order) for order in orders))
        parsed = mapper.parse_orders(r for r in results if not isinstance(r, RejectedOrder))
        failed = tuple(r for r in results if isinstance(r, RejectedOrder))
        return OrderPage(orders=parsed.orders, rejected=parsed.rejected + failed)

    async def _subresources(self, order_id: int) -> tuple[list[Any], list[Any]]:
        products = await self._collection(f"/v2/orders/{order_id}/products", {}, paged=True)
        addresses = await self._collection(f"/v2/orders/{order_id}/shipping_addresses", {}, paged=True)
        return products, addresses

    # --- fulfilment ---------------------------------------------------------------------------------

    async def push_tracking(self, push: TrackingPush) -> TrackingResult:
        """Create a shipment (POST /v2/orders/{id}/shipments) with carrier + tracking for the pushed
        lines, or for everything left to ship when `push.lines` is empty.

        Creating a shipment is not idempotent (each one e-mails the buyer), so the order's shipments
        are read first: one already carrying this tracking number (an earlier try whose answer was
        lost, a redelivered event) is returned instead of created again, and the same check runs before
        each retry after a 5xx or timeout. `order_fully_shipped` comes from re-reading the order:
        BigCommerce moves it to Shipped (2) once every item went out, else Partially Shipped (3).
        """
        order_id = _order_id(push.external_order_id)
        path = f"/v2/orders/{order_id}/shipments"
        attempt = 0
        while True:
            attempt += 1
            already = mapper.recorded_shipment(await self._collection(path, {}, paged=True), push.tracking_number)
            if already is not None:
                return await self._tracking_result(order_id, already, push.carrier)
            products, addresses = await self._subresources(order_id)
            try:
                items = mapper.shipment_items(products, push.lines)
                if not items:
                    raise RejectedByMarketplace(f"order {order_id} has nothing left to ship", 409)
                body = mapper.shipment_body(mapper.shipment_address_id(products, items, addresses), items,
                                            push.tracking_number, push.carrier, push.note)
            except ValueError as exc:
                raise RejectedByMarketplace(str(exc), 422) from exc
            try:
                shipment = await self._call("POST", path, json_body=body)
            except OutcomeUnknown as exc:
                await self._http.before_recheck(attempt, exc)
                continue
            return await self._tracking_result(order_id, shipment if isinstance(shipment, Mapping) else {}, push.carrier)

    async def _tracking_result(self, order_id: int, shipment: Mapping[str, Any], carrier: str) -> TrackingResult:
        order = await self._call("GET", f"/v2/orders/{order_id}")
        sent = shipment.get("shipping_provider") or shipment.get("tracking_carrier") or shipment.get("shipping_method")
        fields = mapper.carrier_fields(carrier)
        return TrackingResult(
            marketplace_shipment_id=None if shipment.get("id") is None else str(shipment["id"]),
            carrier_sent=str(sent or next((v for v in fields.values() if v), carrier)),
            order_fully_shipped=isinstance(order, Mapping) and order.get("status_id") == mapper.SHIPPED,
        )

    async def cancel_order(self, external_order_id: str, reason: str | None) -> None:
        """Set the order to Cancelled (PUT status_id 5); the reason is appended to the staff notes.

        BigCommerce would accept any status change, so we refuse what a cancel must not do: an order
        that already shipped is RejectedByMarketplace. An order already cancelled is left as it is.
        """
        order_id = _order_id(external_order_id)
        order = await self._call("GET", f"/v2/orders/{order_id}")
        status_id = order.get("status_id") if isinstance(order, Mapping) else None
        if status_id == mapper.CANCELLED:
            return
        if status_id in (mapper.SHIPPED, mapper.PARTIALLY_SHIPPED, mapper.COMPLETED):
            raise RejectedByMarketplace(f"order {order_id} has already shipped ({order.get('status')}); cannot cancel", 409)
        body: dict[str, Any] = {"status_id": mapper.CANCELLED}
        if reason and reason.strip():
            notes = str(order.get("staff_notes") or "").strip()
            body["staff_notes"] = "\n".join(filter(None, (notes, f"Cancelled via ChannelBridge: {reason.strip()}")))
        await self._call("PUT", f"/v2/orders/{order_id}", json_body=body)

    # --- webhooks -----------------------------------------------------------------------------------

    async def register_order_webhooks(self, destination: str, secret: str) -> list[int]:
        """Hooks for `store/order/created` and `store/order/statusUpdated` → their ids.

        Idempotent: a hook of ours for the same scope and destination is re-used (re-activated and
        given the current secret if it differs) instead of doubled. Deliveries carry the secret in the
        `SECRET_HEADER` custom header, the documented way to authenticate them.
        """
        if not destination.startswith("https://") and self._settings.environment == "prod":
            raise ValueError("destination must be an https URL (BigCommerce delivers to port 443 only)")
        if not secret:
            raise ValueError("secret must not be empty")
        existing = [h for h in await self._hooks({"destination": destination}) if h.get("destination") == destination]
        ids: list[int] = []
        for scope in ORDER_SCOPES:
            hook = next((h for h in existing if h.get("scope") == scope), None)
            headers = {SECRET_HEADER: secret}
            if hook is None:
                created = await self._call("POST", "/v3/hooks", json_body={
                    "scope": scope, "destination": destination, "is_active": True, "headers": headers,
                })
                ids.append(int(created["data"]["id"]))
                continue
            if hook.get("is_active") is not True or (hook.get("headers") or {}).get(SECRET_HEADER) != secret:
                await self._call("PUT", f"/v3/hooks/{int(hook['id'])}", json_body={"is_active": True, "headers": headers})
            ids.append(int(hook["id"]))
        return ids

    async def remove_order_webhooks(self, destination: str) -> list[int]:
        """Delete every hook of ours delivering to `destination` (on disconnect) → the ids removed."""
        ids = [int(h["id"]) for h in await self._hooks({"destination": destination})
               if h.get("destination") == destination]
        await self.delete_webhooks(ids)
        return ids

    async def delete_webhooks(self, ids: Sequence[int]) -> None:
        """Delete hooks by id; ones already gone are fine (deleting is what we wanted)."""
        for hook_id in ids:
            try:
                await self._call("DELETE", f"/v3/hooks/{int(hook_id)}")
            except RejectedByMarketplace as exc:
                if exc.status != 404:
                    raise

    async def _hooks(self, filters: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        hooks: list[Mapping[str, Any]] = []
        page = 1
        while True:
            body = await self._call("GET", "/v3/hooks", params={**filters, "page": page, "limit": PAGE_SIZE})
            data = body.get("data") if isinstance(body, Mapping) else None
            hooks.extend(h for h in data or () if isinstance(h, Mapping))
            pagination = (body.get("meta") or {}).get("pagination") or {} if isinstance(body, Mapping) else {}
            if not data or page >= int(pagination.get("total_pages") or 1):
                return hooks
            page += 1

    # --- transport ----------------------------------------------------------------------------------

    async def _collection(self, path: str, params: Mapping[str, Any], *, paged: bool = False) -> list[Any]:
        """A V2 collection as a list: bare array, or 204 (empty). With `paged`, every page of it."""
        rows: list[Any] = []
        page = 1
        while True:
            query = {**params, "page": page, "limit": self._page_size} if paged else params
            body = await self._call("GET", path, params=query)
            if body is None:
                return rows
            if not isinstance(body, list):
                raise TransientMarketplaceError(f"GET {path} answered with a {type(body).__name__}, not an array")
            rows.extend(body)
            if not paged or len(body) < self._page_size:
                return rows
            page += 1

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One API call → its JSON (None for 204)."""
        response = await self._authorized(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            # A proxy or maintenance page, not BigCommerce's API: worth trying again later.
            raise TransientMarketplaceError(f"{method} {path} answered {response.status_code} without JSON") from None

    def _auth_headers(self, token: str, *, with_body: bool) -> dict[str, str]:
        headers = {"X-Auth-Token": token, "Accept": "application/json"}
        if with_body:
            headers["Content-Type"] = "application/json"
        return headers


def _order_id(external_id: str) -> int:
    """Order ids are positive integers; checking here keeps odd input out of the URL path."""
    if not external_id.isdigit() or int(external_id) < 1:
        raise ValueError(f"external_id must be a BigCommerce order id (positive integer), got {external_id!r}")
    return int(external_id)


def _date_or_none(row: Any, field: str) -> datetime | None:
    try:
        return mapper.rfc2822(row.get(field), field) if isinstance(row, Mapping) else None
    except ValueError:
        return None
