"""OAuth 2.0 as allegro.pl runs it: authorization code (+ optional PKCE), refresh, client credentials.

`/auth/oauth/authorize` stands in for the consent page: it auto-approves as the control API's
approving user and redirects with `code` + `state`. The token endpoint authenticates the client
with HTTP Basic only and reads its parameters from the query string (as Allegro's docs show) or
a form body. Refresh rotates the pair: the old access token dies at once, the old refresh token
keeps working for a grace window after its first use (~60 s on Allegro) and then dies.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse

from sandbox.allegro import tokens
from sandbox.allegro.auth import allegro_state
from sandbox.allegro.errors import AuthError
from sandbox.allegro.state import AllegroState, App, AuthCode
from sandbox.pkce import VERIFIER_RE, s256, with_query

router = APIRouter(prefix="/auth/oauth")

NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}


@router.get("/authorize")
async def authorize(request: Request) -> Any:
    """Consent stand-in; client/redirect errors are shown, the rest go back to the app by redirect."""
    state = allegro_state(request)
    q = request.query_params
    app = state.apps.get(q.get("client_id", ""))
    redirect_uri = q.get("redirect_uri", "")
    if app is None:
        raise AuthError(400, "invalid_client", "Invalid client_id")
    if not redirect_uri or urlsplit(redirect_uri).scheme not in ("http", "https"):
        raise AuthError(400, "invalid_request", "redirect_uri must be an absolute http(s) URL")
    if app.redirect_uris and redirect_uri not in app.redirect_uris:
        raise AuthError(400, "invalid_request", "Invalid redirect_uri")

    def back(params: dict[str, str]) -> RedirectResponse:
        if q.get("state"):
            params["state"] = q["state"]
        return RedirectResponse(with_query(redirect_uri, params), status_code=302)

    if q.get("response_type") != "code":
        return back({"error": "unsupported_response_type", "error_description": "response_type must be code"})
    challenge = q.get("code_challenge") or None
    method = q.get("code_challenge_method") or "plain"
    if challenge is not None and method not in ("S256", "plain"):
        return back({"error": "invalid_request", "error_description": "code_challenge_method must be S256 or plain"})
    scopes = q.get("scope", "").split() or list(app.scopes)
    unknown = [s for s in scopes if s not in app.scopes]
    if unknown:
        return back({"error": "invalid_scope", "error_description": f"Invalid scope: {' '.join(unknown)}"})
    if state.settings.deny_consent:
        return back({"error": "access_denied", "error_description": "User denied access"})
    user_id = state.approving_user_id()
    if user_id is None or user_id not in state.users:
        raise AuthError(400, "invalid_request", "sandbox has no user to approve the request")
    code = AuthCode(
        code=secrets.token_urlsafe(24),
        client_id=app.client_id,
        redirect_uri=redirect_uri,
        code_challenge=challenge,
        code_challenge_method=method,
        user_id=user_id,
        scopes=scopes,
        expires_at=state.now() + state.settings.auth_code_ttl_s,
    )
    state.auth_codes[code.code] = code
    return back({"code": code.code})


def _client(state: AllegroState, request: Request) -> App:
    """HTTP Basic `client_id:client_secret`; the only client authentication Allegro takes."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        raise AuthError(401, "unauthorized", "Full authentication is required to access this resource")
    try:
        client_id, _, secret = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthError(400, "invalid_request", "Unauthorized") from None
    app = state.apps.get(client_id)
    if app is None or not hmac.compare_digest(secret, app.client_secret):
        raise AuthError(400, "invalid_request", "Unauthorized")
    return app


async def _params(request: Request) -> dict[str, str]:
    """Query string (Allegro's documented style) overlaid by a form body when one is sent."""
    params = dict(request.query_params)
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = await request.form()
        params.update({k: str(v) for k, v in form.items()})
    return params


@router.post("/token")
async def token(request: Request) -> JSONResponse:
    state = allegro_state(request)
    app = _client(state, request)
    params = await _params(request)
    grant_type = params.get("grant_type", "")
    if grant_type == "client_credentials":
        access = tokens.issue_access(state, None, app.client_id, app.scopes)
        return JSONResponse(tokens.token_response(state, access, None), headers=NO_STORE)
    if grant_type == "authorization_code":
        user_id, scopes = _redeem_code(state, params, app)
    elif grant_type == "refresh_token":
        user_id, scopes = _redeem_refresh(state, params, app)
    else:
        raise AuthError(400, "unsupported_grant_type", f"Unsupported grant type: {grant_type or '(none)'}")
    access, refresh = tokens.issue_pair(state, user_id, app.client_id, scopes)
    return JSONResponse(tokens.token_response(state, access, refresh), headers=NO_STORE)


def _redeem_code(state: AllegroState, params: dict[str, str], app: App) -> tuple[str, list[str]]:
    for name in ("code", "redirect_uri"):
        if not params.get(name):
            raise AuthError(400, "invalid_request", f"Missing parameter: {name}")
    code = state.auth_codes.get(params["code"])
    if code is None or code.client_id != app.client_id:
        raise AuthError(400, "invalid_grant", f"Invalid authorization code: {params['code']}")
    if code.used:
        raise AuthError(400, "invalid_grant", "Authorization code has already been used")
    if code.expires_at <= state.now():
        raise AuthError(400, "invalid_grant", "Authorization code has expired")
    if params["redirect_uri"] != code.redirect_uri:
        raise AuthError(400, "invalid_grant", "Redirect URI mismatch.")
    if code.code_challenge is not None:
        verifier = params.get("code_verifier", "")
        expected = s256(verifier) if code.code_challenge_method == "S256" else verifier
        if not VERIFIER_RE.match(verifier) or not hmac.compare_digest(expected, code.code_challenge):
            raise AuthError(400, "invalid_grant", "Invalid code_verifier")
    code.used = True
    return code.user_id, code.scopes


def _redeem_refresh(state: AllegroState, params: dict[str, str], app: App) -> tuple[str, list[str]]:
    value = params.get("refresh_token", "")
    if not value:
        raise AuthError(400, "invalid_request", "Missing parameter: refresh_token")
    refresh = state.refresh_tokens.get(value)
    now = state.now()
    if refresh is None or refresh.client_id != app.client_id:
        raise AuthError(400, "invalid_grant", "Invalid refresh token")
    if refresh.revoked:
        raise AuthError(400, "invalid_grant", "Invalid refresh token (revoked)")
    if refresh.expires_at <= now:
        raise AuthError(400, "invalid_grant", "Invalid refresh token (expired)")
    if refresh.first_used_at is not None and now > refresh.first_used_at + state.settings.refresh_grace_s:
        raise AuthError(400, "invalid_grant", "Invalid refresh token (already used)")
    if refresh.first_used_at is None:
        refresh.first_used_at = now
        previous_access = state.access_tokens.get(refresh.access_token)
        if previous_access is not None:
            previous_access.revoked = True
    return refresh.user_id, refresh.scopes
