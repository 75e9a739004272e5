"""Scheduled and on-demand order sync per connection.

A connection's sync runs under a Postgres advisory lock held on its own database connection: two
replicas never sync one shop at once, and a crashed syncer frees the lock with its connection. Each
page is stored in its own transaction, and the cursor advances only after the last page, so a sync
killed midway restarts from the old cursor and the upserts make the repeat harmless.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.orders import repository as repo
from services.orders import webhooks
from services.orders.ingest import IngestPolicy, ingest_order, live_policy
from shared.auth_client import AuthClient, ConnectionNotFound
from shared.crypto import SecretBox
from shared.db.locks import holding_lock
from shared.marketplaces.base import (
    AuthorizationLost,
    MarketplaceError,
    OrderWebhooks,
    RecentlyUpdatedOrders,
    SyncWindow,
    TransientMarketplaceError,
)
from shared.marketplaces.registry import order_source
from shared.settings import Settings
from shared.wakeup import wait_for_wakeup

log = structlog.get_logger(__name__)

MAX_CONCURRENT_SYNCS = 4
RETRY_AFTER_FAILURE_S = 30.0


class OrderSync:
    def __init__(self, settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession],
                 auth: AuthClient, box: SecretBox) -> None:
        self._settings = settings
        self._box = box
        self._engine = engine
        self._sessions = sessions
        self._auth = auth
        self._wakeup = asyncio.Event()
        self.running: set[uuid.UUID] = set()
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_SYNCS)

    def poke(self) -> None:
        """Look for due syncs now instead of at the next tick (after `POST …/sync` or a new connection)."""
        self._wakeup.set()

    async def run_forever(self, tick_s: float = 2.0) -> None:
        tasks: set[asyncio.Task] = set()
        while True:
            try:
                async with self._sessions() as session:
                    due = await repo.due_connections(session, limit=50)
                for connection_id in due:
                    if connection_id not in self.running:
                        self.running.add(connection_id)
                        task = asyncio.create_task(self._guarded(connection_id))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
            except Exception:
                log.exception("orders.scheduler_failed")
            self._wakeup.clear()
            await wait_for_wakeup(self._wakeup, tick_s)

    async def _guarded(self, connection_id: uuid.UUID) -> None:
        try:
            async with self._slots:
                await self.sync_connection(connection_id)
        finally:
            self.running.discard(connection_id)

    async def sync_connection(self, connection_id: uuid.UUID) -> dict | None:
        """Run one sync if no one else is; returns its counts, or None when another syncer holds the shop."""
        async with (self._engine.connect() as lock_conn,
                    holding_lock(lock_conn, repo.sync_lock_key(connection_id), wait=False) as held):
            return await self._sync_locked(connection_id) if held else None

    async def _sync_locked(self, connection_id: uuid.UUID) -> dict:
        interval = self._settings.order_sync_interval_s
        async with self._sessions() as session, session.begin():
            connection = await repo.get_connection(session, connection_id)
            state = await repo.get_sync_state(session, connection_id)
            await repo.start_sync(session, connection_id, next_run_in_s=interval)
        if connection is None or connection.status != "active":
            return {}
        try:
            settings = await self.connection_settings(connection_id)
        except (TransientMarketplaceError, ConnectionNotFound) as exc:
            return await self._finish(connection_id, None, "failed", str(exc), Counter(), RETRY_AFTER_FAILURE_S)
        if not settings.get("auto_import_orders", True) and not state.manual_requested:
            return await self._finish(connection_id, None, "skipped", "auto_import_orders is off", Counter(), interval)

        source = self.source_for(connection)
        log.info("orders.sync_started", connection_id=str(connection_id), cursor=state.cursor)
        try:
            await self._ensure_webhooks(connection, source)
            return await self._run(source, connection, state, settings)
        finally:
            await source.aclose()

    async def _run(self, source, connection, state, settings: dict) -> dict:
        connection_id, interval = connection.id, self._settings.order_sync_interval_s
        counts: Counter[str] = Counter()
        started_at = datetime.now(UTC)
        live = live_policy(settings)
        archive_since = settings.get("import_archived_orders_since")
        try:
            if archive_since and str(state.archive_imported_since) != archive_since:
                since = datetime.fromisoformat(archive_since).replace(tzinfo=UTC)
                await self._ingest(connection, source.archived_orders(since), IngestPolicy(archive=True), counts)
                async with self._sessions() as session, session.begin():
                    await repo.mark_archive_imported(session, connection_id, since.date())
            window = SyncWindow(cursor=state.cursor, overlap_s=self._settings.order_sync_overlap_s)
            await self._ingest(connection, source.paid_unshipped_orders(window), live, counts)
            # Event-journal marketplaces (Allegro) sweep now and then for what a lost journal event would hide.
            if isinstance(source, RecentlyUpdatedOrders) and (
                since := self._sweep_since(connection, state, started_at)
            ) is not None:
                await self._ingest(connection, source.recently_updated_orders(since), live, counts)
                async with self._sessions() as session, session.begin():
                    await repo.mark_swept(session, connection_id, started_at)
        except AuthorizationLost as exc:
            # auth has moved the connection to needs_reauth and told everyone; stop until it is reconnected.
            return await self._finish(connection_id, None, "needs_reauth", str(exc), counts, interval)
        except MarketplaceError as exc:
            log.warning("orders.sync_failed", connection_id=str(connection_id), error=str(exc))
            return await self._finish(connection_id, None, "failed", str(exc), counts, min(interval, RETRY_AFTER_FAILURE_S))
        except Exception as exc:
            log.exception("orders.sync_crashed", connection_id=str(connection_id))
            return await self._finish(connection_id, None, "failed", repr(exc), counts, min(interval, RETRY_AFTER_FAILURE_S))
        return await self._finish(connection_id, source.next_cursor(started_at), "ok", None, counts, interval)

    def _sweep_since(self, connection, state, started_at: datetime) -> datetime | None:
        """Where the safety-net sweep under an event journal starts, or None when it is not due.

        The first sweep starts when the connection became active: the journal's cursor is taken at the
        first sync, so what happened between connecting and that sync is only seen here. Later sweeps
        run every `order_sweep_interval_s` (and on a manual "sync now", whose caller may be missing an
        order) from a little (the overlap) before the last one started, to catch what a lost or expired
        journal event would hide; they never look before the connection (history is an archive
        import's business).
        """
        floor = connection.connected_at or connection.updated_at
        if state.swept_at is None and connection.connected_at is None:
            # Known from before `connected_at` was kept, when every run swept: carry on from that window
            # rather than re-reading everything since the connection.
            window = self._settings.order_sync_interval_s + self._settings.order_sync_overlap_s
            return max(started_at - timedelta(seconds=window), floor)
        if state.swept_at is None:
            return floor
        due = (started_at - state.swept_at).total_seconds() >= self._settings.order_sweep_interval_s
        if not due and not state.manual_requested:
            return None
        return max(state.swept_at - timedelta(seconds=self._settings.order_sync_overlap_s), floor)

    async def _ingest(self, connection, pages, policy: IngestPolicy, counts: Counter[str]) -> None:
        """Each page, its events and its cursor checkpoint (if any) in one transaction."""
        async for page in pages:
            async with self._sessions() as session, session.begin():
                for order in page.orders:
                    counts[await ingest_order(session, connection, order, policy)] += 1
                    await repo.clear_rejection(session, connection.id, order.external_id)
                for rejected in page.rejected:
                    counts["rejected"] += 1
                    log.warning("orders.payload_rejected", connection_id=str(connection.id),
                                external_id=rejected.external_id, reason=rejected.reason)
                    await repo.record_rejection(session, connection.id, rejected.external_id, rejected.reason)
                if page.cursor is not None:
                    await repo.save_page_cursor(session, connection.id, page.cursor)

    def source_for(self, connection):
        """The marketplace client for a connection; the caller closes it."""
        return order_source(connection.marketplace, self._settings, self._auth.token_provider(connection.id),
                            shop_id=connection.shop_id)

    async def _ensure_webhooks(self, connection, source) -> None:
        if not isinstance(source, OrderWebhooks):
            return
        try:
            secret = await self._auth.signing_secret(connection.id)
            await webhooks.ensure_registered(self._sessions, self._box, self._settings, connection, source,
                                             secret.value)
        except Exception as exc:  # the sync is the safety net: a failed registration is retried next run
            log.warning("orders.webhooks_not_registered", connection_id=str(connection.id), error=repr(exc))

    async def connection_settings(self, connection_id: uuid.UUID) -> dict:
        """Settings live with the connection in auth; read fresh at the start of every run.

        Raises AuthUnavailable (transient) or ConnectionNotFound.
        """
        return dict((await self._auth.connection(connection_id)).settings)

    async def _finish(self, connection_id, cursor, outcome, error, counts, next_run_in_s) -> dict:
        async with self._sessions() as session, session.begin():
            await repo.finish_sync(session, connection_id, cursor=cursor, outcome=outcome, error=error,
                                   counts=dict(counts), next_run_in_s=next_run_in_s)
        log.info("orders.sync_finished", connection_id=str(connection_id), outcome=outcome, **counts)
        return dict(counts)
