"""httpx traffic as openapi-core sees it, for the contract checks against the marketplaces' own OpenAPI files.

Requests are presented as if sent to the marketplace's production host, so the spec's `servers` match.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict


class OpenAPIRequest:
    """An httpx request seen as if sent to `host_url` (e.g. https://openapi.etsy.com)."""

    def __init__(self, request: httpx.Request, host_url: str) -> None:
        url = urlsplit(str(request.url))
        self.host_url = host_url
        self.path = url.path
        self.method = request.method.lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qs(url.query, keep_blank_values=True)),
            header=Headers(dict(request.headers)),
            cookie=ImmutableMultiDict(),
        )
        self.body = request.content or None
        self.content_type = request.headers.get("content-type", "")


class OpenAPIResponse:
    def __init__(self, status_code: int, headers: dict[str, str], data: bytes) -> None:
        self.status_code = status_code
        self.headers = Headers(headers)
        self.data = data
        self.content_type = headers.get("content-type", "")

    @classmethod
    def from_httpx(cls, response: httpx.Response) -> OpenAPIResponse:
        return cls(response.status_code, dict(response.headers), response.content)


def path_matches(template: str, path: str) -> bool:
    """Whether a concrete path fits a spec path template (`/shops/{shop_id}` fits `/shops/42`)."""
    t_parts, p_parts = template.strip("/").split("/"), path.strip("/").split("/")
    return len(t_parts) == len(p_parts) and all(
        t == p or (t.startswith("{") and t.endswith("}")) for t, p in zip(t_parts, p_parts, strict=True)
    )
