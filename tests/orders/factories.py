"""Canonical orders for the pure rule tests: one paid order, varied one field at a time."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

from shared.events.payloads import Address, Buyer, OrderLine
from shared.marketplaces.base import MarketplaceOrder

UPDATED_AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def an_order(**changes) -> MarketplaceOrder:
    address = Address(name="Ada Buyer", line1="1 Main St", city="Springfield", postal_code="12345", country_code="US")
    order = MarketplaceOrder(
        external_id="1001", state="paid", buyer=Buyer(name="Ada Buyer", email="ada@example.com"),
        shipping_address=address, billing_address=address, billing_copied_from_shipping=True,
        lines=(OrderLine(external_id="L1", title="Mug", sku="MUG-1", quantity=2, unit_price=Decimal("9.50")),),
        total=Decimal("19.00"), currency="USD", placed_at=UPDATED_AT, paid_at=UPDATED_AT, updated_at=UPDATED_AT,
        marketplace_status="paid")
    return dataclasses.replace(order, **changes)
