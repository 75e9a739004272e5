"""Reads and writes of the orders schema. No business rules here: those live in ingest.py / service.py."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.models import (
    connections,
    customers,
    marketplace_webhooks,
    order_lines,
    order_shipments,
    orders,
    rejected_payloads,
    sync_states,
    webhook_deliveries,
)
from shared.db.locks import advisory_key, advisory_lock_held
from shared.db.versions import is_newer
from shared.statuses import ConnectionStatus, OrderShipmentStatus, OrderStatus
from shared.web.pagination import Cursor


async def order_by_external_id(session: AsyncSession, connection_id: uuid.UUID, external_id: str):
    return (await session.execute(
        sa.select(orders).where(orders.c.connection_id == connection_id, orders.c.external_id == external_id)
        .with_for_update()
    )).one_or_none()


async def insert_order(session: AsyncSession, values: dict, lines: list[dict]) -> bool:
    """Insert unless (connection, external id) exists; False when another writer got there first."""
    inserted = await session.execute(
        insert(orders).values(**values).on_conflict_do_nothing(constraint="uq_orders_connection_external")
        .returning(orders.c.id)
    )
    if inserted.scalar_one_or_none() is None:
        return False
    await replace_lines(session, values["id"], lines)
    return True


async def update_order(session: AsyncSession, order_id: uuid.UUID, values: dict, lines: list[dict] | None) -> None:
    await session.execute(orders.update().where(orders.c.id == order_id).values(**values, updated_at=sa.func.now()))
    if lines is not None:
        await replace_lines(session, order_id, lines)


async def replace_lines(session: AsyncSession, order_id: uuid.UUID, lines: list[dict]) -> None:
    await session.execute(order_lines.delete().where(order_lines.c.order_id == order_id))
    if lines:
        await session.execute(order_lines.insert(), [{**line, "order_id": order_id} for line in lines])


async def lines_of(session: AsyncSession, order_ids: list[uuid.UUID]) -> dict[uuid.UUID, list]:
    rows = (await session.execute(
        sa.select(order_lines).where(order_lines.c.order_id.in_(order_ids)).order_by(order_lines.c.position)
    )).all()
    by_order: dict[uuid.UUID, list] = {i: [] for i in order_ids}
    for row in rows:
        by_order[row.order_id].append(row)
    return by_order


async def shipments_of(session: AsyncSession, order_ids: list[uuid.UUID]) -> dict[uuid.UUID, list]:
    rows = (await session.execute(
        sa.select(order_shipments).where(order_shipments.c.order_id.in_(order_ids),
                                         order_shipments.c.carrier.is_not(None))  # booked, not only confirmed
        .order_by(order_shipments.c.booked_at)
    )).all()
    by_order: dict[uuid.UUID, list] = {i: [] for i in order_ids}
    for row in rows:
        by_order[row.order_id].append(row)
    return by_order


async def has_shipments(session: AsyncSession, order_id: uuid.UUID) -> bool:
    """Any shipment fulfilment told us about and has not withdrawn (booked, or confirmed by the marketplace)."""
    return (await session.execute(sa.select(sa.exists().where(
        order_shipments.c.order_id == order_id, order_shipments.c.status != OrderShipmentStatus.CANCELLED)))).scalar_one()


async def get_order(session: AsyncSession, order_id: uuid.UUID, merchant_id: uuid.UUID | None, *,
                    for_update: bool = False):
    query = sa.select(orders).where(orders.c.id == order_id)
    if merchant_id is not None:
        query = query.where(orders.c.merchant_id == merchant_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).one_or_none()


async def list_orders(session: AsyncSession, *, merchant_id: uuid.UUID | None, connection_id: uuid.UUID | None,
                      status: OrderStatus | None, updated_since: datetime | None, after: Cursor | None,
                      limit: int) -> list:
    """Keyset pagination on (updated_at, id): stable while orders keep changing."""
    query = sa.select(orders)
    if merchant_id is not None:
        query = query.where(orders.c.merchant_id == merchant_id)
    if connection_id is not None:
        query = query.where(orders.c.connection_id == connection_id)
    if status is not None:
        query = query.where(orders.c.status == status)
    if updated_since is not None:
        query = query.where(orders.c.updated_at >= updated_since)
    if after is not None:
        query = query.where(sa.tuple_(orders.c.updated_at, orders.c.id) > sa.tuple_(sa.literal(after.at), sa.literal(after.id)))
    return list((await session.execute(query.order_by(orders.c.updated_at, orders.c.id).limit(limit))).all())


async def record_rejection(session: AsyncSession, connection_id: uuid.UUID, external_id: str, reason: str) -> None:
    stmt = insert(rejected_payloads).values(connection_id=connection_id, external_id=external_id, reason=reason)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=["connection_id", "external_id"], set_={"reason": reason, "seen_at": sa.func.now()}))


async def clear_rejection(session: AsyncSession, connection_id: uuid.UUID, external_id: str) -> None:
    await session.execute(rejected_payloads.delete().where(
        rejected_payloads.c.connection_id == connection_id, rejected_payloads.c.external_id == external_id))


# --- connections projection and sync state --------------------------------------------------------------


async def apply_connection_event(session: AsyncSession, values: dict, version: int) -> None:
    """Take a connection.* event's state if its version is newer than the one applied last.

    A row is created by whichever event comes first, so a `disconnected` that overtakes `connected` is
    remembered and the late `connected` finds a newer version. Disconnected is final at auth (a shop
    connected again gets a new connection), so nothing moves a connection out of it here either.
    """
    stmt = insert(connections).values(**values, version=version)
    status = sa.case((connections.c.status == ConnectionStatus.DISCONNECTED, connections.c.status), else_=stmt.excluded.status)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=["id"],
        set_={**{k: stmt.excluded[k] for k in values if k not in ("id", "status")},
              "status": status, "version": stmt.excluded.version, "updated_at": sa.func.now()},
        where=is_newer(connections.c.version, stmt.excluded.version)))
    await session.execute(insert(sync_states).values(connection_id=values["id"]).on_conflict_do_nothing())


async def get_connection(session: AsyncSession, connection_id: uuid.UUID):
    return (await session.execute(sa.select(connections).where(connections.c.id == connection_id))).one_or_none()


async def get_sync_state(session: AsyncSession, connection_id: uuid.UUID):
    return (await session.execute(
        sa.select(sync_states).where(sync_states.c.connection_id == connection_id))).one_or_none()


def sync_lock_key(connection_id: uuid.UUID) -> int:
    """The advisory lock a connection's sync holds for its whole run, on whichever replica runs it."""
    return advisory_key(f"order-sync:{connection_id}")


