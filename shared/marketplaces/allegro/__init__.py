"""Allegro REST API: `mapper` (pure payload translation), `carriers` (carrier ids), `client` (HTTP per
seller), `oauth` (connect flow)."""

from shared.marketplaces.allegro import carriers, client, mapper, oauth
from shared.marketplaces.allegro.client import AllegroClient, allegro_http
from shared.marketplaces.allegro.oauth import TokenSet, authorization_url, exchange_code, new_pkce_pair, refresh

__all__ = [
    "AllegroClient",
    "TokenSet",
    "allegro_http",
    "authorization_url",
    "carriers",
    "client",
    "exchange_code",
    "mapper",
    "new_pkce_pair",
    "oauth",
    "refresh",
]
