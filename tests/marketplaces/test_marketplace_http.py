"""The shared HTTP discipline, marketplace-agnostic: rate budgets, Retry-After, error reasons, and
what is retried when the platform cannot be reached. Real sockets and the Etsy emulator, no mocks."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from shared.deadline import deadline_in
from shared.marketplaces.base import RejectedByMarketplace, TransientMarketplaceError
from shared.marketplaces.http import (
    MarketplaceHttp,
    OutcomeUnknown,
    RateLimited,
    error_reason,
    retry_after_header,
    retry_after_seconds,
    shared_limiter,
)
from tests.marketplaces.conftest import SandboxWorld


def test_connections_of_one_app_share_one_rate_budget() -> None:
    one = shared_limiter("allegro", "app-1", 9)
    assert shared_limiter("allegro", "app-1", 9) is one
    assert shared_limiter("allegro", "app-2", 9) is not one
    assert shared_limiter("bigcommerce", "app-1", 9) is not one
    changed = shared_limiter("allegro", "app-1", 4)
    assert changed is not one and changed.max_rate == 4


def test_retry_after_reads_seconds_and_http_dates() -> None:
    def with_header(value: str | None) -> httpx.Response:
        return httpx.Response(429, headers={} if value is None else {"retry-after": value})

    assert retry_after_seconds(with_header("3")) == 3
    assert retry_after_seconds(with_header(None)) is None
    assert retry_after_seconds(with_header("soon")) is None
    in_ten = format_datetime(datetime.now(UTC) + timedelta(seconds=10), usegmt=True)
    assert 8 <= retry_after_seconds(with_header(in_ten)) <= 10
    past = format_datetime(datetime.now(UTC) - timedelta(seconds=10), usegmt=True)
    assert retry_after_seconds(with_header(past)) == 0


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"error": "Invalid API key"}, "Invalid API key"),
        ({"error": "invalid_grant", "error_description": "refresh_token is revoked"}, "invalid_grant: refresh_token is revoked"),
        ([{"path": "/title/1", "type": "invalid_characters", "message": "bad %"}], "/title/1: bad %"),
        ({"errors": [{"code": "X", "message": "quantity too low", "userMessage": "Too few"}]}, "quantity too low: Too few"),
        ({"title": "Unprocessable", "detail": "sku taken"}, "Unprocessable: sku taken"),
    ],
)
def test_error_reason_reads_the_common_body_shapes(body: object, reason: str) -> None:
    assert error_reason(httpx.Response(400, json=body)) == reason


def test_error_reason_falls_back_to_text_and_status_and_is_bounded() -> None:
    assert error_reason(httpx.Response(400, text="plain words")) == "plain words"
    assert error_reason(httpx.Response(404, text="")) == "HTTP 404"
    assert len(error_reason(httpx.Response(400, text="x" * 10_000))) == 500


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_unreachable_platform_is_retried_then_transient_even_for_posts(method: str) -> None:
    # A refused connection never reached the platform, so even a non-idempotent POST may be retried.
    http = MarketplaceHttp(
        base_url=f"http://127.0.0.1:{_closed_port()}",
        timeout_s=1,
        limiter=shared_limiter("test", "unreachable", 100),
        max_retries=2,
        backoff_initial_s=0.01,
    )
    async with http:
        with pytest.raises(TransientMarketplaceError, match="ConnectError") as raised:
            await http.request(method, "/orders")
    assert not isinstance(raised.value, OutcomeUnknown)


def _sandbox_http(base_url: str, **overrides: object) -> MarketplaceHttp:
    options: dict = {
        "base_url": base_url,
        "timeout_s": 5,
        "limiter": shared_limiter("test", "sandbox", 100),
        "max_retries": 2,
        "backoff_initial_s": 0.01,
        **overrides,
    }
    return MarketplaceHttp(**options)


async def test_a_retry_after_beyond_our_patience_is_raised_at_once(etsy_base_url: str, world: SandboxWorld) -> None:
    world.fault(kind="rate_limit", retry_after=3600, count=1)
    world.clear_requests()
    async with _sandbox_http(etsy_base_url, max_wait_s=60) as http:
        with pytest.raises(RateLimited) as raised:
            await http.request("GET", "/v3/application/users/me")
    assert raised.value.retry_after_s == 3600
    assert len(world.requests_log()) == 1


async def test_401_is_handed_back_and_other_4xx_raise_with_the_marketplace_reason(
    etsy_base_url: str, world: SandboxWorld
) -> None:
    async with _sandbox_http(etsy_base_url) as http:
        keyed = {"x-api-key": "sandbox-etsy-keystring:sandbox-etsy-secret"}
        unauthorised = await http.request("GET", "/v3/application/users/me", headers=keyed)
        assert unauthorised.status_code == 401
        with pytest.raises(RejectedByMarketplace, match="Shared secret is required") as raised:
            await http.request("GET", "/v3/application/users/me", headers={"x-api-key": "sandbox-etsy-keystring"})
        assert raised.value.status == 403


async def test_inside_a_request_a_429_longer_than_the_time_left_is_raised_at_once(
    etsy_base_url: str, world: SandboxWorld
) -> None:
    """60 s is within our patience (120 s), so background work waits it out; a request with 5 s left cannot."""
    world.fault(kind="rate_limit", retry_after=60, count=1)
    world.clear_requests()
    async with _sandbox_http(etsy_base_url) as http:
        with deadline_in(5), pytest.raises(RateLimited) as raised:
            await http.request("GET", "/v3/application/users/me")
    assert raised.value.retry_after_s == 60
    assert retry_after_header(raised.value) == {"Retry-After": "60"}
    assert len(world.requests_log()) == 1


async def test_inside_a_request_a_backoff_past_the_deadline_gives_up_with_the_error_it_was_retrying(
    etsy_base_url: str, world: SandboxWorld
) -> None:
    world.fault(kind="server_error", status=503, count=5)
    world.clear_requests()
    async with _sandbox_http(etsy_base_url, backoff_initial_s=30, max_retries=5) as http:
        with deadline_in(5), pytest.raises(TransientMarketplaceError, match="503") as raised:
            await http.request("GET", "/v3/application/users/me")
    assert not isinstance(raised.value, RateLimited)
    assert len(world.requests_log()) == 1


async def test_without_a_deadline_a_short_429_is_still_waited_out_and_retried(
    etsy_base_url: str, world: SandboxWorld
) -> None:
    world.fault(kind="rate_limit", retry_after=1, count=1)
    world.clear_requests()
    keyed = {"x-api-key": "sandbox-etsy-keystring:sandbox-etsy-secret"}
    async with _sandbox_http(etsy_base_url) as http:
        response = await http.request("GET", "/v3/application/users/me", headers=keyed)
    assert response.status_code == 401  # the retry reached the endpoint itself (no bearer token sent)
    assert len(world.requests_log()) == 2