async def sync_lock_held(session: AsyncSession, connection_id: uuid.UUID) -> bool:
    """Whether any replica is syncing the connection now."""
    return await advisory_lock_held(session, sync_lock_key(connection_id))


async def due_connections(session: AsyncSession, *, limit: int) -> list:
    """Active connections whose next sync is due (whoever gets the connection's sync lock runs it)."""
    return list((await session.execute(
        sa.select(sync_states.c.connection_id)
        .join(connections, connections.c.id == sync_states.c.connection_id)
        .where(connections.c.status == ConnectionStatus.ACTIVE, sync_states.c.next_run_at <= sa.func.now())
        .order_by(sync_states.c.next_run_at).limit(limit)
    )).scalars())


async def start_sync(session: AsyncSession, connection_id: uuid.UUID, *, next_run_in_s: float) -> None:
    await session.execute(sync_states.update().where(sync_states.c.connection_id == connection_id).values(
        last_started_at=sa.func.now(), last_outcome="running", runs=sync_states.c.runs + 1, manual_requested=False,
        next_run_at=sa.func.now() + sa.func.make_interval(0, 0, 0, 0, 0, 0, next_run_in_s)))


async def finish_sync(session: AsyncSession, connection_id: uuid.UUID, *, cursor: str | None, outcome: str,
                      error: str | None, counts: dict, next_run_in_s: float) -> None:
    values = {"last_finished_at": sa.func.now(), "last_outcome": outcome, "last_error": error,
              "last_counts": counts,
              "next_run_at": sa.func.now() + sa.func.make_interval(0, 0, 0, 0, 0, 0, next_run_in_s)}
    if cursor is not None:
        values["cursor"] = cursor
    await session.execute(sync_states.update().where(sync_states.c.connection_id == connection_id).values(**values))


