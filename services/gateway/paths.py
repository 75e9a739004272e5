"""Refuse request paths whose meaning depends on who decodes them, before any routing.

The gateway matches the decoded path but forwards the raw one, so `/v1/orders/%2e%2e/x` or an encoded
`/` could be matched as one route and served as another. Nothing in the public API needs a dot segment,
an encoded dot, slash or backslash, or a NUL, so such paths are a 400 problem at the edge.
"""

from __future__ import annotations

import re

from shared.web.problems import problem_response

_ENCODED = re.compile(rb"%(2e|2f|5c|00)", re.IGNORECASE)


def path_problem(raw_path: bytes) -> str | None:
    """Why `raw_path` is refused, or None when it is safe to route."""
    if _ENCODED.search(raw_path):
        return "the path must not contain an encoded '.', '/', '\\' or NUL"
    if b"\\" in raw_path or b"\x00" in raw_path:
        return "the path must not contain '\\' or NUL"
    if any(segment in (b".", b"..") for segment in raw_path.split(b"/")):
        return "the path must not contain '.' or '..' segments"
    return None


class PathGuardMiddleware:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            reason = path_problem(scope.get("raw_path") or scope["path"].encode())
            if reason is not None:
                return await problem_response(400, reason, type_="bad-path")(scope, receive, send)
        return await self.app(scope, receive, send)
