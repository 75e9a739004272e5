"""Allegro REST API over HTTP for one connection (one seller account): orders in, tracking out.

Every call carries the connection's bearer token and Allegro's vendor media type
(`application/vnd.allegro.public.v1+json`, as `Accept` and, with a body, as `Content-Type`): Allegro
refuses plain JSON. A 401 gets one forced refresh and one more try (`HttpOwner._authorized`); a
second 401 means the seller must reconnect. Translation lives in `mapper` and `carriers`; rate limit
(Allegro meters per Client ID, so all sellers of our app share one bucket) and retries in
`shared.marketplaces.http`. Allegro documents no Retry-After on 429, so without one we back off
exponentially; when it does send one we wait exactly that.

New orders come from the order event journal, not from polling, and the forms it names are read in
bulk from the checkout-form list: see `paid_unshipped_orders`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.events.payloads import Marketplace
from shared.marketplaces.allegro import mapper
from shared.marketplaces.allegro.carriers import CarrierChoice, CarrierDirectory
from shared.marketplaces.base import (
    FetchOrder,
    MarketplaceOrder,
    OrderPage,
    OrderSource,
    RecentlyUpdatedOrders,
    RejectedByMarketplace,
    RejectedOrder,
    ShopInfo,
    SyncWindow,
    TokenProvider,
    TrackingPush,
    TrackingResult,
    TransientMarketplaceError,
)
from shared.marketplaces.http import HttpOwner, MarketplaceHttp, OutcomeUnknown, app_http, json_object
from shared.settings import Settings

MEDIA_TYPE = "application/vnd.allegro.public.v1+json"
# Journal events that can change what we hold about an order: paid, changed by the buyer, cancelled
# (by the buyer or by Allegro), and filled in (so a later cancellation of an unpaid order is understood).
ORDER_EVENT_TYPES = ("READY_FOR_PROCESSING", "BUYER_MODIFIED", "BUYER_CANCELLED", "AUTO_CANCELLED", "FILLED_IN")
EVENTS_PER_BATCH = 1000  # `GET /order/events` maximum `limit`
EVENTS_PER_READ = 10 * EVENTS_PER_BATCH  # journal read ahead before the forms it names are fetched
FORMS_PER_PAGE = 100  # `GET /order/checkout-forms` maximum `limit`
# A form's `updatedAt` and its event's `occurredAt` are the same change seen twice; this covers rounding.
FORM_TIME_SLACK = timedelta(seconds=1)
LISTING_PAGES_PER_WANTED_PAGE = 3
JOURNAL_START = "journal-start"
"""Cursor for "read the journal from its oldest event": the journal was empty when the account connected."""
MAX_REVISION_RETRIES = 5  # fulfilment PUTs answered 409 (stale `checkoutForm.revision`) before giving up
FORM_FETCH_CONCURRENCY = 8
WAYBILL_MAX_CHARS = 64  # `CheckoutFormAddWaybillRequest.waybill.maxLength`


def allegro_http(settings: Settings, **options: Any) -> MarketplaceHttp:
    """The pooled HTTP client for Allegro (Allegro meters per Client ID); `options` are `settings_http`'s."""
    return app_http(settings, "allegro", base_url=settings.allegro_api_url, app_key=settings.allegro_client_id,
                    rate_per_second=settings.allegro_rate_per_second, **options)


