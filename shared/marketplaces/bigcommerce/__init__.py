"""BigCommerce (store-level API accounts): `mapper` (pure payload translation), `client` (HTTP per store),
`credentials` (connect: store hash + live scope check), `webhooks` (delivery verification), `quota`
(the store's rate quota)."""

from shared.marketplaces.bigcommerce import client, credentials, mapper, quota, webhooks
from shared.marketplaces.bigcommerce.client import BigCommerceClient
from shared.marketplaces.bigcommerce.credentials import CredentialCheck, check_credentials, parse_store_hash
from shared.marketplaces.bigcommerce.quota import bigcommerce_http
from shared.marketplaces.bigcommerce.webhooks import verify_delivery

__all__ = [
    "BigCommerceClient",
    "CredentialCheck",
    "bigcommerce_http",
    "check_credentials",
    "client",
    "credentials",
    "mapper",
    "parse_store_hash",
    "quota",
    "verify_delivery",
    "webhooks",
]
