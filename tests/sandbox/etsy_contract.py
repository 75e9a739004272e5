"""Validate emulator traffic against Etsy's own OpenAPI file with openapi-core.

The vendored spec sits beside the repo (`../shared/marketplaces/etsy-openapi.json`). One known
spec quirk is repaired before loading: many integer query parameters carry `"default": null`
without `nullable: true`; openapi-spec-validator rejects the document for it and openapi-core
would inject that `null` into every request that omits the parameter. Only those `null`
defaults on non-nullable schemas are dropped; everything else is validated as published.
"""

from __future__ import annotations

import json
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC_PATH = Path(__file__).resolve().parents[2] / ".." / "shared" / "marketplaces" / "etsy-openapi.json"
ETSY_HOST = "https://openapi.etsy.com"


def _drop_null_defaults(node: Any) -> None:
    if isinstance(node, dict):
        if "default" in node and node["default"] is None and not node.get("nullable", False):
            del node["default"]
        for value in node.values():
            _drop_null_defaults(value)
    elif isinstance(node, list):
        for value in node:
            _drop_null_defaults(value)


def load_spec() -> tuple[OpenAPI, dict[str, Any]]:
    raw = json.loads(SPEC_PATH.read_text())
    _drop_null_defaults(raw)
    return OpenAPI.from_dict(raw, config=Config(spec_validator_cls=None)), raw


class OpenAPIRequest:
    """httpx request seen as if sent to Etsy's production host."""

    def __init__(self, request: httpx.Request) -> None:
        url = urlsplit(str(request.url))
        self.host_url = ETSY_HOST
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


@dataclass
class ContractRecorder:
    """httpx response hook: strict checks for every v3 exchange, violations kept for teardown."""

    openapi: OpenAPI
    raw: dict[str, Any]
    validated: int = 0
    violations: list[str] = field(default_factory=list)
    undeclared: list[str] = field(default_factory=list)
    _off_spec_request: bool = False

    def declared_statuses(self, method: str, path: str) -> set[str] | None:
        candidates = [t for t in self.raw["paths"] if _path_matches(t, path)]
        if not candidates:
            return None
        template = max(candidates, key=lambda t: sum(not seg.startswith("{") for seg in t.split("/")))
        operation = self.raw["paths"][template].get(method)
        return None if operation is None else set(operation["responses"])

    def check_request(self, request: httpx.Request) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openapi-core warns that it cannot check oauth2 itself
            self.openapi.validate_request(OpenAPIRequest(request))

    def check_response(self, request: httpx.Request, response: OpenAPIResponse) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.openapi.validate_response(OpenAPIRequest(request), response)

    def __call__(self, response: httpx.Response) -> None:
        request = response.request
        path = request.url.path
        if not path.startswith("/v3/application/"):
            return
        response.read()
        label = f"{request.method} {path}?{request.url.query.decode()} -> {response.status_code}"
        declared = self.declared_statuses(request.method.lower(), path)
        if declared is None:
            self.violations.append(f"{label}: operation not in spec")
            return
        if 200 <= response.status_code < 300 and not self._off_spec_request:
            try:
                self.check_request(request)
            except Exception as exc:
                self.violations.append(f"{label}: request invalid: {exc!r} {exc.__cause__!r}")
        if str(response.status_code) not in declared:
            self.undeclared.append(label)
            return
        try:
            self.check_response(request, OpenAPIResponse.from_httpx(response))
            self.validated += 1
        except Exception as exc:
            self.violations.append(f"{label}: response invalid: {exc!r} {exc.__cause__!r}")

    @contextmanager
    def off_spec_request(self):
        """For deliberate non-spec requests (e.g. JSON bodies Etsy also takes); responses still checked."""
        self._off_spec_request = True
        try:
            yield
        finally:
            self._off_spec_request = False


def _path_matches(template: str, path: str) -> bool:
    t_parts, p_parts = template.strip("/").split("/"), path.strip("/").split("/")
    return len(t_parts) == len(p_parts) and all(
        t == p or (t.startswith("{") and t.endswith("}")) for t, p in zip(t_parts, p_parts, strict=True)
    )
