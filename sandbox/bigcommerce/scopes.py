"""OAuth scope names of store-level API accounts and what each emulated endpoint needs.

A modify scope implies its read-only twin (`store_v2_orders` can read orders). Webhooks need no
scope: every API account can manage its own hooks (webhooks.v3 spec, securitySchemes).

BigCommerce has no endpoint that reports a token's scopes; the merchant sees them only in the
control panel. A client learns them by probing one cheap endpoint per scope and reading 403s,
which is why `PROBES` exists: each entry is a request that is answered 403 exactly when the scope
is missing, and otherwise has no side effect.
"""

from __future__ import annotations

from dataclasses import dataclass

# Parameter names from the docs' scope table (api-accounts.mdx) and the specs' securitySchemes.
MODIFY_TO_READ_ONLY = {
    "store_v2_orders": "store_v2_orders_read_only",
    "store_v2_transactions": "store_v2_transactions_read_only",
    "store_v2_products": "store_v2_products_read_only",
    "store_inventory": "store_inventory_read_only",
    "store_v2_information": "store_v2_information_read_only",
    "store_v2_customers": "store_v2_customers_read_only",
    "store_v2_content": "store_v2_content_read_only",
    "store_v2_marketing": "store_v2_marketing_read_only",
    "store_cart": "store_cart_read_only",
    "store_checkout": "store_checkout_read_only",
    "store_channel_settings": "store_channel_settings_read_only",
    "store_sites": "store_sites_read_only",
    "store_themes_manage": "store_themes_read_only",
    "store_v2_default": "store_v2_default_read_only",
}
KNOWN_SCOPES = frozenset(MODIFY_TO_READ_ONLY) | frozenset(MODIFY_TO_READ_ONLY.values())


@dataclass(frozen=True)
class ScopeNeed:
    """Scopes of which any one grants access."""

    accepted: frozenset[str]

    @classmethod
    def read(cls, modify_scope: str) -> ScopeNeed:
        return cls(frozenset({modify_scope, MODIFY_TO_READ_ONLY[modify_scope]}))

    @classmethod
    def modify(cls, modify_scope: str) -> ScopeNeed:
        return cls(frozenset({modify_scope}))

    def granted_by(self, scopes: frozenset[str]) -> bool:
        return bool(self.accepted & scopes)


ORDERS_READ = ScopeNeed.read("store_v2_orders")
ORDERS_MODIFY = ScopeNeed.modify("store_v2_orders")
INFORMATION_READ = ScopeNeed.read("store_v2_information")
PRODUCTS_READ = ScopeNeed.read("store_v2_products")
INVENTORY_READ = ScopeNeed.read("store_inventory")

# scope -> (method, path under /stores/{hash}, json body): 403 iff the scope (or its modify twin) is missing.
PROBES: dict[str, tuple[str, str, dict | None]] = {
    "store_v2_information_read_only": ("GET", "/v2/store", None),
    "store_v2_orders_read_only": ("GET", "/v2/orders?limit=1", None),
    # Scope is checked before the order is looked up, so order 0 gives 404 with the scope, 403 without.
    "store_v2_orders": ("PUT", "/v2/orders/0", {"status_id": 11}),
    "store_v2_products_read_only": ("GET", "/v3/catalog/products?limit=1", None),
    "store_inventory_read_only": ("GET", "/v3/inventory/items?limit=1", None),
}
PRODUCTS_MODIFY = ScopeNeed.modify("store_v2_products")
INVENTORY_MODIFY = ScopeNeed.modify("store_inventory")
