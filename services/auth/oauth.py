"""The client-credentials token request on the wire (RFC 6749 §2.3.1, §3.2, §4.4).

Reading the form and the HTTP Basic header is protocol work with rules of its own (parameters never
repeated, Basic values form-urlencoded, one authentication method per request); the use case gets a
plain `TokenRequest` or an `OAuthError` to answer with.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import unquote_plus

from starlette.datastructures import FormData
from starlette.requests import Request

from services.auth.errors import OAuthError, invalid_client, invalid_request

GRANT_TYPE = "client_credentials"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class TokenRequest:
    credentials: ClientCredentials
    scopes: frozenset[str] | None  # None: every scope the client holds


def _single(form: FormData, name: str) -> str | None:
    values = form.getlist(name)
    if len(values) > 1:
        raise invalid_request(f"{name} must not be repeated")
    value = values[0] if values else None
    if value is not None and not isinstance(value, str):
        raise invalid_request(f"{name} must be a form field, not a file")
    return value or None


def basic_credentials(authorization: str | None) -> ClientCredentials | None:
    """Credentials from `Authorization: Basic …`, or None when the header uses another scheme or is absent."""
    if not authorization:
        return None
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise invalid_client("malformed HTTP Basic credentials") from exc
    raw_id, sep, raw_secret = decoded.partition(":")
    if not sep or not raw_id:
        raise invalid_client("malformed HTTP Basic credentials")
    # RFC 6749 §2.3.1: both halves are form-urlencoded before being joined with ':'.
    return ClientCredentials(client_id=unquote_plus(raw_id), client_secret=unquote_plus(raw_secret))


async def read_token_request(request: Request) -> TokenRequest:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_CONTENT_TYPE:
        raise invalid_request(f"the request body must be {FORM_CONTENT_TYPE}")
    form = await request.form()

    grant_type = _single(form, "grant_type")
    if grant_type is None:
        raise invalid_request("grant_type is required")
    if grant_type != GRANT_TYPE:
        raise OAuthError(400, "unsupported_grant_type", f"only grant_type={GRANT_TYPE} is supported")

    form_id, form_secret = _single(form, "client_id"), _single(form, "client_secret")
    basic = basic_credentials(request.headers.get("authorization"))
    if basic is not None:
        # A client_id field naming the same client is harmless; a second secret is a second method.
        if form_secret is not None or (form_id is not None and form_id != basic.client_id):
            raise invalid_request("use either HTTP Basic or client_id/client_secret fields, not both")
        credentials = basic
    else:
        if form_id is None:
            raise invalid_request("client_id is required (or HTTP Basic credentials)")
        if form_secret is None:
            raise invalid_request("client_secret is required (or HTTP Basic credentials)")
        credentials = ClientCredentials(client_id=form_id, client_secret=form_secret)

    scope = _single(form, "scope")
    scopes = frozenset(scope.split()) if scope and scope.strip() else None
    return TokenRequest(credentials=credentials, scopes=scopes)
