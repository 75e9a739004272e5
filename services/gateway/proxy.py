"""Streaming reverse proxy on raw ASGI and one pooled aiohttp client: bodies flow through unbuffered.

Why not httpx here (it stays for the gateway's low-rate calls: JWKS, /readyz, OpenAPI): profiled under
load, its connection pool checks every pooled connection's socket on each request, httpcore retries a
failed `import sniffio` on each request when sniffio is absent, and its client keeps cookies, which a
proxy shared by every caller must never do. aiohttp's pool hands out an idle connection in O(1), parses
with its C parser and takes a `DummyCookieJar`. Headers stay as the ASGI server's bytes end to end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

import aiohttp
from starlette.requests import ClientDisconnect
from yarl import URL

from shared.web.identity import IDENTITY_HEADERS, request_target
from shared.web.problems import problem_response

# RFC 9110 §7.6.1 hop-by-hop headers, plus what the gateway sets itself.
_HOP_BY_HOP = frozenset({b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te", b"trailer",
                         b"transfer-encoding", b"upgrade", b"host"})
_NEVER_FORWARDED = _HOP_BY_HOP | {h.encode() for h in IDENTITY_HEADERS} | {b"x-forwarded-for"}
_NEVER_FORWARDED_WITHOUT_AUTH = _NEVER_FORWARDED | {b"authorization"}
# The gateway's middleware sets its own request id on the response.
_NOT_RETURNED = _HOP_BY_HOP | {b"x-request-id"}
_BODYLESS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})
# Responses announcing at most this many bytes are read whole and sent in one ASGI message.
_SEND_WHOLE_MAX = 256 * 1024

Scope = dict
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


def upstream_headers(scope: Scope, *, keep_authorization: bool, extra: dict[str, str]) -> list[tuple[str, str]]:
    """Caller headers minus hop-by-hop and any identity headers the caller tried to set itself."""
    dropped = _NEVER_FORWARDED if keep_authorization else _NEVER_FORWARDED_WITHOUT_AUTH
    headers = []
    hops: list[str] = []
    for name, value in scope["headers"]:
        if name == b"x-forwarded-for":
            hops.extend(h.strip() for h in value.decode("latin-1").split(",") if h.strip())
        elif name not in dropped:
            headers.append((name.decode("latin-1"), value.decode("latin-1")))
    client = scope["client"][0] if scope.get("client") else ""
    if client and (not hops or hops[-1] != client):  # behind a trusted proxy the client is already the last hop
        hops.append(client)
    headers.append(("x-forwarded-for", ", ".join(hops)))
    headers.extend(extra.items())
    return headers


class UpstreamClient:
    """The pooled connections to the services; one per gateway process, opened in its lifespan."""

    def __init__(self, *, timeout_s: float, connect_timeout_s: float = 5.0, max_connections: int = 200) -> None:
        connector = aiohttp.TCPConnector(limit=max_connections, keepalive_timeout=30.0, ttl_dns_cache=300)
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),  # a proxy shared by every caller keeps nobody's cookies
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout_s, sock_read=timeout_s),
            auto_decompress=False,  # bodies pass through as the service encoded them
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
        )

    async def aclose(self) -> None:
        await self._session.close()

    async def forward(self, scope: Scope, receive: Receive, send: Send, base_url: str,
                      headers: Iterable[tuple[str, str]], *, body: bytes | None = None) -> int:
        """Send the request to `base_url` + the caller's raw path and query, stream the answer back, and return
        the status sent. `body` when the gateway already read it, else the caller's stream."""
        # raw_path keeps the caller's percent-encoding (the gateway refused encoded '/' and dot segments already).
        target = base_url + request_target(scope["raw_path"], scope["query_string"])
        method = scope["method"]
        if body is None and method not in _BODYLESS:
            body = _request_body(receive)
        try:
            response = await self._session.request(method, URL(target, encoded=True), headers=list(headers), data=body,
                                                   allow_redirects=False, compress=None)
        except (TimeoutError, aiohttp.ServerTimeoutError):
            await problem_response(504, "the service did not answer in time", type_="upstream-timeout")(scope, receive, send)
            return 504
        except aiohttp.ClientError:
            # A down service fails its own routes only; the gateway itself stays ready.
            await problem_response(503, "the service is unavailable", type_="service-unavailable",
                                   headers={"Retry-After": "1"})(scope, receive, send)
            return 503
        try:
            await _relay(response, send)
        finally:
            response.release()
        return response.status


async def _request_body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


async def _relay(response: aiohttp.ClientResponse, send: Send) -> None:
    headers = [(k, v) for k, v in response.raw_headers if k.lower() not in _NOT_RETURNED]
    length = response.content_length
    if length is not None and length <= _SEND_WHOLE_MAX:
        body = await response.read()
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    async for chunk in response.content.iter_any():
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})
