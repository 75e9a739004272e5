"""The gateway checks every API call goes through, in order: token, rate limit, scope.

BigCommerce authenticates with the `X-Auth-Token` header alone (client id is not needed for
REST). A token is valid only for the store it was issued for. Rate-limit headers are left on
`request.state` so the middleware copies them onto whatever response the handler produces.
"""

from __future__ import annotations

import hmac

from fastapi import Request

from sandbox.bigcommerce.errors import gateway_error
from sandbox.bigcommerce.scopes import ScopeNeed
from sandbox.bigcommerce.state import ApiAccount, BigCommerceState, Store

UNAUTHORIZED = "Unauthorized - the v3 Auth client ID or token in the request are not a valid combination for this store."
MISSING_SCOPE = "You don't have a required scope to access the endpoint"
TOO_MANY_REQUESTS = "Too many requests"


def bc_state(request: Request) -> BigCommerceState:
    return request.app.state.bigcommerce


def _account_for(state: BigCommerceState, token: str) -> ApiAccount | None:
    for candidate, account in state.accounts.items():
        if hmac.compare_digest(candidate, token):
            return account
    return None


def authorize(request: Request, store_hash: str, need: ScopeNeed | None) -> tuple[Store, ApiAccount]:
    """401 for a missing/unknown/other-store token, 429 over quota, 403 when `need` is not granted."""
    state = bc_state(request)
    token = request.headers.get("x-auth-token", "").strip()
    account = _account_for(state, token) if token else None
    store = state.stores.get(store_hash)
    settings = state.settings
    if account is None or store is None or account.store_hash != store_hash:
        if store is not None:  # the headers ride on every response; a rejected call spends nothing
            request.state.rate_headers = state.quota.take(
                store_hash, settings.rate_limit_quota, settings.rate_limit_window_ms, consume=False
            ).headers
        raise gateway_error(401, UNAUTHORIZED)
    request.state.client_id = account.client_id
    verdict = state.quota.take(store_hash, settings.rate_limit_quota, settings.rate_limit_window_ms)
    request.state.rate_headers = verdict.headers
    if not verdict.allowed:
        raise gateway_error(429, TOO_MANY_REQUESTS, headers=verdict.headers)
    if need is not None and not need.granted_by(account.scopes):
        raise gateway_error(403, MISSING_SCOPE)
    return store, account