class AllegroClient(HttpOwner, OrderSource, FetchOrder, RecentlyUpdatedOrders):
    """One Allegro seller: the core, fetching one checkout form, and the sweep beside the event journal.
    Use as an async context manager, or call `aclose()`."""

    marketplace: Marketplace = "allegro"
    _refused_token = "Allegro refused a freshly refreshed token"

    def __init__(self, settings: Settings, token_provider: TokenProvider, *, shop_id: str | None = None,
                 http: MarketplaceHttp | None = None) -> None:
        super().__init__(settings, token_provider, shop_id=shop_id, http=http)
        self._carriers: CarrierDirectory | None = None

    def _new_http(self, settings: Settings, shop_id: str | None) -> MarketplaceHttp:
        return allegro_http(settings)

    # --- the connection's account -------------------------------------------------------------------

    async def identify_shop(self) -> ShopInfo:
        """The seller behind the token (`GET /me`): their user id is the shop id, their login its name."""
        me = await self._call("GET", "/me")
        seller_id = me.get("id")
        if not isinstance(seller_id, str) or not seller_id:
            raise TransientMarketplaceError("GET /me answered without the user's id")
        if self._shop_id is not None and self._shop_id != seller_id:
            raise RejectedByMarketplace(f"the token belongs to seller {seller_id}, not to seller {self._shop_id}", 403)
        self._shop_id = seller_id
        login = me.get("login")
        return ShopInfo(shop_id=seller_id, shop_name=login if isinstance(login, str) and login else None)

    # --- orders -------------------------------------------------------------------------------------

    async def paid_unshipped_orders(self, window: SyncWindow) -> AsyncIterator[OrderPage]:
        """The order event journal says which checkout forms changed; the forms come in bulk.

        First run (`window.cursor` None): the journal's newest event (`GET /order/event-stats`) becomes
        the cursor and is yielded at once as an empty page, so the caller stores the starting point
        even when nothing happens yet. What changed between the connection and this moment is the
        caller's first sweep (`recently_updated_orders` from the connection time).
        Then `GET /order/events?from=<cursor>` (`from` is exclusive) in batches of up to 1000, read
        ahead up to `EVENTS_PER_READ` events. The forms those events name are read with
        `GET /order/checkout-forms?updatedAt.gte=<oldest event - slack>&sort=updatedAt`, 100 complete
        forms a call, instead of one GET per form: a form changes when its event happens, so it is in
        that window, at its current revision (a form changed again later comes in its newest state,
        once). A form the listing does not show (a clock disagreement, or one moved by offset paging)
        is read by id, so the journal stays the source of truth. Listing pages carry no cursor; the
        last page of a read carries its last event id, so the cursor advances only in the transaction
        that stores the read's last forms, and a crash re-reads at most one read. Pages hold every
        state (unpaid, paid, cancelled, shipped) so the caller can follow orders it already has.
        """
        cursor = window.cursor
        if cursor is None:
            cursor = await self._journal_head()
            yield OrderPage(orders=(), cursor=cursor)
        while True:
            events, more = await self._read_journal(cursor)
            if not events:
                return
            cursor = mapper.last_event_id(events)
            async for page in self._pages_for_events(events, cursor):
                yield page
            if not more:
                return

    async def _read_journal(self, cursor: str) -> tuple[list[Any], bool]:
        """Events after `cursor`, up to `EVENTS_PER_READ` → (events, whether the journal has more)."""
        events: list[Any] = []
        while True:
            params: dict[str, Any] = {"type": list(ORDER_EVENT_TYPES), "limit": EVENTS_PER_BATCH}
            if cursor != JOURNAL_START:
                params = {"from": cursor, **params}
            body = await self._call("GET", "/order/events", params=params)
            batch = body.get("events")
            if not isinstance(batch, list):
                raise TransientMarketplaceError("GET /order/events answered without an events array")
            events.extend(batch)
            if len(batch) < EVENTS_PER_BATCH:
                return events, False
            cursor = mapper.last_event_id(batch)
            if len(events) >= EVENTS_PER_READ:
                return events, True

    def next_cursor(self, sync_started_at: datetime) -> None:
        """None: the journal's page checkpoints are the cursor, there is nothing to add after a run."""
        return None

    async def recently_updated_orders(self, since: datetime) -> AsyncIterator[OrderPage]:
        """Safety net beside the journal: every checkout form updated since `since`, oldest change first.

        The orders service runs it now and then (with its own overlap) to catch anything a lost or
        expired journal event would hide. Offset paging over `sort=updatedAt`: a form updated while we
        page moves to the end and may be read twice, which an upsert absorbs. Pages carry no cursor.
        """
        async for page in self._form_pages({"updatedAt.gte": _iso(since), "sort": "updatedAt"}):
            yield page

    async def archived_orders(self, since: datetime) -> AsyncIterator[OrderPage]:
        """Checkout forms bought since `since`, in any state (an archive import), oldest purchase first."""
        async for page in self._form_pages({"lineItems.boughtAt.gte": _iso(since), "sort": "lineItems.boughtAt"}):
            yield page

    async def get_order(self, external_id: str) -> MarketplaceOrder:
        """One checkout form. ValueError if its payload cannot be accepted."""
        return mapper.checkout_form_to_order(await self._checkout_form(_checkout_form_id(external_id)))

    async def _journal_head(self) -> str:
        stats = await self._call("GET", "/order/event-stats")
        latest = stats.get("latestEvent")
        event_id = latest.get("id") if isinstance(latest, Mapping) else None
        # No event within the journal's ~60 days (Allegro answers latestEvent null): every event it will
        # show happens after connecting, so read it from its start.
        return event_id if isinstance(event_id, str) and event_id else JOURNAL_START

    async def _pages_for_events(self, events: Sequence[Any], cursor: str) -> AsyncIterator[OrderPage]:
        """The forms `events` name: listed by update time while that pays, the rest by id; the last page
        carries `cursor`."""
        form_ids, rejected = mapper.checkout_form_ids(events)
        missing = dict.fromkeys(form_ids)
        oldest = mapper.earliest_event_time(events)
        held: list[Any] | None = None  # the latest listed forms, yielded once we know whether they end the read
        if oldest is not None and missing:
            # Listing pays while its pages hold the forms we want; past this budget, by id is cheaper.
            budget = LISTING_PAGES_PER_WANTED_PAGE * -(-len(missing) // FORMS_PER_PAGE) + 1
            filters = {"updatedAt.gte": _iso(oldest - FORM_TIME_SLACK), "sort": "updatedAt"}
            async for forms in self._form_lists(filters, max_pages=budget):
                wanted = [f for f in forms if isinstance(f, Mapping) and f.get("id") in missing]
                for form in wanted:
                    missing.pop(form["id"], None)
                if wanted:
                    if held is not None:
                        yield mapper.parse_checkout_forms(held)
                    held = wanted
                if not missing:
                    break
        if held is not None and not missing and not rejected:
            yield mapper.parse_checkout_forms(held, cursor=cursor)
            return
        if held is not None:
            yield mapper.parse_checkout_forms(held)
        yield await self._page_by_ids(list(missing), rejected, cursor)

    async def _page_by_ids(self, form_ids: Sequence[str], rejected: Sequence[RejectedOrder], cursor: str) -> OrderPage:
        gate = asyncio.Semaphore(FORM_FETCH_CONCURRENCY)

        async def fetch(form_id: str) -> Mapping[str, Any] | RejectedOrder:
            async with gate:
                try:
                    return await self._checkout_form(form_id)
                except RejectedByMarketplace as exc:
                    # e.g. 404 for a form no longer ours: report it, the batch goes on.
                    return RejectedOrder(external_id=form_id, reason=f"GET checkout form: {exc.reason}")

        # Every read finishes before a failure is raised, so none is left running behind the caller's back.
        outcomes = await asyncio.gather(*(fetch(form_id) for form_id in form_ids), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        fetched = [o for o in outcomes if not isinstance(o, BaseException)]
        forms = [f for f in fetched if not isinstance(f, RejectedOrder)]
        page = mapper.parse_checkout_forms(forms, cursor=cursor)
        failed = [f for f in fetched if isinstance(f, RejectedOrder)]
        return OrderPage(orders=page.orders, rejected=(*rejected, *failed, *page.rejected), cursor=cursor)

    async def _form_pages(self, filters: Mapping[str, str]) -> AsyncIterator[OrderPage]:
        async for forms in self._form_lists(filters):
            yield mapper.parse_checkout_forms(forms)

    async def _form_lists(self, filters: Mapping[str, str], max_pages: int | None = None) -> AsyncIterator[list[Any]]:
        """`GET /order/checkout-forms` pages of up to 100 complete forms (empty pages are not yielded)."""
        offset, pages = 0, 0
        while max_pages is None or pages < max_pages:
            params = {**filters, "limit": FORMS_PER_PAGE, "offset": offset}
            body = await self._call("GET", "/order/checkout-forms", params=params)
            pages += 1
            forms = body.get("checkoutForms")
            if not isinstance(forms, list):
                raise TransientMarketplaceError("GET /order/checkout-forms answered without a checkoutForms array")
            if forms:
                yield forms
            offset += len(forms)
            total = body.get("totalCount")
            if len(forms) < FORMS_PER_PAGE or (isinstance(total, int | float) and offset >= total):
                return

    async def _checkout_form(self, form_id: str) -> dict[str, Any]:
        return await self._call("GET", f"/order/checkout-forms/{form_id}")

    # --- fulfilment ---------------------------------------------------------------------------------

    async def push_tracking(self, push: TrackingPush) -> TrackingResult:
        """Add the parcel (`POST …/shipments`), then mark the order SENT once every line has one.

        Allegro's shipments name line items but no quantities. A push covering only part of a line's
        quantity attaches the waybill to that line but holds SENT back; a later push for the same line
        counts as its remainder. Adding a shipment is not idempotent (each one notifies the buyer), so
        the order's shipments are read first and a waybill already there is returned, not added again;
        the same check runs before each retry after a 5xx or timeout. SENT is set with the form's
        current `revision`; a 409 (the form changed meanwhile) re-reads it and tries again.
        """
        form_id = _checkout_form_id(push.external_order_id)
        waybill = push.tracking_number.strip()
        if not 1 <= len(waybill) <= WAYBILL_MAX_CHARS:
            raise RejectedByMarketplace(f"tracking_number must be 1-{WAYBILL_MAX_CHARS} characters for Allegro")
        carrier = await self._choose_carrier(push.carrier)
        form = await self._checkout_form(form_id)
        if form.get("status") == mapper.CANCELLED_STATUS:
            raise RejectedByMarketplace(f"the buyer cancelled Allegro order {form_id}; nothing to ship")
        ordered = _ordered_quantities(form)
        line_ids = _push_line_ids(push, ordered)
        shipment, earlier = await self._add_shipment(form_id, carrier, waybill, line_ids)

        sent_before = mapper.sent_line_ids(earlier, ordered)
        sent_now = sent_before | (set(line_ids) or set(ordered))
        part_of_a_line = any(qty < ordered[line_id] and line_id not in sent_before for line_id, qty in push.lines)
        fully_shipped = sent_now >= set(ordered) and not part_of_a_line
        if fully_shipped:
            await self._set_fulfillment(form_id, "SENT")
        shipment_id = shipment.get("id")
        return TrackingResult(
            marketplace_shipment_id=str(shipment_id) if shipment_id else None,
            carrier_sent=carrier.label,
            order_fully_shipped=fully_shipped,
        )

    async def cancel_order(self, external_order_id: str, reason: str | None) -> None:
        """Allegro lets only buyers (and Allegro itself) cancel; sellers have no cancel call.

        An order the buyer or Allegro already cancelled gets the seller status CANCELLED too, so the
        seller's view agrees; any other order is refused with what the seller can do instead.
        """
        form_id = _checkout_form_id(external_order_id)
        form = await self._checkout_form(form_id)
        fulfillment = form.get("fulfillment") if isinstance(form.get("fulfillment"), Mapping) else {}
        if form.get("status") == mapper.CANCELLED_STATUS or fulfillment.get("status") == mapper.CANCELLED_FULFILMENT:
            await self._set_fulfillment(form_id, mapper.CANCELLED_FULFILMENT)
            return
        raise RejectedByMarketplace(
            "Allegro does not let sellers cancel an order through its API: only the buyer can (or Allegro). "
            "Refund the buyer in Allegro and ask them to cancel; the cancellation then syncs here."
        )

    async def _choose_carrier(self, carrier: str) -> CarrierChoice:
        if self._carriers is None:
            self._carriers = CarrierDirectory.from_response(await self._call("GET", "/order/carriers"))
        try:
            return self._carriers.choose(carrier)
        except ValueError as exc:
            raise RejectedByMarketplace(str(exc)) from None

    async def _add_shipment(
        self, form_id: str, carrier: CarrierChoice, waybill: str, line_ids: Sequence[str]
    ) -> tuple[Mapping[str, Any], list[Any]]:
        """(the shipment carrying `waybill`, the order's other shipments), adding it only if it is new."""
        path = f"/order/checkout-forms/{form_id}/shipments"
        body = mapper.shipment_body(carrier.carrier_id, carrier.carrier_name, waybill, line_ids)
        attempt = 0
        while True:
            attempt += 1
            listed = (await self._call("GET", path)).get("shipments")
            shipments = listed if isinstance(listed, list) else []
            already = mapper.recorded_shipment(shipments, waybill)
            if already is not None:
                return already, [s for s in shipments if s is not already]
            try:
                return await self._call("POST", path, json_body=body), shipments
            except OutcomeUnknown as exc:
                await self._http.before_recheck(attempt, exc)

    async def _set_fulfillment(self, form_id: str, status: str) -> None:
        """PUT the seller status at the form's current revision; a 409 means it moved on: re-read, retry.

        A form already in that status (or SENT-like, for SENT: some accounts switch automatically when a
        tracking number is added) is left alone.
        """
        done = mapper.SHIPPED_FULFILMENT if status == "SENT" else {status}
        for _ in range(MAX_REVISION_RETRIES):
            form = await self._checkout_form(form_id)
            fulfillment = form.get("fulfillment") if isinstance(form.get("fulfillment"), Mapping) else {}
            if fulfillment.get("status") in done:
                return
            params = {"checkoutForm.revision": str(form["revision"])} if form.get("revision") else None
            try:
                path = f"/order/checkout-forms/{form_id}/fulfillment"
                await self._call("PUT", path, params=params, json_body={"status": status})
                return
            except RejectedByMarketplace as exc:
                if exc.status != 409:
                    raise
        raise TransientMarketplaceError(
            f"Allegro order {form_id} kept changing: fulfillment {status} refused as stale {MAX_REVISION_RETRIES} times"
        )

    # --- transport ----------------------------------------------------------------------------------

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """One API call with our headers → its JSON object ({} for 204)."""
        response = await self._authorized(method, path, **kwargs)
        return {} if response.status_code == 204 else json_object(response, method, path)

    def _auth_headers(self, token: str, *, with_body: bool) -> dict[str, str]:
        headers = {"authorization": f"Bearer {token}", "accept": MEDIA_TYPE}
        if with_body:
            headers["content-type"] = MEDIA_TYPE
        return headers


def _checkout_form_id(external_id: str) -> str:
    """Checkout-form ids are UUIDs; checking here keeps odd input out of the URL path."""
    try:
        return str(uuid.UUID(external_id.strip()))
    except (ValueError, AttributeError):
        raise RejectedByMarketplace(f"{external_id!r} is not an Allegro checkout-form id (a UUID)") from None


def _ordered_quantities(form: Mapping[str, Any]) -> dict[str, int]:
    try:
        return mapper.ordered_quantities(form)
    except ValueError as exc:
        raise TransientMarketplaceError(f"Allegro answered an unreadable checkout form: {exc}") from None


def _push_line_ids(push: TrackingPush, ordered: Mapping[str, int]) -> list[str]:
    """The line-item ids a partial push names, checked against the order (Allegro would refuse them anyway)."""
    line_ids: list[str] = []
    for line_id, quantity in push.lines:
        if line_id not in ordered:
            raise RejectedByMarketplace(f"line {line_id} is not on Allegro order {push.external_order_id}")
        if not 1 <= quantity <= ordered[line_id]:
            raise RejectedByMarketplace(f"line {line_id}: quantity {quantity} is not within 1..{ordered[line_id]} ordered")
        if line_id not in line_ids:
            line_ids.append(line_id)
    return line_ids


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("datetimes sent to Allegro must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
