"""Capabilities are declared, not probed: each client inherits exactly the protocols it implements, and
services branch on `isinstance` (no servers needed to check the declarations themselves)."""

from __future__ import annotations

import inspect
from datetime import datetime
from typing import Protocol

import pytest

from shared.marketplaces.allegro.client import AllegroClient
from shared.marketplaces.base import (
    CAPABILITIES,
    FetchOrder,
    OrderSource,
    OrderWebhooks,
    PublishListing,
    RecentlyUpdatedOrders,
    SetStock,
)
from shared.marketplaces.bigcommerce.client import BigCommerceClient
from shared.marketplaces.etsy.client import EtsyClient
from shared.marketplaces.registry import order_source
from shared.settings import Settings

DECLARED = {
    EtsyClient: {FetchOrder},
    BigCommerceClient: {FetchOrder, OrderWebhooks},
    AllegroClient: {FetchOrder, RecentlyUpdatedOrders},
}


def _members(protocol: type) -> set[str]:
    """The methods a protocol asks for (its own and those of the protocols it extends)."""
    return {
        name
        for base in protocol.__mro__
        if base not in (Protocol, object) and getattr(base, "_is_protocol", False)
        for name, value in vars(base).items()
        if inspect.isfunction(value) and not name.startswith("__")
    }


def _implemented(client: type, protocol: type) -> bool:
    """Every member is defined by a concrete class, not inherited as a protocol's empty stub."""
    for name in _members(protocol):
        owner = next((c for c in client.__mro__ if name in vars(c)), None)
        if owner is None or getattr(owner, "_is_protocol", False):
            return False
    return True


def _declared(client: type) -> set[type]:
    return {capability for capability in CAPABILITIES if capability in client.__mro__}


@pytest.mark.parametrize("client", list(DECLARED), ids=lambda c: c.__name__)
def test_each_client_declares_exactly_the_capabilities_it_implements(client: type) -> None:
    assert OrderSource in client.__mro__ and _implemented(client, OrderSource)
    assert _declared(client) == DECLARED[client]
    for capability in CAPABILITIES:
        assert _implemented(client, capability) == (capability in DECLARED[client]), capability.__name__


async def _token(force_refresh: bool = False) -> str:
    return "token"


@pytest.mark.parametrize("marketplace", ["etsy", "bigcommerce", "allegro"])
async def test_services_see_the_declared_capabilities_through_isinstance(marketplace: str) -> None:
    source = order_source(marketplace, Settings(), _token, shop_id="store1")
    try:
        assert isinstance(source, OrderSource)
        seen = {capability for capability in CAPABILITIES if isinstance(source, capability)}
        assert seen == DECLARED[type(source)]
        # Declared for the listings and stock work, implemented by no client yet.
        assert not isinstance(source, PublishListing | SetStock)
    finally:
        await source.aclose()


def test_a_declared_capability_left_unimplemented_is_caught() -> None:
    """The check above is not vacuous: inheriting a protocol without writing its methods is found out."""

    class Forgetful(EtsyClient, RecentlyUpdatedOrders):
        pass

    class Implemented(EtsyClient, RecentlyUpdatedOrders):
        async def recently_updated_orders(self, since: datetime):  # pragma: no cover - never called
            yield

    assert not _implemented(Forgetful, RecentlyUpdatedOrders)
    assert _implemented(Implemented, RecentlyUpdatedOrders)
    assert _members(OrderWebhooks) == {"get_order", "register_order_webhooks", "remove_order_webhooks"}


def test_order_webhooks_imply_fetching_the_order_a_delivery_names() -> None:
    assert FetchOrder in OrderWebhooks.__mro__
