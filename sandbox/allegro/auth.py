"""Bearer-token checks every REST call goes through, in Allegro's order: token, rate limit, scope.

Missing or bad tokens answer `AuthError` (401); a token without the operation's scope, or an
application token on a user resource, answers 403 `ErrorsHolder`.
"""

from __future__ import annotations

from fastapi import Request

from sandbox.allegro.errors import AllegroError, AuthError
from sandbox.allegro.ratelimit import admit
from sandbox.allegro.state import AccessToken, AllegroState

ORDERS_READ = "allegro:api:orders:read"
ORDERS_WRITE = "allegro:api:orders:write"
PROFILE_READ = "allegro:api:profile:read"


def allegro_state(request: Request) -> AllegroState:
    return request.app.state.allegro


def require_token(request: Request, scope: str | None, user_context: bool = True) -> AccessToken:
    """Validate the bearer token; `scope=None` means any token of the app will do (dictionaries)."""
    state = allegro_state(request)
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AuthError(401, "unauthorized", "Full authentication is required to access this resource")
    token = state.access_tokens.get(value.strip())
    if token is None or token.revoked:
        raise AuthError(401, "invalid_token", "Invalid access token")
    if token.expires_at <= state.now():
        raise AuthError(401, "invalid_token", f"Access token expired: {value.strip()[:16]}…")

    settings = state.settings
    wait = admit(state.rate_windows, token.client_id, settings.rate_per_minute, state.now())
    if wait:
        headers = {"retry-after": str(wait)} if settings.retry_after_header else {}
        raise AllegroError(429, "TooManyRequestsException", "Too many requests", headers=headers)

    if user_context and token.user_id is None:
        raise AllegroError(403, "AccessDenied", "Access is denied: this resource needs a token with user context")
    if scope is not None and scope not in token.scopes:
        raise AllegroError(403, "AccessDenied", f"Access is denied: the token lacks the {scope} scope")
    return token


def seller_id(token: AccessToken) -> str:
    assert token.user_id is not None
    return token.user_id
