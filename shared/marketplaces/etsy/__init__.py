"""Etsy Open API v3: `mapper` (pure payload translation), `client` (HTTP per shop), `oauth` (connect flow)."""

from shared.marketplaces.etsy import client, mapper, oauth
from shared.marketplaces.etsy.client import EtsyClient, etsy_http
from shared.marketplaces.etsy.oauth import TokenSet, authorization_url, exchange_code, new_pkce_pair, refresh

__all__ = [
    "EtsyClient",
    "TokenSet",
    "authorization_url",
    "client",
    "etsy_http",
    "exchange_code",
    "mapper",
    "new_pkce_pair",
    "oauth",
    "refresh",
]
