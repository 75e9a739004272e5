"""Header checks every v3 call goes through, in Etsy's order: api key, rate limit, bearer, scope.

Rate-limit headers are left on `request.state` so the middleware can copy them onto whatever
response the handler ends up producing (success or error), as Etsy does.
"""

from __future__ import annotations

import hmac

from fastapi import Request

from sandbox.etsy.errors import EtsyError
from sandbox.etsy.state import AccessToken, App, EtsyState

SHARED_SECRET_REQUIRED = "Shared secret is required in x-api-key header."


def etsy_state(request: Request) -> EtsyState:
    return request.app.state.etsy


def require_api_key(request: Request) -> App:
    """Validate `x-api-key` (`keystring:secret`, or bare keystring when allowed) and meter it."""
    state = etsy_state(request)
    raw = request.headers.get("x-api-key")
    if not raw:
        raise EtsyError(403, "Missing x-api-key header.")
    keystring, sep, secret = raw.partition(":")
    app = state.apps.get(keystring)
    if app is None:
        raise EtsyError(403, "Invalid API key")
    if not sep:
        if state.settings.require_shared_secret:
            raise EtsyError(403, SHARED_SECRET_REQUIRED)
    elif not hmac.compare_digest(secret, app.secret):
        raise EtsyError(403, "Invalid API key")

    settings = state.settings
    verdict = state.limiter.check(app.client_id, settings.rate_per_second, settings.rate_per_day)
    request.state.rate_headers = verdict.headers
    if not verdict.allowed:
        raise EtsyError(429, "You have exceeded your quota of requests; please retry later.", headers=verdict.headers)
    return app


def require_token(request: Request, app: App, scope: str) -> AccessToken:
    """Bearer token check: 401 `invalid_token` when absent/expired/revoked, 403 when under-scoped."""
    state = etsy_state(request)
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise EtsyError(401, "invalid_token", "access token is missing")
    token = state.access_tokens.get(value.strip())
    if token is None:
        raise EtsyError(401, "invalid_token", "access token is invalid")
    if token.revoked:
        raise EtsyError(401, "invalid_token", "access token is revoked")
    if token.expires_at <= state.now():
        raise EtsyError(401, "invalid_token", "access token is expired")
    if token.client_id != app.client_id:
        raise EtsyError(401, "invalid_token", "access token was issued to a different application")
    if scope not in token.scopes:
        raise EtsyError(403, "insufficient_scope", f"this endpoint requires the {scope} scope")
    return token
