"""Caller identity passed from the gateway to services in signed headers.

The gateway verifies the caller's JWT, strips any `X-CB-*` headers the caller sent, and adds the
identity with an HMAC over every field, a timestamp, the request id, the method and the request target
(raw path and query exactly as sent upstream). A service accepts the identity only when the signature
checks out against the request it received and is at most `CB_IDENTITY_MAX_AGE_S` (10 s) old, so a
service reached directly cannot be fooled by forged headers, and captured headers cannot be replayed
on another route, another method or after the window.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Generator
from dataclasses import dataclass

import httpx
import structlog
from fastapi import Depends, HTTPException, Request, status

CLIENT_ID = "x-cb-client-id"
MERCHANT_ID = "x-cb-merchant-id"
SCOPES = "x-cb-scopes"
TIMESTAMP = "x-cb-identity-ts"
SIGNATURE = "x-cb-identity-sig"
REQUEST_ID = "x-request-id"
IDENTITY_HEADERS = (CLIENT_ID, MERCHANT_ID, SCOPES, TIMESTAMP, SIGNATURE)
DEFAULT_MAX_AGE_S = 10


@dataclass(frozen=True)
class Identity:
    client_id: str
    merchant_id: uuid.UUID | None
    scopes: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return "admin" in self.scopes


def request_target(raw_path: bytes | str, query: bytes | str = b"") -> str:
    """The request target a signature covers: the raw (still percent-encoded) path plus `?query` if any."""
    path = raw_path.decode("latin-1") if isinstance(raw_path, bytes) else raw_path
    query = query.decode("latin-1") if isinstance(query, bytes) else query
    return f"{path}?{query}" if query else path


def _mac(secret: str, fields: tuple[str, ...]) -> str:
    message = "\n".join(("cb-identity-v2", *fields)).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def identity_headers(secret: str, identity: Identity, request_id: str, *, method: str, target: str,
                     issued_at: float | None = None) -> dict[str, str]:
    """Headers the gateway adds to a proxied request for `method target` (signed now unless `issued_at`)."""
    merchant = str(identity.merchant_id) if identity.merchant_id else ""
    scopes = " ".join(sorted(identity.scopes))
    ts = str(int(time.time() if issued_at is None else issued_at))
    return {
        CLIENT_ID: identity.client_id,
        MERCHANT_ID: merchant,
        SCOPES: scopes,
        TIMESTAMP: ts,
        SIGNATURE: _mac(secret, (identity.client_id, merchant, scopes, request_id, ts, method.upper(), target)),
    }


def verify_identity(secret: str, headers, request_id: str, *, method: str, target: str,
                    max_age_s: int = DEFAULT_MAX_AGE_S) -> Identity | None:
    """The identity in `headers` if the gateway signed it for this request within `max_age_s`, else None."""
    sig = headers.get(SIGNATURE)
    if not sig or not secret:
        return None
    client_id, merchant, scopes = headers.get(CLIENT_ID, ""), headers.get(MERCHANT_ID, ""), headers.get(SCOPES, "")
    ts = headers.get(TIMESTAMP, "")
    if not ts.isdigit() or abs(time.time() - int(ts)) > max_age_s:
        return None
    expected = _mac(secret, (client_id, merchant, scopes, request_id, ts, method.upper(), target))
    if not hmac.compare_digest(sig, expected):
        return None
    try:
        merchant_id = uuid.UUID(merchant) if merchant else None
    except ValueError:
        return None
    return Identity(client_id=client_id, merchant_id=merchant_id, scopes=frozenset(scopes.split()))


class SignedIdentity(httpx.Auth):
    """httpx auth that signs `identity` onto every request it sends, bound to that request's method and target.

    Used by services calling each other (`shared.web.internal`) and by tests that play the gateway.
    """

    def __init__(self, secret: str, identity: Identity) -> None:
        self._secret = secret
        self.identity = identity

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request_id = (request.headers.get(REQUEST_ID)
                      or structlog.contextvars.get_contextvars().get("request_id") or str(uuid.uuid4()))
        request.headers[REQUEST_ID] = request_id
        target = request.url.raw_path.decode("ascii")
        request.headers.update(identity_headers(self._secret, self.identity, request_id,
                                                method=request.method, target=target))
        yield request


def current_identity(request: Request) -> Identity:
    """FastAPI dependency: the verified caller, or 401."""
    settings = request.app.state.settings
    target = request_target(request.scope.get("raw_path") or request.scope["path"].encode(),
                            request.scope.get("query_string", b""))
    identity = verify_identity(settings.internal_secret.get_secret_value(), request.headers,
                               request.headers.get(REQUEST_ID, ""), method=request.method, target=target,
                               max_age_s=settings.identity_max_age_s)
    if identity is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or invalid caller identity")
    return identity


def require_scope(scope: str):
    """FastAPI dependency factory: the caller must hold `scope` (the gateway checks too; this is depth)."""

    def dependency(identity: Identity = Depends(current_identity)) -> Identity:
        if scope not in identity.scopes:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"scope {scope!r} required")
        return identity

    return dependency
