"""Marketplace name → adapter. The one place a service learns which client speaks to which platform."""

from __future__ import annotations

from shared.marketplaces.base import OrderSource, TokenProvider
from shared.settings import Settings


def order_source(marketplace: str, settings: Settings, tokens: TokenProvider, *, shop_id: str | None) -> OrderSource:
    if marketplace == "etsy":
        from shared.marketplaces.etsy.client import EtsyClient

        return EtsyClient(settings, tokens, shop_id=shop_id)
    raise ValueError(f"marketplace {marketplace!r} is not supported")
