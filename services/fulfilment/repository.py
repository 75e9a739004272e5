"""Reads and writes of the fulfilment schema."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.fulfilment.models import orders, shipments
from shared.db.versions import is_newer, next_version
from shared.statuses import OrderStatus, ShipmentStatus

_insert_order = insert(orders)
# Newer versions only, and cancelled stays cancelled: the orders service never moves an order out of it.
# Lines are kept from the first snapshot that had them: a later one may carry what the marketplace still has to
# ship (BigCommerce counts our own pushed shipments as shipped), and our shipments are subtracted from the
# lines here, so taking it would count them twice.
_UPSERT_ORDER = _insert_order.on_conflict_do_update(
    index_elements=["order_id"],
    set_={"lines": sa.case((sa.func.jsonb_array_length(orders.c.lines) == 0, _insert_order.excluded.lines),
                           else_=orders.c.lines),
          "version": _insert_order.excluded.version,
          "status": sa.case((orders.c.status == OrderStatus.CANCELLED, orders.c.status), else_=_insert_order.excluded.status),
          "updated_at": sa.func.now()},
    where=is_newer(orders.c.version, _insert_order.excluded.version))


async def upsert_orders(session: AsyncSession, rows: list[dict]) -> None:
    """One call for many order snapshots; per order the newest version wins (the later row on a tie),
    within the batch and against what is stored."""
    latest: dict = {}
    for row in rows:
        kept = latest.get(row["order_id"])
        if kept is None or row["version"] >= kept["version"]:
            latest[row["order_id"]] = row
    await session.execute(_UPSERT_ORDER, list(latest.values()))


async def record_cancellation(session: AsyncSession, values: dict, version: int) -> None:
    """Cancelled whatever came before; an order not seen yet gets a row with no lines, so the `order.paid`
    that arrives after its cancellation finds a newer version and cannot make it shippable."""
    stmt = insert(orders).values(**values, status=OrderStatus.CANCELLED, lines=[], version=version)
    await session.execute(stmt.on_conflict_do_update(index_elements=["order_id"], set_={
        "status": OrderStatus.CANCELLED, "version": sa.func.greatest(orders.c.version, stmt.excluded.version),
        "updated_at": sa.func.now()}))


async def withdraw_unpushed_shipments(session: AsyncSession, order_id: uuid.UUID, reason: str) -> list:
    """Cancel the order's shipments whose tracking has not reached the marketplace → (id, merchant_id, version)
    of each, its version bumped for the `shipment.cancelled` the caller stages."""
    withdrawn = await session.execute(
        shipments.update().where(shipments.c.order_id == order_id, shipments.c.status == ShipmentStatus.PENDING)
        .values(status=ShipmentStatus.CANCELLED, failure_reason=reason, version=shipments.c.version + 1, updated_at=sa.func.now())
        .returning(shipments.c.id, shipments.c.merchant_id, shipments.c.version))
    return list(withdrawn.all())


async def get_order(session: AsyncSession, order_id: uuid.UUID, merchant_id: uuid.UUID | None, *,
                    for_update: bool = False):
    """`for_update` locks the row until commit: bookings and cancellations of one order take turns."""
    query = sa.select(orders).where(orders.c.order_id == order_id)
    if merchant_id is not None:
        query = query.where(orders.c.merchant_id == merchant_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).one_or_none()


async def shipment_by_idempotency_key(session: AsyncSession, merchant_id: uuid.UUID, key: str):
    return (await session.execute(sa.select(shipments).where(
        shipments.c.merchant_id == merchant_id, shipments.c.idempotency_key == key))).one_or_none()


async def insert_shipment(session: AsyncSession, values: dict) -> None:
    await session.execute(shipments.insert().values(**values))


async def get_shipment(session: AsyncSession, shipment_id: uuid.UUID, merchant_id: uuid.UUID | None):
    query = sa.select(shipments).where(shipments.c.id == shipment_id)
    if merchant_id is not None:
        query = query.where(shipments.c.merchant_id == merchant_id)
    return (await session.execute(query)).one_or_none()


async def next_shipment_version(session: AsyncSession, shipment_id: uuid.UUID) -> int:
    return await next_version(session, shipments, shipments.c.id, shipment_id)


async def shipped_quantities(session: AsyncSession, order_id: uuid.UUID, ordered: dict[str, int]) -> dict[str, int]:
    """Per order line, the quantity already in non-failed shipments; a shipment with empty `lines` shipped
    everything that was left (`ordered`: each line's quantity)."""
    rows = (await session.execute(sa.select(shipments.c.lines).where(
        shipments.c.order_id == order_id, shipments.c.status != ShipmentStatus.FAILED))).scalars()
    shipped: dict[str, int] = {}
    for lines in rows:
        if not lines:
            return dict(ordered)
        for line in lines:
            shipped[line["order_line_external_id"]] = shipped.get(line["order_line_external_id"], 0) + line["quantity"]
    return shipped


async def claim_due_pushes(session: AsyncSession, *, lease_s: float, limit: int) -> list:
    """Pending shipments whose push is due, leased so a crashed pusher's work comes back after `lease_s`."""
    due = (sa.select(shipments.c.id)
           .where(shipments.c.status == ShipmentStatus.PENDING, shipments.c.next_attempt_at <= sa.func.now())
           .order_by(shipments.c.next_attempt_at).limit(limit).with_for_update(skip_locked=True)).scalar_subquery()
    claimed = await session.execute(
        shipments.update().where(shipments.c.id.in_(due))
        .values(push_attempts=shipments.c.push_attempts + 1,
                next_attempt_at=sa.func.now() + sa.func.make_interval(0, 0, 0, 0, 0, 0, lease_s))
        .returning(shipments)
    )
    return list(claimed.all())


async def renew_push_lease(session: AsyncSession, shipment_id: uuid.UUID, *, lease_s: float) -> bool:
    """Extend the lease of a push still running; False if the shipment is no longer pending."""
    renewed = await session.execute(
        shipments.update().where(shipments.c.id == shipment_id, shipments.c.status == ShipmentStatus.PENDING)
        .values(next_attempt_at=sa.func.now() + sa.func.make_interval(0, 0, 0, 0, 0, 0, lease_s))
        .returning(shipments.c.id))
    return renewed.first() is not None


async def mark_shipment(session: AsyncSession, shipment_id: uuid.UUID, *, while_pending: bool = False,
                        retry_in_s: float | None = None, **values) -> None:
    """`while_pending`: only if nothing withdrew the shipment meanwhile (a failed push of a withdrawn
    shipment leaves it withdrawn); `retry_in_s`: the next push is due that many seconds from now."""
    if retry_in_s is not None:
        values["next_attempt_at"] = sa.func.now() + sa.func.make_interval(0, 0, 0, 0, 0, 0, retry_in_s)
    query = shipments.update().where(shipments.c.id == shipment_id)
    if while_pending:
        query = query.where(shipments.c.status == ShipmentStatus.PENDING)
    await session.execute(query.values(**values, updated_at=sa.func.now()))
