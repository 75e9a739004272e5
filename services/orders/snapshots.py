"""Canonical order ⇄ rows ⇄ event payloads. Pure functions, so events and API answers agree by construction."""

from __future__ import annotations

import hashlib
import json
import uuid

from shared.events.payloads import Address, Buyer, OrderLine, OrderSnapshot
from shared.marketplaces.base import MarketplaceOrder


def content_hash(order: MarketplaceOrder) -> str:
    """Fingerprint of everything a consumer could care about; equal hash = nothing worth an event."""
    canonical = {
        "state": order.state, "status": order.marketplace_status, "buyer": order.buyer.model_dump(mode="json"),
        "shipping": order.shipping_address.model_dump(mode="json"),
        "billing": order.billing_address.model_dump(mode="json"),
        "lines": [line.model_dump(mode="json") for line in order.lines],
        "total": str(order.total), "currency": order.currency,
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def order_values(order: MarketplaceOrder) -> dict:
    """Columns of `orders` that come from the marketplace (ids and status are the caller's)."""
    return {
        "marketplace_status": order.marketplace_status,
        "buyer": order.buyer.model_dump(mode="json"),
        "shipping_address": order.shipping_address.model_dump(mode="json"),
        "billing_address": order.billing_address.model_dump(mode="json"),
        "billing_copied_from_shipping": order.billing_copied_from_shipping,
        "total": order.total,
        "currency": order.currency,
        "placed_at": order.placed_at,
        "paid_at": order.paid_at,
        "marketplace_updated_at": order.updated_at,
        "content_hash": content_hash(order),
    }


def line_values(order: MarketplaceOrder) -> list[dict]:
    return [{"position": i, "external_id": line.external_id, "title": line.title, "sku": line.sku,
             "quantity": line.quantity, "unit_price": line.unit_price, "variations": line.variations}
            for i, line in enumerate(order.lines)]


def snapshot(row, lines, model: type[OrderSnapshot] = OrderSnapshot, **extra) -> OrderSnapshot:
    return model(
        order_id=row.id, merchant_id=row.merchant_id, connection_id=row.connection_id,
        marketplace=row.marketplace, external_id=row.external_id, status=row.status,
        buyer=Buyer.model_validate(row.buyer),
        shipping_address=Address.model_validate(row.shipping_address),
        billing_address=Address.model_validate(row.billing_address),
        billing_copied_from_shipping=row.billing_copied_from_shipping,
        lines=[OrderLine(external_id=line.external_id, title=line.title, sku=line.sku, quantity=line.quantity,
                         unit_price=line.unit_price, variations=line.variations) for line in lines],
        total=row.total, currency=row.currency, placed_at=row.placed_at, paid_at=row.paid_at, **extra,
    )


def new_order_id() -> uuid.UUID:
    return uuid.uuid4()