async def request_sync_now(session: AsyncSession, connection_id: uuid.UUID) -> None:
    await session.execute(sync_states.update().where(sync_states.c.connection_id == connection_id)
                          .values(next_run_at=sa.func.now(), manual_requested=True))


async def apply_shipment_event(session: AsyncSession, values: dict, version: int) -> None:
    """Take a shipment event's state if its version is newer; carrier and tracking fill in whenever they come.

    `order.fulfilled` can overtake `shipment.booked` (two topics): it then leaves a row without carrier
    that the late booking completes without moving its status back.
    """
    stmt = insert(order_shipments).values(**values, version=version)
    newer = is_newer(order_shipments.c.version, stmt.excluded.version)
    set_ = {k: sa.func.coalesce(stmt.excluded[k], order_shipments.c[k]) for k in ("carrier", "tracking_number")
            if k in values}
    set_["status"] = sa.case((newer, stmt.excluded.status), else_=order_shipments.c.status)
    set_["version"] = sa.case((newer, stmt.excluded.version), else_=order_shipments.c.version)
    await session.execute(stmt.on_conflict_do_update(index_elements=["shipment_id"], set_=set_))


async def add_customer(session: AsyncSession, *, merchant_id: uuid.UUID, email: str, name: str | None,
                       first_order_id: uuid.UUID) -> bool:
    """True only the first time this merchant sees this e-mail."""
    inserted = await session.execute(
        insert(customers).values(merchant_id=merchant_id, email=email, name=name, first_order_id=first_order_id)
        .on_conflict_do_nothing().returning(customers.c.email))
    return inserted.scalar_one_or_none() is not None


async def save_page_cursor(session: AsyncSession, connection_id: uuid.UUID, cursor: str) -> None:
    await session.execute(sync_states.update().where(sync_states.c.connection_id == connection_id).values(cursor=cursor))


async def mark_swept(session: AsyncSession, connection_id: uuid.UUID, started_at: datetime) -> None:
    await session.execute(sync_states.update().where(sync_states.c.connection_id == connection_id)
                          .values(swept_at=started_at))


async def mark_archive_imported(session: AsyncSession, connection_id: uuid.UUID, since) -> None:
    await session.execute(sync_states.update().where(sync_states.c.connection_id == connection_id)
                          .values(archive_imported_since=since))


# --- marketplace webhooks -------------------------------------------------------------------------------


async def get_webhook_registration(session: AsyncSession, connection_id: uuid.UUID):
    return (await session.execute(sa.select(marketplace_webhooks).where(
        marketplace_webhooks.c.connection_id == connection_id))).one_or_none()


async def save_webhook_registration(session: AsyncSession, *, connection_id: uuid.UUID, destination: str,
                                    secret: str, signing_secret: str | None, hook_ids: list) -> None:
    """The connection's webhooks as now registered at the marketplace (secrets already sealed)."""
    stmt = insert(marketplace_webhooks).values(
        connection_id=connection_id, destination=destination, secret=secret, signing_secret=signing_secret,
        hook_ids=hook_ids, registered_at=sa.func.now())
    await session.execute(stmt.on_conflict_do_update(
        index_elements=["connection_id"],
        set_={"destination": destination, "hook_ids": hook_ids, "registered_at": sa.func.now(),
              "secret": stmt.excluded.secret, "signing_secret": stmt.excluded.signing_secret}))


async def record_webhook_delivery(session: AsyncSession, **values) -> bool:
    """True the first time this delivery id is seen for the connection."""
    inserted = await session.execute(insert(webhook_deliveries).values(**values).on_conflict_do_nothing()
                                     .returning(webhook_deliveries.c.delivery_id))
    return inserted.scalar_one_or_none() is not None
