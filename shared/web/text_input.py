"""Refuse NUL characters in request text (422 naming the field) before any handler sees them.

PostgreSQL cannot store U+0000 in `text`, so a NUL that reached a query failed as a 500 after the
request had been accepted. One middleware in every service checks what text comes in as: the query
string, the path, JSON bodies (every string and key, at any depth) and form bodies. Bodies are already
bounded by the body limit; only requests that contain an encoded NUL at all are parsed a second time.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, unquote_to_bytes

from shared.web.problems import problem_response

MESSAGE = "must not contain NUL (U+0000) characters"
_BODY_METHODS = {"POST", "PUT", "PATCH"}


def _nul_in_pairs(raw: bytes) -> str | None:
    if b"%00" not in raw and b"\x00" not in raw:
        return None
    for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if "\x00" in key or "\x00" in value:
            return key.replace("\x00", "") or "?"
    return None


def _nul_in_json(node, path: tuple[str, ...] = ()) -> str | None:
    if isinstance(node, str):
        return (".".join(path) or "body") if "\x00" in node else None
    if isinstance(node, dict):
        for key, value in node.items():
            if "\x00" in key:
                return ".".join((*path, key.replace("\x00", ""))) or "body"
            if (found := _nul_in_json(value, (*path, key))) is not None:
                return found
    if isinstance(node, list):
        for index, value in enumerate(node):
            if (found := _nul_in_json(value, (*path, str(index)))) is not None:
                return found
    return None


def _nul_in_body(content_type: str, body: bytes) -> str | None:
    if content_type == "application/json" or content_type.endswith("+json"):
        if b"\\u0000" not in body:
            return None
        try:
            return _nul_in_json(json.loads(body))
        except ValueError:
            return None  # not JSON: the route's own validation answers 422 for that
    if content_type == "application/x-www-form-urlencoded":
        return _nul_in_pairs(body)
    return None


def _refuse(field: str, location: str):
    return problem_response(422, f"{field}: {MESSAGE}", type_="validation-error",
                            errors=[{"field": field, "location": location, "message": MESSAGE}])


class NulCharacterMiddleware:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if b"\x00" in unquote_to_bytes(scope.get("raw_path") or scope["path"].encode()):
            return await _refuse("path", "path")(scope, receive, send)
        if (field := _nul_in_pairs(scope.get("query_string", b""))) is not None:
            return await _refuse(field, "query")(scope, receive, send)
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
        if scope["method"] not in _BODY_METHODS or not (
                content_type.endswith("json") or content_type == "application/x-www-form-urlencoded"):
            return await self.app(scope, receive, send)

        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the caller went away
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if (field := _nul_in_body(content_type, body)) is not None:
            return await _refuse(field, "body")(scope, receive, send)

        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
