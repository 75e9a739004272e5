"""Failed client authentications at the token endpoint, limited per client id.

The gateway reads the (small, size-limited) token request to learn which client id it names, refuses
with 429 while that id has used up its failures, and counts a failure whenever auth answers 401.
Client secrets are 256-bit random, so guessing is hopeless anyway; the limit stops a caller from
turning the token endpoint into free work, and shows up in logs as one noisy client id.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qs, unquote_plus


def token_client_id(authorization: str | None, body: bytes) -> str | None:
    """The client id a token request names (HTTP Basic first, as auth reads it), or None."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() == "basic":
        try:
            raw_id, sep, _secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return unquote_plus(raw_id) if sep and raw_id else None
    try:
        values = parse_qs(body.decode(), max_num_fields=20).get("client_id", [])
    except (UnicodeDecodeError, ValueError):
        return None
    return values[0] if len(values) == 1 and values[0] else None
