"""An exception no handler expects answers problem+json 500 with the request id, never plain text or details."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter
from sqlalchemy import MetaData
from structlog.testing import capture_logs

from services.gateway.main import create_app as create_gateway
from shared.web.problems import PROBLEM_JSON
from shared.web.service_app import ServiceSpec, create_service_app
from tests.inprocess import serve

SECRET_DETAIL = "password=hunter2 at db-7.internal"


@pytest.fixture
def crashing_service(settings):
    """A service built by the shared factory whose one route fails the way a bug would."""
    router = APIRouter()

    @router.get("/v1/crash")
    async def crash() -> dict:
        raise RuntimeError(SECRET_DETAIL)

    spec = ServiceSpec(name="crashtest", title="crash test", migrations_dir=Path(__file__).parent,
                       metadata=MetaData(), routers=[router])
    yield from serve(create_service_app(spec, settings), "crashtest")


@pytest.fixture
def gateway_without_startup(settings):
    """The real gateway served without its lifespan: its proxy route fails on the missing HTTP client."""
    yield from serve(create_gateway(settings), "gateway")


def _assert_internal_problem(response: httpx.Response, request_id: str | None = None) -> None:
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["status"] == 500 and body["type"].endswith("/internal-error")
    assert body["request_id"] == response.headers["x-request-id"]
    if request_id is not None:
        assert body["request_id"] == request_id
    assert "hunter2" not in response.text and "RuntimeError" not in response.text


async def test_unhandled_exception_in_a_service_is_problem_json_500_with_request_id(crashing_service):
    async with httpx.AsyncClient(base_url=crashing_service) as http:
        with capture_logs() as logs:
            given = await http.get("/v1/crash", headers={"X-Request-ID": "crash-trace-1"})
        minted = await http.get("/v1/crash")
    _assert_internal_problem(given, "crash-trace-1")
    _assert_internal_problem(minted)
    logged = [entry for entry in logs if entry["event"] == "http.unhandled_error"]
    assert logged and logged[0]["exc_info"] is True and logged[0]["path"] == "/v1/crash"


async def test_unhandled_exception_in_the_gateway_is_problem_json_500(gateway_without_startup):
    async with httpx.AsyncClient(base_url=gateway_without_startup) as http:
        response = await http.get("/.well-known/jwks.json", headers={"X-Request-ID": "gw-crash-1"})
    _assert_internal_problem(response, "gw-crash-1")
