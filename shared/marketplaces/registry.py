"""Marketplace name → adapter. The one place a service learns which client speaks to which platform."""

from __future__ import annotations

from shared.marketplaces.base import OrderSource, TokenProvider
from shared.settings import Settings


def order_source(marketplace: str, settings: Settings, tokens: TokenProvider, *, shop_id: str | None) -> OrderSource:
    if marketplace == "etsy":
        from shared.marketplaces.etsy.client import EtsyClient

        return EtsyClient(settings, tokens, shop_id=shop_id)
    if marketplace == "bigcommerce":
        from shared.marketplaces.bigcommerce.client import BigCommerceClient

        return BigCommerceClient(settings, tokens, shop_id=shop_id)
    if marketplace == "allegro":
        from shared.marketplaces.allegro.client import AllegroClient

        return AllegroClient(settings, tokens, shop_id=shop_id)
    raise ValueError(f"marketplace {marketplace!r} is not supported")
