"""OAuth 2.0 authorization-code grant with PKCE, as Etsy runs it.

`/oauth/connect` stands in for the etsy.com consent page: it auto-approves as the control
API's approving user and redirects with `code` + `state`. The token endpoint exchanges codes
(S256 PKCE, single use, same redirect_uri) and rotates refresh tokens: each refresh returns a
new refresh token and kills the old one, which is what makes "store the new refresh token
every time" testable.
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse

from sandbox.etsy.auth import etsy_state
from sandbox.etsy.errors import EtsyError
from sandbox.etsy.state import KNOWN_SCOPES, EtsyState
from sandbox.pkce import VERIFIER_RE, s256, with_query

router = APIRouter()


@router.get("/oauth/connect")
async def connect(request: Request) -> Any:
    """Consent page stand-in; client/redirect errors are shown, the rest go back via redirect."""
    state = etsy_state(request)
    q = request.query_params
    client_id = q.get("client_id", "")
    redirect_uri = q.get("redirect_uri", "")
    app = state.apps.get(client_id)
    if app is None:
        raise EtsyError(400, "invalid_client", "client_id is not a known application keystring")
    if not redirect_uri or urlsplit(redirect_uri).scheme not in ("http", "https"):
        raise EtsyError(400, "invalid_request", "redirect_uri must be an absolute http(s) URL")
    if app.redirect_uris and redirect_uri not in app.redirect_uris:
        raise EtsyError(400, "invalid_request", "redirect_uri is not registered for this application")

    def back(params: dict[str, str]) -> RedirectResponse:
        if q.get("state"):
            params["state"] = q["state"]
        return RedirectResponse(with_query(redirect_uri, params), status_code=302)

    def fail(error: str, description: str) -> RedirectResponse:
        return back({"error": error, "error_description": description})

    if q.get("response_type") != "code":
        return fail("unsupported_response_type", "response_type must be code")
    if not q.get("state"):
        return fail("invalid_request", "state is required")
    if not q.get("code_challenge"):
        return fail("invalid_request", "code_challenge is required")
    if q.get("code_challenge_method") != "S256":
        return fail("invalid_request", "code_challenge_method must be S256")
    scopes = q.get("scope", "").split()
    unknown = [s for s in scopes if s not in KNOWN_SCOPES]
    if not scopes or unknown:
        return fail("invalid_scope", f"invalid scope: {' '.join(unknown) or '(empty)'}")
    if state.settings.deny_consent:
        return fail("access_denied", "The user denied the request")
    user_id = state.approving_user_id()
    if user_id is None or user_id not in state.users:
        raise EtsyError(400, "invalid_request", "sandbox has no user to approve the request")
    code = state.issue_code(client_id, redirect_uri, q["code_challenge"], user_id, scopes)
    return back({"code": code.code})


async def _form(request: Request) -> dict[str, str]:
    """Etsy documents a form body; JSON is accepted too because clients send it and Etsy takes it."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = await request.json()
        except ValueError as exc:
            raise EtsyError(400, "invalid_request", "body is not valid JSON") from exc
        if not isinstance(data, dict):
            raise EtsyError(400, "invalid_request", "body must be an object")
        return {k: str(v) for k, v in data.items()}
    form = await request.form()
    return {k: str(v) for k, v in form.items()}


@router.post("/v3/public/oauth/token")
async def token(request: Request) -> JSONResponse:
    state = etsy_state(request)
    form = await _form(request)
    grant_type = form.get("grant_type", "")
    client_id = form.get("client_id", "")
    if grant_type not in ("authorization_code", "refresh_token"):
        raise EtsyError(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
    if not client_id:
        raise EtsyError(400, "invalid_request", "client_id is required")
    if client_id not in state.apps:
        raise EtsyError(401, "invalid_client", "client_id is not a known application keystring")
    if grant_type == "authorization_code":
        user_id, scopes = _redeem_code(state, form, client_id)
    else:
        user_id, scopes = _redeem_refresh(state, form, client_id)
    access, refresh = state.issue_tokens(user_id, client_id, scopes)
    return JSONResponse(
        {
            "access_token": access.token,
            "token_type": "Bearer",
            "expires_in": state.settings.access_token_ttl_s,
            "refresh_token": refresh.token,
        },
        headers={"cache-control": "no-store"},
    )


def _redeem_code(state: EtsyState, form: dict[str, str], client_id: str) -> tuple[int, list[str]]:
    for name in ("redirect_uri", "code", "code_verifier"):
        if not form.get(name):
            raise EtsyError(400, "invalid_request", f"{name} is required")
    code = state.auth_codes.get(form["code"])
    if code is None or code.client_id != client_id:
        raise EtsyError(400, "invalid_grant", "code is invalid")
    if code.used:
        raise EtsyError(400, "invalid_grant", "code has already been used")
    if code.expires_at <= state.now():
        raise EtsyError(400, "invalid_grant", "code is expired")
    if form["redirect_uri"] != code.redirect_uri:
        raise EtsyError(400, "invalid_grant", "redirect_uri does not match the authorization request")
    verifier = form["code_verifier"]
    if not VERIFIER_RE.match(verifier) or not hmac.compare_digest(s256(verifier), code.code_challenge):
        raise EtsyError(400, "invalid_grant", "code_verifier is invalid")
    code.used = True
    return code.user_id, code.scopes


def _redeem_refresh(state: EtsyState, form: dict[str, str], client_id: str) -> tuple[int, list[str]]:
    if not form.get("refresh_token"):
        raise EtsyError(400, "invalid_request", "refresh_token is required")
    refresh = state.refresh_tokens.get(form["refresh_token"])
    if refresh is None or refresh.client_id != client_id:
        raise EtsyError(400, "invalid_grant", "refresh_token is invalid")
    if refresh.status == "revoked":
        raise EtsyError(400, "invalid_grant", "refresh_token is revoked")
    if refresh.status == "used":
        raise EtsyError(400, "invalid_grant", "refresh_token has already been used")
    if refresh.expires_at <= state.now():
        raise EtsyError(400, "invalid_grant", "refresh_token is expired")
    refresh.status = "used"
    return refresh.user_id, refresh.scopes
