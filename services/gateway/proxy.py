"""Streaming reverse proxy with a pooled httpx client: bodies flow through without being buffered."""

from __future__ import annotations

import httpx
from fastapi import Request
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from shared.web.identity import IDENTITY_HEADERS
from shared.web.problems import problem_response

# RFC 9110 §7.6.1 hop-by-hop headers, plus what the gateway sets itself.
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
               "transfer-encoding", "upgrade", "host"}
_NEVER_FORWARDED = _HOP_BY_HOP | set(IDENTITY_HEADERS)
_BODYLESS = ("GET", "HEAD", "DELETE", "OPTIONS")


def upstream_headers(request: Request, *, keep_authorization: bool, extra: dict[str, str]) -> list[tuple[str, str]]:
    """Caller headers minus hop-by-hop and any identity headers the caller tried to set itself."""
    dropped = _NEVER_FORWARDED if keep_authorization else _NEVER_FORWARDED | {"authorization"}
    headers = [(k, v) for k, v in request.headers.items() if k.lower() not in dropped]
    client = request.client.host if request.client else ""
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    if client and (not hops or hops[-1] != client):  # behind a trusted proxy the client is already the last hop
        hops.append(client)
    forwarded_for = ", ".join(hops)
    return [*headers, ("x-forwarded-for", forwarded_for), *extra.items()]


def upstream_url(base_url: str, request: Request) -> httpx.URL:
    # raw_path keeps the caller's percent-encoding (the gateway refused encoded '/' and dot segments already).
    url = httpx.URL(base_url.rstrip("/") + request.scope["raw_path"].decode("latin-1"))
    return url.copy_with(query=request.url.query.encode() or None)


async def forward(http: httpx.AsyncClient, request: Request, url: httpx.URL, headers: list[tuple[str, str]],
                  *, body: bytes | None = None) -> Response:
    """Send the request on to `url`; `body` when the gateway already read it, else the caller's stream."""
    content = body if body is not None else (request.stream() if request.method not in _BODYLESS else None)
    upstream = http.build_request(request.method, url, headers=headers, content=content)
    try:
        response = await http.send(upstream, stream=True)
    except httpx.TimeoutException:
        return problem_response(504, "the service did not answer in time", type_="upstream-timeout")
    except httpx.TransportError:
        # A down service fails its own routes only; the gateway itself stays ready.
        return problem_response(503, "the service is unavailable", type_="service-unavailable",
                                headers={"Retry-After": "1"})
    response_headers = {k: v for k, v in response.headers.items() if k.lower() not in _HOP_BY_HOP}
    response_headers.pop("x-request-id", None)  # the gateway's middleware sets it
    return StreamingResponse(response.aiter_raw(), status_code=response.status_code, headers=response_headers,
                             background=BackgroundTask(response.aclose))
