"""Etsy's OAuth 2.0 authorization-code grant with PKCE: the helpers the auth service's connect flow uses.

authlib supplies the PKCE primitives (verifier + S256 challenge). The token calls are plain httpx form
posts rather than authlib's `AsyncOAuth2Client`: Etsy wants a public-client body (`client_id` in the
form, no client authentication), and we need the exact status and `error` of each failure to tell a
dead grant (`invalid_grant` → `AuthorizationLost`) from a passing outage (`TransientMarketplaceError`);
the OAuth client folds those into one `OAuthError` and adds its own token-refresh machinery that would
compete with auth's single-flight refresh.

Nothing here retries. An authorization code is single-use and Etsy rotates the refresh token on every
refresh, so a request that reached Etsy and lost its answer has already spent what it sent; whether
to try again is the caller's decision.
"""

from __future__ import annotations

from shared.marketplaces.oauth import OAuthApp, PkceGrant, TokenSet, new_pkce_pair
from shared.settings import Settings

__all__ = ["EtsyGrant", "TokenSet", "authorization_url", "exchange_code", "new_pkce_pair", "refresh"]


class EtsyGrant(PkceGrant):
    """Etsy's consent page and token endpoint; a public client (Etsy wants `client_id` in the form)."""

    name = "Etsy"

    @classmethod
    def app(cls, settings: Settings) -> OAuthApp:
        return OAuthApp(authorize_url=settings.etsy_authorize_url, token_url=settings.etsy_token_url,
                        client_id=settings.etsy_client_id, scope=settings.etsy_scopes)


authorization_url = EtsyGrant.authorization_url
exchange_code = EtsyGrant.exchange_code
refresh = EtsyGrant.refresh
