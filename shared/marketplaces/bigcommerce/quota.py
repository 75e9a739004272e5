"""BigCommerce's rate quota, as its response headers report it, and the HTTP client that honours it.

BigCommerce meters each store (all apps together) in windows of 30 s and says on every response how
many requests are left (`X-Rate-Limit-Requests-Left`) and when the window resets
(`X-Rate-Limit-Time-Reset-Ms`). Rather than learn the quota from 429s, the `QuotaGate` transport holds
the next request of that store until the reset once the count reaches 0, for every caller in this
process. A 429 still happens (another app spent the quota); it waits exactly the reset, once.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from shared.deadline import time_left
from shared.marketplaces.http import MarketplaceHttp, RateLimited, rate_budget, retry_after_seconds, settings_http
from shared.settings import Settings

# 150 requests / 30 s is the Standard and Plus plans' quota; the headers refine it per store.
# A 429 without the rate-limit headers is platform overload, not our quota (fact sheet §5): back off harder.
OVERLOAD_BACKOFF_S = 15.0
_RESET_HEADER = "x-rate-limit-time-reset-ms"
_LEFT_HEADER = "x-rate-limit-requests-left"


def reset_seconds(response: httpx.Response) -> float | None:
    """`X-Rate-Limit-Time-Reset-Ms` in seconds, None when absent or unreadable."""
    raw = response.headers.get(_RESET_HEADER)
    try:
        return max(0.0, float(raw) / 1000) if raw is not None else None
    except ValueError:
        return None


def retry_hint(response: httpx.Response) -> float:
    """How long a 429 asks us to wait: the window's reset, else Retry-After, else an overload backoff."""
    wait = reset_seconds(response)
    if wait is None:
        wait = retry_after_seconds(response)
    return OVERLOAD_BACKOFF_S if wait is None else wait


class StoreQuota:
    """When one store's spent quota resets, as the last responses reported it."""

    def __init__(self) -> None:
        self.resume_at = 0.0

    @property
    def paused_for(self) -> float:
        return max(0.0, self.resume_at - time.monotonic())

    def observe(self, response: httpx.Response) -> None:
        reset = reset_seconds(response)
        if reset is None:
            return
        left = response.headers.get(_LEFT_HEADER, "").strip()
        spent = response.status_code == 429 or (left.lstrip("-").isdigit() and int(left) <= 0)
        if spent:
            self.resume_at = max(self.resume_at, time.monotonic() + reset)


_quotas: dict[tuple[str, str], StoreQuota] = {}


def store_quota(origin: str, store_hash: str) -> StoreQuota:
    """The quota of one store in this process: every client of that store reads and feeds the same one."""
    return _quotas.setdefault((origin, store_hash), StoreQuota())


class QuotaGate(httpx.AsyncBaseTransport):
    """Wraps a transport: feeds each response's quota headers to the store's `StoreQuota` and, while the
    quota is spent, holds every request until the window resets."""

    def __init__(self, inner: httpx.AsyncBaseTransport, quota: StoreQuota) -> None:
        self._inner = inner
        self.quota = quota

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if (wait := self.quota.paused_for) > 0:
            left = time_left()
            if left is not None and wait >= left:  # inside a request that cannot wait that long
                raise RateLimited(f"{request.method} {request.url.path}: the store's rate quota is spent", wait)
            await asyncio.sleep(wait)  # a window spent meanwhile by others shows up as a 429, waited once
        response = await self._inner.handle_async_request(request)
        self.quota.observe(response)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def bigcommerce_http(
    settings: Settings,
    store_hash: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    rate_per_second: float | None = None,
    backoff_initial_s: float = 0.5,
    backoff_max_s: float = 30.0,
) -> MarketplaceHttp:
    """The pooled HTTP client for one store: `{origin}/stores/{store_hash}` as base URL, the store's
    token bucket, its quota gate, and 429 waits from BigCommerce's reset header."""
    origin = settings.bigcommerce_api_url.rstrip("/")
    return settings_http(
        settings,
        base_url=f"{origin}/stores/{store_hash}",
        # BigCommerce meters per store, not per app: the bucket is the store's.
        limiter=rate_budget(settings, "bigcommerce", store_hash, rate_per_second or settings.bigcommerce_rate_per_second),
        retry_hint=retry_hint,
        backoff_initial_s=backoff_initial_s,
        backoff_max_s=backoff_max_s,
        transport=QuotaGate(transport or httpx.AsyncHTTPTransport(), store_quota(origin, store_hash)),
    )
