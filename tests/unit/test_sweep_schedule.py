"""When the safety-net sweep under Allegro's journal runs, and from where (OrderSync._sweep_since, pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from services.orders.sync import OrderSync
from shared.settings import Settings

CONNECTED = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def since(*, swept_ago_s: float | None, manual: bool = False, connected_at=CONNECTED):
    settings = Settings(order_sweep_interval_s=900, order_sync_overlap_s=600, order_sync_interval_s=60)
    sync = OrderSync(settings, None, None, None, None)
    connection = SimpleNamespace(connected_at=connected_at, updated_at=CONNECTED + timedelta(hours=1))
    swept_at = None if swept_ago_s is None else NOW - timedelta(seconds=swept_ago_s)
    return sync._sweep_since(connection, SimpleNamespace(swept_at=swept_at, manual_requested=manual), NOW)


def test_the_first_sweep_starts_when_the_connection_became_active() -> None:
    assert since(swept_ago_s=None) == CONNECTED


def test_a_connection_known_from_before_connected_at_keeps_the_old_window() -> None:
    """Every run used to sweep the last interval + overlap: a migrated projection carries on from there
    instead of re-reading everything since it connected."""
    assert since(swept_ago_s=None, connected_at=None) == NOW - timedelta(seconds=60 + 600)


def test_later_sweeps_wait_for_their_interval_unless_the_merchant_asks() -> None:
    assert since(swept_ago_s=60) is None
    assert since(swept_ago_s=60, manual=True) == NOW - timedelta(seconds=60 + 600)
    assert since(swept_ago_s=900) == NOW - timedelta(seconds=900 + 600)


def test_a_sweep_never_looks_before_the_connection() -> None:
    assert since(swept_ago_s=3 * 3600 + 60) == CONNECTED
