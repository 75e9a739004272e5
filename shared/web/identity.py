"""Caller identity passed from the gateway to services in signed headers.

The gateway verifies the caller's JWT, strips any `X-CB-*` headers the caller sent, and adds the
identity with an HMAC over every field and a timestamp. A service accepts the identity only when the
signature checks out, so a service reached directly (bypassing the gateway) cannot be fooled by
forged headers.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request, status

CLIENT_ID = "x-cb-client-id"
MERCHANT_ID = "x-cb-merchant-id"
SCOPES = "x-cb-scopes"
TIMESTAMP = "x-cb-identity-ts"
SIGNATURE = "x-cb-identity-sig"
REQUEST_ID = "x-request-id"
IDENTITY_HEADERS = (CLIENT_ID, MERCHANT_ID, SCOPES, TIMESTAMP, SIGNATURE)
MAX_SKEW_S = 60


@dataclass(frozen=True)
class Identity:
    client_id: str
    merchant_id: uuid.UUID | None
    scopes: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return "admin" in self.scopes


def _mac(secret: str, client_id: str, merchant_id: str, scopes: str, request_id: str, ts: str) -> str:
    message = "\n".join(("cb-identity-v1", client_id, merchant_id, scopes, request_id, ts)).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def identity_headers(secret: str, identity: Identity, request_id: str) -> dict[str, str]:
    """Headers the gateway adds to a proxied request."""
    merchant = str(identity.merchant_id) if identity.merchant_id else ""
    scopes = " ".join(sorted(identity.scopes))
    ts = str(int(time.time()))
    return {
        CLIENT_ID: identity.client_id,
        MERCHANT_ID: merchant,
        SCOPES: scopes,
        TIMESTAMP: ts,
        SIGNATURE: _mac(secret, identity.client_id, merchant, scopes, request_id, ts),
    }


def verify_identity(secret: str, headers, request_id: str) -> Identity | None:
    """The identity in `headers` if the gateway signed it recently, else None."""
    sig = headers.get(SIGNATURE)
    if not sig or not secret:
        return None
    client_id, merchant, scopes = headers.get(CLIENT_ID, ""), headers.get(MERCHANT_ID, ""), headers.get(SCOPES, "")
    ts = headers.get(TIMESTAMP, "")
    if not ts.isdigit() or abs(time.time() - int(ts)) > MAX_SKEW_S:
        return None
    if not hmac.compare_digest(sig, _mac(secret, client_id, merchant, scopes, request_id, ts)):
        return None
    try:
        merchant_id = uuid.UUID(merchant) if merchant else None
    except ValueError:
        return None
    return Identity(client_id=client_id, merchant_id=merchant_id, scopes=frozenset(scopes.split()))


def current_identity(request: Request) -> Identity:
    """FastAPI dependency: the verified caller, or 401."""
    secret = request.app.state.settings.internal_secret.get_secret_value()
    identity = verify_identity(secret, request.headers, request.headers.get(REQUEST_ID, ""))
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
