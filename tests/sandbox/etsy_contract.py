"""Validate emulator traffic against Etsy's own OpenAPI file with openapi-core.

The vendored spec is `specs/marketplaces/etsy-openapi.json`. One known
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
from typing import Any

import httpx
from openapi_core import Config, OpenAPI

from tests.openapi_exchange import OpenAPIRequest, OpenAPIResponse, path_matches
from tests.specs import ETSY_SPEC

SPEC_PATH = ETSY_SPEC
ETSY_HOST = "https://openapi.etsy.com"
# 2025-26 endpoints the vendored (2025) file does not have; emulated from the fact sheet, so only
# counted here (`unchecked`), never validated. Matched as a path segment.
NOT_IN_VENDORED_SPEC = ("/readiness-state-definitions",)


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


@dataclass
class ContractRecorder:
    """httpx response hook: strict checks for every v3 exchange, violations kept for teardown."""

    openapi: OpenAPI
    raw: dict[str, Any]
    validated: int = 0
    violations: list[str] = field(default_factory=list)
    undeclared: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    _off_spec_request: bool = False

    def declared_statuses(self, method: str, path: str) -> set[str] | None:
        candidates = [t for t in self.raw["paths"] if path_matches(t, path)]
        if not candidates:
            return None
        template = max(candidates, key=lambda t: sum(not seg.startswith("{") for seg in t.split("/")))
        operation = self.raw["paths"][template].get(method)
        return None if operation is None else set(operation["responses"])

    def check_request(self, request: httpx.Request) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openapi-core warns that it cannot check oauth2 itself
            self.openapi.validate_request(OpenAPIRequest(request, ETSY_HOST))

    def check_response(self, request: httpx.Request, response: OpenAPIResponse) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.openapi.validate_response(OpenAPIRequest(request, ETSY_HOST), response)

    def __call__(self, response: httpx.Response) -> None:
        request = response.request
        path = request.url.path
        if not path.startswith("/v3/application/"):
            return
        response.read()
        request.read()  # multipart bodies (uploadListingImage) are streams until read
        label = f"{request.method} {path}?{request.url.query.decode()} -> {response.status_code}"
        if any(segment in path for segment in NOT_IN_VENDORED_SPEC):
            self.unchecked.append(label)
            return
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


