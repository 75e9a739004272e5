"""Minting Allegro-looking tokens: JWTs signed with the sandbox's own key.

Allegro's access and refresh tokens are JWTs (`user_name`, `scope`, `exp`, `client_id`, `jti`, …);
clients sometimes decode them to read the expiry, so the sandbox's have the same claims. The
emulator itself never trusts the claims: a token is valid only if it is in the state's table.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from typing import Any

from sandbox.allegro.state import AccessToken, AllegroState, RefreshToken

ISSUER = "https://allegro.pl.allegrosandbox.pl"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _jwt(state: AllegroState, claims: dict[str, Any]) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(state.signing_key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def _claims(user_id: str | None, client_id: str, scopes: list[str], expires_at: float, jti: str) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "scope": scopes,
        "allegro_api": True,
        "iss": ISSUER,
        "exp": int(expires_at),
        "jti": jti,
        "client_id": client_id,
    }
    if user_id is not None:
        claims["user_name"] = user_id
        claims["authorities"] = ["ROLE_USER"]
    return claims


def issue_access(state: AllegroState, user_id: str | None, client_id: str, scopes: list[str]) -> AccessToken:
    jti = str(uuid.uuid4())
    expires_at = state.now() + state.settings.access_token_ttl_s
    token = AccessToken(
        token=_jwt(state, _claims(user_id, client_id, scopes, expires_at, jti)),
        jti=jti,
        user_id=user_id,
        client_id=client_id,
        scopes=list(scopes),
        expires_at=expires_at,
    )
    state.access_tokens[token.token] = token
    return token


def issue_pair(state: AllegroState, user_id: str, client_id: str, scopes: list[str]) -> tuple[AccessToken, RefreshToken]:
    access = issue_access(state, user_id, client_id, scopes)
    expires_at = state.now() + state.settings.refresh_token_ttl_s
    claims = _claims(user_id, client_id, scopes, expires_at, str(uuid.uuid4())) | {"ati": access.jti}
    refresh = RefreshToken(
        token=_jwt(state, claims),
        user_id=user_id,
        client_id=client_id,
        scopes=list(scopes),
        expires_at=expires_at,
        access_token=access.token,
    )
    state.refresh_tokens[refresh.token] = refresh
    return access, refresh


def token_response(state: AllegroState, access: AccessToken, refresh: RefreshToken | None) -> dict[str, Any]:
    """The token endpoint's body; `expires_in` is one second short of the lifetime, as Allegro's 43199."""
    body: dict[str, Any] = {
        "access_token": access.token,
        "token_type": "bearer",
        "expires_in": max(0, state.settings.access_token_ttl_s - 1),
        "scope": " ".join(access.scopes),
        "allegro_api": True,
        "iss": ISSUER,
        "jti": access.jti,
    }
    if refresh is not None:
        body["refresh_token"] = refresh.token
    return body
