"""ASGI middleware: request id in logs and responses, Prometheus request metrics, problem+json for crashes."""

from __future__ import annotations

import time
import uuid

import structlog

from shared.deadline import deadline_in
from shared.metrics import HTTP_LATENCY, HTTP_REQUESTS
from shared.web.problems import problem_response

log = structlog.get_logger(__name__)


class RequestContextMiddleware:
    """Binds the request id (taken from `X-Request-ID` or minted) to logs and echoes it in the response."""

    def __init__(self, app, service: str, deadline_s: float | None = None) -> None:
        self.app = app
        self.service = service
        self.deadline_s = deadline_s  # shared.deadline: the budget of calls made while answering

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        # One pass over the raw headers: no mapping built per request.
        raw_id = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"").decode("latin-1")
        request_id = raw_id if raw_id and len(raw_id) <= 128 and raw_id.isprintable() else str(uuid.uuid4())
        if raw_id != request_id:
            scope = {**scope, "headers": [*(h for h in scope["headers"] if h[0] != b"x-request-id"),
                                          (b"x-request-id", request_id.encode())]}
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            with deadline_in(self.deadline_s):
                await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            elapsed = time.perf_counter() - started
            HTTP_REQUESTS.labels(self.service, scope["method"], path, status_holder["status"]).inc()
            HTTP_LATENCY.labels(self.service, scope["method"], path).observe(elapsed)
            if path not in ("/healthz", "/readyz", "/metrics"):
                log.info("http.request", method=scope["method"], path=scope["path"],
                         status=status_holder["status"], ms=round(elapsed * 1000, 1))
            structlog.contextvars.unbind_contextvars("request_id")


class ProblemOnUnhandledError:
    """Answers an exception no handler took as a problem+json 500 carrying the request id, and logs it with
    its traceback.

    Starlette's own last resort answers plain text outside the request context; installed inside
    `RequestContextMiddleware`, this one sees the bound request id and its answer gets the `X-Request-ID`
    header and the metrics. The detail never says what failed: that is for the log, not the caller.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def send_wrapper(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            log.exception("http.unhandled_error", method=scope["method"], path=scope["path"])
            if started:  # too late for another answer: let the server drop the connection
                raise
            request_id = structlog.contextvars.get_contextvars().get("request_id")
            response = problem_response(500, "an unexpected error occurred; quote the request id when reporting it",
                                        type_="internal-error", request_id=request_id)
            await response(scope, receive, send)
