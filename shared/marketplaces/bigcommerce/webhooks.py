"""Checking a BigCommerce webhook delivery before trusting it. Pure: headers and body in, payload out.

BigCommerce's documented way to authenticate deliveries is a custom header given when the hook is
created (`headers` on `POST /v3/hooks`), sent back verbatim with every delivery; we put a per-connection
secret there. Deliveries are also signed the Standard Webhooks way (`webhook-id`, `webhook-timestamp`,
`webhook-signature`, keyed with the API account's client secret). When we know that signing secret the
signature is required, so a leaked custom header alone forges nothing; its timestamp bounds replays.
The `webhook-id` is the delivery's idempotency key (the same across BigCommerce's retries).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

SECRET_HEADER = "X-ChannelBridge-Webhook-Secret"
ORDER_SCOPES = ("store/order/created", "store/order/statusUpdated")
TIMESTAMP_TOLERANCE_S = 300  # Standard Webhooks' recommended window
_SIGNING_PREFIX = "whsec_"


def verify_delivery(
    headers: Mapping[str, str],
    body: bytes,
    secret: str,
    *,
    signing_secret: str | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """The delivery's payload (`scope`, `data.id`, `hash`, …) once it proves it came from BigCommerce.

    `secret` is what we registered in the custom header. `signing_secret` keys the Standard Webhooks
    signature (the API account's client secret; `whsec_<base64>` secrets are decoded as that spec
    says); when it is given the signature headers are required, without it they are checked (keyed
    with the custom secret) only when present. Raises ValueError naming what failed.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    given = lowered.get(SECRET_HEADER.lower())
    if not secret:
        raise ValueError("webhook secret is not configured")
    if given is None:
        raise ValueError(f"{SECRET_HEADER} header is missing")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        raise ValueError(f"{SECRET_HEADER} header does not match")
    standard = [lowered.get(h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature")]
    if signing_secret and not any(standard):
        raise ValueError("webhook-id, webhook-timestamp and webhook-signature headers are missing: "
                         "this connection's deliveries must be signed")
    if any(standard):
        _verify_signature(*standard, body=body, key=_signing_key(signing_secret or secret), now=now)
    return _payload(body)


def delivery_id(headers: Mapping[str, str], payload: Mapping[str, Any]) -> str:
    """What identifies one delivery for deduplication: the Standard Webhooks `webhook-id` (one per event,
    kept across retries), else, for an unsigned delivery, the payload's `hash`."""
    lowered = {k.lower(): v for k, v in headers.items()}
    webhook_id = lowered.get("webhook-id")
    return f"id:{webhook_id}" if webhook_id else f"hash:{payload['hash']}"


def sign(body: bytes, key_secret: str, webhook_id: str, timestamp: int) -> str:
    """A `webhook-signature` value (`v1,<base64 HMAC-SHA256>`) for `{id}.{timestamp}.{body}`."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(_signing_key(key_secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _verify_signature(webhook_id: str | None, timestamp: str | None, signatures: str | None, *, body: bytes,
                      key: bytes, now: float | None) -> None:
    for name, value in (("webhook-id", webhook_id), ("webhook-timestamp", timestamp),
                        ("webhook-signature", signatures)):
        if not value:
            raise ValueError(f"{name} header is missing (the other Standard Webhooks headers are present)")
    assert webhook_id is not None and timestamp is not None and signatures is not None
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise ValueError(f"webhook-timestamp must be epoch seconds, got {timestamp!r}") from None
    current = time.time() if now is None else now
    if abs(current - sent_at) > TIMESTAMP_TOLERANCE_S:
        raise ValueError(f"webhook-timestamp is outside the {TIMESTAMP_TOLERANCE_S}s tolerance (stale or replayed)")
    expected = hmac.new(key, f"{webhook_id}.{sent_at}.".encode() + body, hashlib.sha256).digest()
    # The header may list several space-separated signatures (key rotation); one valid v1 is enough.
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version != "v1":
            continue
        try:
            decoded = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            continue
        if hmac.compare_digest(decoded, expected):
            return
    raise ValueError("webhook-signature does not match the body")


def _signing_key(secret: str) -> bytes:
    if secret.startswith(_SIGNING_PREFIX):
        try:
            return base64.b64decode(secret[len(_SIGNING_PREFIX):], validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("signing secret with whsec_ prefix is not valid base64") from None
    return secret.encode()


def _payload(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValueError("body is not JSON") from None
    if not isinstance(payload, dict):
        raise ValueError("body must be a JSON object")
    if not isinstance(payload.get("scope"), str) or not payload["scope"]:
        raise ValueError("scope is missing")
    data = payload.get("data")
    if not isinstance(data, dict) or isinstance(data.get("id"), bool) or not isinstance(data.get("id"), int):
        raise ValueError("data.id must be an integer")
    if not isinstance(payload.get("hash"), str) or not payload["hash"]:
        raise ValueError("hash is missing")
    return payload


def webhook_destination(public_base_url: str, webhook_path: str, connection_id: object) -> str:
    """Where a connection's deliveries go: a public gateway route, one per connection (so each delivery
    is checked against that connection's secret). The orders service registers it; auth removes it."""
    return f"{public_base_url.rstrip('/')}{webhook_path}/{connection_id}"
