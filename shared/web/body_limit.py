"""Request body limits: 413 problem+json before a byte of an oversized body is read.

A declared `Content-Length` over the limit is answered at once; a chunked body is counted as it
streams and refused the moment it passes the limit, so neither the gateway nor a service ever holds
more than the limit in memory. Limits are per path prefix (the token endpoint and webhooks take far
less than the default).

After the 413 has been written, the rest of the body is read and thrown away for at most
`LINGER_S` seconds and `LINGER_BYTES` bytes before the connection closes (what nginx calls a lingering
close): most HTTP clients send the whole body before they read the answer, and closing on unread data
makes the kernel reset the connection, so they would see a reset instead of the 413.

Written here rather than taken from Starlette's `RequestBodyLimitMiddleware` because that one answers
plain text, has a single limit per app, waits until the app reads before refusing, and resets clients.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from shared.settings import Settings
from shared.web.problems import Problem, problem_response

TOKEN_PATH = "/v1/oauth/token"
LINGER_S = 5.0
LINGER_BYTES = 16 * 1024 * 1024
WEBHOOKS_PREFIX = "/v1/webhooks/"


class BodyTooLarge(Problem):
    """Raised from `receive` when a streamed body passes the limit; FastAPI re-raises HTTP errors as they are."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body exceeds {limit} bytes", type_="body-too-large", max_bytes=limit)
        self.limit = limit


@dataclass(frozen=True)
class BodyLimits:
    default: int
    by_prefix: tuple[tuple[str, int], ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> BodyLimits:
        return cls(default=settings.max_body_bytes,
                   by_prefix=((TOKEN_PATH, settings.max_token_body_bytes),
                              (WEBHOOKS_PREFIX, settings.max_webhook_body_bytes)))

    def for_path(self, path: str) -> int:
        return next((limit for prefix, limit in self.by_prefix if path.startswith(prefix)), self.default)


def _too_large(limit: int):
    exc = BodyTooLarge(limit)
    return problem_response(413, exc.detail, type_=exc.type_, headers={"Connection": "close"}, **exc.extra)


async def _discard_rest(receive) -> None:
    """Read and drop what the client is still sending, within the linger bounds; never kept in memory."""
    discarded = 0
    try:
        async with asyncio.timeout(LINGER_S):
            while discarded < LINGER_BYTES:
                message = await receive()
                if message["type"] != "http.request" or not message.get("more_body", False):
                    return
                discarded += len(message.get("body", b""))
    except TimeoutError:
        return


class BodyLimitMiddleware:
    def __init__(self, app, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limits.for_path(scope["path"])
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        refused = declared is not None and declared.strip().isdigit() and int(declared) > limit
        received = 0
        started = False

        async def counted_receive():
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    raise BodyTooLarge(limit)
            return message

        async def lingering_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            if refused and message["type"] == "http.response.start":
                # Whoever rendered the 413, the connection must not be reused: its body was never read.
                message = {**message, "headers": [*(h for h in message.get("headers", []) if h[0] != b"connection"),
                                                  (b"connection", b"close")]}
            if refused and message["type"] == "http.response.body" and not message.get("more_body", False):
                # The answer goes out whole now; the connection stays open only while the rest is dropped.
                await send({**message, "more_body": True})
                await _discard_rest(receive)
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        if refused:
            return await _too_large(limit)(scope, receive, lingering_send)
        try:
            await self.app(scope, counted_receive, lingering_send)
        except BodyTooLarge:
            if started:
                raise
            await _too_large(limit)(scope, receive, lingering_send)
