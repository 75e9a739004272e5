"""The HTTP discipline every marketplace client shares: one pooled connection, the app's rate budget,
retries that honour the platform, and errors in the vocabulary of `base.py`.

Nothing here knows a marketplace. A client builds one `MarketplaceHttp` per connection (`settings_http`,
or `app_http` for per-application budgets) and sends through `HttpOwner._authorized`, which adds its auth
headers and applies the one 401 rule (refresh once, then `AuthorizationLost`); that is why
`MarketplaceHttp.request` hands 401 responses back instead of raising.

Retry rules (DESIGN.md): 429 waits what the platform asks (Retry-After, or a platform-specific hint);
5xx, timeouts and connection errors back off exponentially with jitter; both give up after
`max_retries` retries with `TransientMarketplaceError`. Any other 4xx raises `RejectedByMarketplace`
at once: a request the marketplace refused for its content will be refused again.

Inside a request someone is waiting for (`shared.deadline`), the retries fit its budget: a 429 asking for
a wait longer than the time left raises `RateLimited` at once (with the platform's wait, for a
`Retry-After` of our own), a backoff that would outlast it raises the error it was retrying, and each
attempt's timeout is cut to the time left. Background work has no deadline and keeps the long budget.

Requests that are not idempotent (e.g. "create a shipment", which e-mails the buyer each time) are
only retried when the platform cannot have acted on them (429, a refused connection); a 5xx or a
timeout raises `OutcomeUnknown` so the client can look before trying again.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, ClassVar, Self

import httpx
import structlog
from aiolimiter import AsyncLimiter
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from shared.deadline import time_left
from shared.marketplaces.base import (
    AuthorizationLost,
    RejectedByMarketplace,
    TokenProvider,
    TransientMarketplaceError,
)

if TYPE_CHECKING:
    from shared.marketplaces.budget import RateBudget
    from shared.settings import Settings

log = structlog.get_logger(__name__)

RetryHint = Callable[[httpx.Response], float | None]
"""Reads how long a 429 asks us to wait, in seconds (None: the platform gave no hint)."""

_REASON_MAX_CHARS = 500
# Connection failures where the request provably never reached the platform.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class RateLimited(TransientMarketplaceError):
    """The platform kept answering 429, or asked for a wait longer than we are willing to block."""

    def __init__(self, message: str, retry_after_s: float | None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


def retry_after_header(exc: BaseException) -> dict[str, str] | None:
    """`Retry-After` for our own answer when `exc` is a 429 we did not wait out (the platform's wait, rounded up)."""
    if isinstance(exc, RateLimited) and exc.retry_after_s is not None:
        return {"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))}
    return None


class OutcomeUnknown(TransientMarketplaceError):
    """A non-idempotent request failed in a way that may have been applied (5xx, timeout mid-flight).

    The caller should check the marketplace's state before sending it again.
    """

    def __init__(self, message: str, *, timed_out: bool) -> None:
        super().__init__(message)
        self.timed_out = timed_out


# --- rate budgets -----------------------------------------------------------------------------------

_limiters: dict[tuple[str, str], AsyncLimiter] = {}


def shared_limiter(marketplace: str, app_key: str, rate_per_second: float) -> AsyncLimiter:
    """The token bucket of one marketplace app in this process (`marketplace_rate_storage=memory`).

    Marketplaces meter per application, not per shop, so every connection of one app must draw
    from the same bucket. A changed rate (new settings) replaces the bucket.
    """
    key = (marketplace, app_key)
    limiter = _limiters.get(key)
    if limiter is None or limiter.max_rate != rate_per_second:
        limiter = _limiters[key] = AsyncLimiter(rate_per_second, time_period=1)
    return limiter


def rate_budget(settings: Settings, marketplace: str, app_key: str, rate_per_second: float) -> RateBudget:
    """The budget every call of one marketplace app draws from: shared by all replicas through Postgres or
    Redis (`shared.marketplaces.budget`), or this process's bucket when `marketplace_rate_storage` is memory."""
    storage = settings.marketplace_rate_storage
    if storage == "memory":
        return shared_limiter(marketplace, app_key, rate_per_second)
    from shared.marketplaces.budget import SharedBudget  # database clients only where a store is used

    uri = settings.database_url if storage == "postgres" else storage
    return SharedBudget(uri, f"{marketplace}:{app_key}", rate_per_second)


# --- reading responses --------------------------------------------------------------------------------


def retry_after_seconds(response: httpx.Response) -> float | None:
    """`Retry-After` as delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def json_body(response: httpx.Response) -> Any:
    """The parsed body, or None when it is not JSON (a proxy's or a maintenance page's HTML, say)."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def error_reason(response: httpx.Response) -> str:
    """The marketplace's own explanation, from the common error body shapes, shortened for storage.

    Handles `{"error": …, "error_description": …}` (OAuth), `{"error"|"message"|"title"|"detail": …}`
    and arrays of `{"path", "message"}` validation items (Etsy, Allegro).
    """
    body = json_body(response)
    reason = _reason_from_body(body) if body is not None else response.text.strip()
    return (reason or f"HTTP {response.status_code}")[:_REASON_MAX_CHARS]


def _reason_from_body(body: Any) -> str:
    if isinstance(body, list):
        return "; ".join(filter(None, (_reason_from_body(item) for item in body)))
    if not isinstance(body, dict):
        return str(body)
    if isinstance(body.get("errors"), list):
        return _reason_from_body(body["errors"])
    parts = [str(body[key]) for key in ("error", "message", "title", "detail", "userMessage") if body.get(key)]
    if body.get("error_description"):
        parts.append(str(body["error_description"]))
    text = ": ".join(dict.fromkeys(parts))
    if body.get("path") and text:
        text = f"{body['path']}: {text}"
    return text or json.dumps(body)[:_REASON_MAX_CHARS]


# --- the client ---------------------------------------------------------------------------------------


class _RetryableOutcome(Exception):
    """One failed attempt worth repeating; `wait_s` is the platform's requested wait, if any."""

    def __init__(self, final: TransientMarketplaceError, wait_s: float | None = None) -> None:
        super().__init__(str(final))
        self.final = final
        self.wait_s = wait_s


MAX_RATE_LIMITED_RETRIES = 30


class _RetryBudget:
    """Separate budgets: a 429 is the platform telling us when to come back (we wait exactly that), so a
    burst of them must not use up the few retries we allow for 5xx and timeouts."""

    def __init__(self, max_errors: int, max_rate_limited: int) -> None:
        self._max_errors = max_errors
        self._max_rate_limited = max_rate_limited

    @staticmethod
    def errors_so_far(retry_state: RetryCallState) -> int:
        return retry_state.__dict__.get("_cb_errors", 0)

    def __call__(self, retry_state: RetryCallState) -> bool:
        exc = retry_state.outcome.exception() if retry_state.outcome is not None else None
        rate_limited = isinstance(exc, _RetryableOutcome) and isinstance(exc.final, RateLimited)
        key = "_cb_rate_limited" if rate_limited else "_cb_errors"
        retry_state.__dict__[key] = retry_state.__dict__.get(key, 0) + 1
        limit = self._max_rate_limited if rate_limited else self._max_errors
        left = time_left()
        # tenacity computes the wait before asking us: a wait past the caller's deadline ends the retries now.
        return retry_state.__dict__[key] > limit or (left is not None and retry_state.upcoming_sleep >= left)


class MarketplaceHttp:
    """One pooled `httpx.AsyncClient` plus the app's rate budget and the retry rules above."""

    def __init__(
        self,
        *,
        base_url: str,
        timeout_s: float,
        limiter: RateBudget,
        max_retries: int,
        retry_hint: RetryHint = retry_after_seconds,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
        max_wait_s: float = 120.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = httpx.AsyncClient(base_url=base_url, timeout=timeout_s, transport=transport, follow_redirects=False)
        self.timeout_s = timeout_s
        self._limiter = limiter
        self._max_retries = max(0, max_retries)
        self._retry_hint = retry_hint
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._max_wait_s = max_wait_s

    @property
    def max_retries(self) -> int:
        return self._max_retries

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> MarketplaceHttp:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    def backoff_delay(self, attempt: int) -> float:
        """The wait after failed attempt number `attempt` (1-based): exponential plus jitter, capped.

        The jitter spreads the retries of many connections that failed together (one outage).
        """
        exponential = self._backoff_initial_s * 2 ** (attempt - 1)
        return min(self._backoff_max_s, exponential + random.uniform(0, self._backoff_initial_s))

    async def before_recheck(self, attempt: int, outcome: OutcomeUnknown) -> None:
        """After attempt number `attempt` of a non-idempotent call ended in `outcome`: wait, then the caller
        checks whether it landed before sending it again; once the retry budget is spent, `outcome` is raised.
        """
        if attempt > self._max_retries:
            raise outcome
        # After a timeout the first request may still be landing: give it as long again.
        landing_s = self.timeout_s if outcome.timed_out else 0.0
        await asyncio.sleep(max(self.backoff_delay(attempt), landing_s))

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send with rate limit and retries; returns 2xx and 401 responses, raises for the rest.

        `idempotent` defaults to True for GET/HEAD/PUT/DELETE/OPTIONS and False otherwise.
        """
        if idempotent is None:
            idempotent = method.upper() in {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}
        retrying = AsyncRetrying(
            stop=_RetryBudget(self._max_retries, MAX_RATE_LIMITED_RETRIES),
            wait=self._wait,
            retry=retry_if_exception_type(_RetryableOutcome),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._attempt(
                        method,
                        path,
                        attempt.retry_state.attempt_number,
                        idempotent,
                        params=params,
                        data=data,
                        json=json_body,
                        headers=headers,
                    )
        except _RetryableOutcome as exc:
            raise exc.final from exc.__cause__
        raise AssertionError("unreachable: tenacity either returned or raised")  # pragma: no cover

    def _wait(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, _RetryableOutcome) and exc.wait_s is not None:
            return exc.wait_s
        return self.backoff_delay(max(1, _RetryBudget.errors_so_far(retry_state)))

    async def _attempt(self, method: str, path: str, attempt: int, idempotent: bool, **kwargs: Any) -> httpx.Response:
        label = f"{method} {path.split('?', 1)[0]}"
        timeout = await self._await_budget(label)
        started = time.perf_counter()
        try:
            response = await self._client.request(method, path, timeout=timeout, **kwargs)
        except httpx.TransportError as exc:
            self._log(label, None, attempt, started, error=type(exc).__name__)
            timed_out = isinstance(exc, httpx.TimeoutException)
            what = "timed out" if timed_out else f"failed ({type(exc).__name__})"
            if idempotent or isinstance(exc, _NOT_SENT):
                raise _RetryableOutcome(TransientMarketplaceError(f"{label} {what}")) from exc
            raise OutcomeUnknown(f"{label} {what}; it may have been applied", timed_out=timed_out) from exc
        self._log(label, response.status_code, attempt, started)
        return self._judge(label, response, idempotent)

    async def _await_budget(self, label: str) -> float:
        """Take a token from the rate budget within the caller's deadline; the timeout this attempt may use."""
        left = time_left()
        if left is None:
            await self._limiter.acquire()
            return self.timeout_s
        try:
            async with asyncio.timeout(max(0.0, left)):
                await self._limiter.acquire()
        except TimeoutError:
            raise TransientMarketplaceError(f"{label} not sent: no time left for it in this request") from None
        left = time_left() or 0.0
        if left <= 0:
            raise TransientMarketplaceError(f"{label} not sent: no time left for it in this request")
        return min(self.timeout_s, left)

    def _judge(self, label: str, response: httpx.Response, idempotent: bool) -> httpx.Response:
        status = response.status_code
        if 200 <= status < 300 or status == 401:
            return response
        if status == 429:
            wait_s = self._retry_hint(response)
            error = RateLimited(f"{label} was rate limited (HTTP 429)", wait_s)
            if wait_s is not None and wait_s > self._max_wait_s:
                raise error  # e.g. a spent daily quota: blocking for hours helps nobody
            left = time_left()
            if wait_s is not None and left is not None and wait_s >= left:
                raise error  # the caller cannot wait that long: say when to come back instead
            raise _RetryableOutcome(error, wait_s)
        if status >= 500:
            message = f"{label} failed with HTTP {status}: {error_reason(response)}"
            if not idempotent:
                raise OutcomeUnknown(message + "; it may have been applied", timed_out=False)
            raise _RetryableOutcome(TransientMarketplaceError(message))
        raise RejectedByMarketplace(error_reason(response), status)

    @staticmethod
    def _log(label: str, status: int | None, attempt: int, started: float, error: str | None = None) -> None:
        # Method and path only: query strings and headers may carry secrets, bodies carry buyers' data.
        method, _, path = label.partition(" ")
        log.debug(
            "marketplace_request",
            method=method,
            path=path,
            status=status,
            attempt=attempt,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
            error=error,
        )


class HttpOwner:
    """Base of the marketplace clients: each may own its `MarketplaceHttp` (`_new_http`) or share one
    passed in, as tests do; closing releases only an owned pool. Usable as `async with`.

    It also sends every authorized call, so the 401 rule lives once: a 401 forces one refresh through the
    `TokenProvider` and one more try; a second 401 is `AuthorizationLost` (the merchant must reconnect).
    A client states how its token travels (`_auth_headers`) and how a lost grant reads (`_refused_token`).
    """

    _refused_token: ClassVar[str] = "the marketplace refused a freshly refreshed token"

    def __init__(self, settings: Settings, token_provider: TokenProvider, *, shop_id: str | None = None,
                 http: MarketplaceHttp | None = None) -> None:
        self._settings = settings
        self._token_provider = token_provider
        self._shop_id = shop_id
        self._owns_http = http is None
        self._http = http or self._new_http(settings, shop_id)

    def _new_http(self, settings: Settings, shop_id: str | None) -> MarketplaceHttp:
        """The pool this client owns when none is passed in."""
        raise NotImplementedError

    def _auth_headers(self, token: str, *, with_body: bool) -> dict[str, str]:
        """The headers carrying `token` (and any the platform wants on every call)."""
        raise NotImplementedError

    async def _authorized(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call with the connection's token → its 2xx response; one forced refresh after a 401."""
        response = await self._send(method, path, await self._token_provider(False), **kwargs)
        if response.status_code == 401:
            response = await self._send(method, path, await self._token_provider(True), **kwargs)
            if response.status_code == 401:
                raise AuthorizationLost(f"{self._refused_token}: {error_reason(response)}")
        return response

    async def _send(self, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
        headers = self._auth_headers(token, with_body=kwargs.get("json_body") is not None)
        return await self._http.request(method, path, headers=headers, **kwargs)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()


def json_object(response: httpx.Response, method: str, path: str) -> dict[str, Any]:
    """The response's JSON object; anything else (a proxy's or maintenance page) is worth trying again later."""
    body = json_body(response)
    if not isinstance(body, dict):
        raise TransientMarketplaceError(f"{method} {path} answered {response.status_code} without a JSON object")
    return body


def settings_http(settings: Settings, *, base_url: str, limiter: RateBudget,
                  transport: httpx.AsyncBaseTransport | None = None, retry_hint: RetryHint = retry_after_seconds,
                  backoff_initial_s: float = 0.5, backoff_max_s: float = 30.0) -> MarketplaceHttp:
    """A `MarketplaceHttp` with the timeout and retry budget every marketplace takes from settings.

    The one factory behind each marketplace's: those only name their base URL and rate budget.
    """
    return MarketplaceHttp(base_url=base_url, timeout_s=settings.marketplace_timeout_s, limiter=limiter,
                           max_retries=settings.marketplace_max_retries, retry_hint=retry_hint,
                           backoff_initial_s=backoff_initial_s, backoff_max_s=backoff_max_s, transport=transport)


def app_http(settings: Settings, marketplace: str, *, base_url: str, app_key: str, rate_per_second: float,
             **options: Any) -> MarketplaceHttp:
    """`settings_http` for a marketplace that meters per application (Etsy, Allegro): every connection of
    the app draws from one budget, shared by every replica. `options` are `settings_http`'s."""
    return settings_http(settings, base_url=base_url, limiter=rate_budget(settings, marketplace, app_key, rate_per_second),
                         **options)
