"""What seeing a held order again does: stale copies, archive imports, content hashes and cancellations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from services.orders.rules import change_on_resight
from services.orders.snapshots import content_hash
from shared.events.payloads import Address, Buyer, OrderLine
from shared.statuses import OrderStatus
from tests.orders.factories import UPDATED_AT, an_order


@dataclass(frozen=True)
class Held:
    status: OrderStatus
    marketplace_updated_at: datetime
    content_hash: str


def _held(status=OrderStatus.PAID, *, order=None, updated_at=UPDATED_AT) -> Held:
    return Held(status, updated_at, content_hash(order or an_order()))


def _resight(held: Held, order, *, archive=False):
    return change_on_resight(held, order, content_hash(order), archive=archive)


def test_the_same_order_seen_again_changes_nothing():
    assert _resight(_held(), an_order()) == ("unchanged", OrderStatus.PAID)


def test_a_newer_copy_with_only_a_new_timestamp_changes_nothing():
    assert _resight(_held(), an_order(updated_at=UPDATED_AT + timedelta(hours=1))) == ("unchanged", OrderStatus.PAID)


def test_a_copy_older_than_the_held_one_is_stale_even_when_it_differs():
    older = an_order(updated_at=UPDATED_AT - timedelta(seconds=1), state="cancelled", marketplace_status="canceled")
    assert _resight(_held(), older) == ("stale", OrderStatus.PAID)


def test_a_copy_as_old_as_the_held_one_is_not_stale():
    changed = an_order(marketplace_status="paid, gift wrapped")
    assert _resight(_held(), changed) == ("updated", OrderStatus.PAID)


def test_an_archive_import_never_rewrites_a_held_order():
    newer_and_shipped = an_order(updated_at=UPDATED_AT + timedelta(days=1), state="shipped")
    assert _resight(_held(), newer_and_shipped, archive=True) == ("unchanged", OrderStatus.PAID)


def test_a_changed_address_is_an_update():
    moved = an_order(shipping_address=Address(name="Ada Buyer", line1="2 Elm St", city="Springfield",
                                              postal_code="12345", country_code="US"))
    assert _resight(_held(), moved) == ("updated", OrderStatus.PAID)


def test_shipped_at_the_marketplace_is_an_update_to_shipped():
    assert _resight(_held(), an_order(state="shipped")) == ("updated", OrderStatus.SHIPPED)


def test_the_first_report_of_a_cancellation_is_a_cancellation():
    cancelled = an_order(state="cancelled", marketplace_status="canceled")
    assert _resight(_held(), cancelled) == ("cancelled", OrderStatus.CANCELLED)


def test_a_cancellation_seen_again_with_new_details_is_an_update_not_a_second_cancellation():
    cancelled = an_order(state="cancelled", marketplace_status="canceled")
    refunded = an_order(state="cancelled", marketplace_status="fully refunded")
    held = _held(OrderStatus.CANCELLED, order=cancelled)
    assert _resight(held, cancelled) == ("unchanged", OrderStatus.CANCELLED)
    assert _resight(held, refunded) == ("updated", OrderStatus.CANCELLED)


def test_a_cancelled_order_reported_paid_again_stays_cancelled():
    held = _held(OrderStatus.CANCELLED, order=an_order(state="cancelled"))
    assert _resight(held, an_order()) == ("updated", OrderStatus.CANCELLED)


def test_the_content_hash_ignores_timestamps_and_the_external_id_it_is_stored_with():
    base = content_hash(an_order())
    later = an_order(updated_at=UPDATED_AT + timedelta(days=2), placed_at=None, paid_at=None, external_id="other")
    assert content_hash(later) == base


def test_the_content_hash_sees_everything_a_consumer_could_care_about():
    base = content_hash(an_order())
    variants = [
        an_order(state="shipped"), an_order(marketplace_status="completed"),
        an_order(buyer=Buyer(name="Ada Buyer", email="ada@example.org")),
        an_order(billing_address=Address(name="Ada Buyer", line1="PO Box 9", country_code="US")),
        an_order(lines=(OrderLine(external_id="L1", title="Mug", sku="MUG-1", quantity=1,
                                  unit_price=Decimal("9.50")),)),
        an_order(total=Decimal("19.01")), an_order(currency="EUR"),
    ]
    hashes = [content_hash(variant) for variant in variants]
    assert base not in hashes and len(set(hashes)) == len(hashes)
