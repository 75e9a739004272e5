"""What both OAuth emulators (Etsy, Allegro) check and build the same way: PKCE and the redirect back."""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlencode, urlsplit, urlunsplit

VERIFIER_RE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")  # RFC 7636 §4.1


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def with_query(uri: str, params: dict[str, str]) -> str:
    """`uri` with `params` appended to whatever query it already has."""
    parts = urlsplit(uri)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
