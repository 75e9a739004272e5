"""The gateway's upstream client against a real HTTP server on loopback: bodies of any size pass through
intact (whole or streamed), the caller's percent-encoding is kept, and no cookie a service set for one
caller is ever sent on behalf of another."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import StreamingResponse

from services.gateway.proxy import UpstreamClient, upstream_headers
from tests.inprocess import serve

BIG = bytes(range(256)) * 4096  # 1 MiB


@pytest.fixture(scope="module")
def upstream_url():
    app = FastAPI()

    @app.get("/big")
    def big() -> Response:
        return Response(BIG, media_type="application/octet-stream")

    @app.get("/chunked")
    def chunked() -> StreamingResponse:
        return StreamingResponse(iter([BIG[:300_000], BIG[300_000:]]), media_type="application/octet-stream")

    @app.get("/sets-cookie")
    def sets_cookie() -> Response:
        response = Response("ok")
        response.set_cookie("session", "caller-one")
        return response

    @app.api_route("/echo/{rest:path}", methods=["GET", "POST"])
    async def echo(request: Request) -> dict:
        return {"raw_path": request.scope["raw_path"].decode(), "cookie": request.headers.get("cookie"),
                "body_length": len(await request.body())}

    yield from serve(app, "upstream")


@pytest.fixture
async def through(upstream_url):
    """An ASGI app that forwards everything to the upstream with UpstreamClient, as the gateway does."""
    client = UpstreamClient(timeout_s=10)

    async def proxy(scope, receive, send):
        headers = upstream_headers(scope, keep_authorization=False, extra={"x-cb-test": "1"})
        await client.forward(scope, receive, send, upstream_url, headers)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=proxy), base_url="http://gateway") as http:
        yield http
    await client.aclose()


async def test_large_and_chunked_bodies_pass_through_intact(through):
    for path in ("/big", "/chunked"):
        response = await through.get(path)
        assert response.status_code == 200
        assert response.content == BIG, path


async def test_request_bodies_stream_up_and_percent_encoding_is_kept(through):
    response = await through.post("/echo/a%2Fb", content=BIG)
    assert response.json()["raw_path"] == "/echo/a%2Fb"
    assert response.json()["body_length"] == len(BIG)


async def test_a_cookie_set_by_a_service_is_never_replayed_for_the_next_caller(through):
    assert "session=caller-one" in (await through.get("/sets-cookie")).headers["set-cookie"]
    through.cookies.clear()  # the next caller is someone else, with no cookies of its own
    assert (await through.get("/echo/next")).json()["cookie"] is None
