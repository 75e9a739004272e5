"""Validate Allegro emulator traffic against Allegro's own OpenAPI file with openapi-core.

The vendored spec is `specs/marketplaces/allegro-openapi.yaml` (1.4 MB):
it is parsed once per session with the C YAML loader. Two places where the published schema
contradicts what Allegro actually returns are repaired before loading, nothing else:
- `CheckoutForms.count` / `totalCount` carry `minimum: 1`, yet an empty result is `count: 0`;
- `OrderEventStats.latestEvent` is not nullable, yet Allegro answers `{"latestEvent": null}` when
  nothing happened in the last 60 days (allegro/allegro-api issue #8496);
- `CategoryDto.parent` is not nullable, yet a main category has `"parent": null` (the spec's own
  `GET /sale/matching-categories` example shows a main category that way).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from typing import Any

import httpx
import yaml
from openapi_core import Config, OpenAPI

from tests.openapi_exchange import OpenAPIRequest, OpenAPIResponse, path_matches
from tests.specs import ALLEGRO_SPEC

SPEC_PATH = ALLEGRO_SPEC
ALLEGRO_HOST = "https://api.allegro.pl"
UPLOAD_HOST = "https://upload.allegro.pl"  # the spec's server for POST /sale/images
UPLOAD_PATHS = ("/sale/images",)
VENDOR_JSON = "application/vnd.allegro.public.v1+json"
UNCHECKED_PREFIXES = ("/_sandbox/", "/auth/oauth/")  # control API; OAuth is not in the REST spec


def _repair(raw: dict[str, Any]) -> None:
    schemas = raw["components"]["schemas"]
    for name in ("count", "totalCount"):
        schemas["CheckoutForms"]["properties"][name].pop("minimum", None)
    schemas["OrderEventStats"]["properties"]["latestEvent"] = {**schemas["LatestOrderEvent"], "nullable": True}
    schemas["CategoryDto"]["properties"]["parent"]["nullable"] = True


def load_spec() -> tuple[OpenAPI, dict[str, Any]]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with SPEC_PATH.open("rb") as handle:
        raw = yaml.load(handle, Loader=loader)
    _repair(raw)
    # Allegro's vendor type is JSON; openapi-core only recognises `application/json` by name.
    config = Config(spec_validator_cls=None, extra_media_type_deserializers={VENDOR_JSON: json.loads})
    return OpenAPI.from_dict(raw, config=config), raw


@dataclass
class ContractRecorder:
    """httpx response hook: every REST exchange checked, violations kept for the test's teardown.

    Requests are validated when the answer was a success (a deliberately bad request is the
    point of an error test); responses are validated whenever the spec declares the status.
    """

    openapi: OpenAPI
    raw: dict[str, Any]
    validated: int = 0
    violations: list[str] = field(default_factory=list)
    undeclared: list[str] = field(default_factory=list)

    def declared_statuses(self, method: str, path: str) -> set[str] | None:
        candidates = [t for t in self.raw["paths"] if path_matches(t, path)]
        if not candidates:
            return None
        template = max(candidates, key=lambda t: sum(not seg.startswith("{") for seg in t.split("/")))
        operation = self.raw["paths"][template].get(method)
        return None if operation is None else set(operation["responses"])

    def __call__(self, response: httpx.Response) -> None:
        request = response.request
        path = request.url.path
        if path.startswith(UNCHECKED_PREFIXES):
            return
        response.read()
        label = f"{request.method} {path}?{request.url.query.decode()} -> {response.status_code}"
        declared = self.declared_statuses(request.method.lower(), path)
        if declared is None:
            self.violations.append(f"{label}: operation not in spec")
            return
        host = UPLOAD_HOST if path in UPLOAD_PATHS else ALLEGRO_HOST
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openapi-core cannot check oauth2 itself and says so
            if 200 <= response.status_code < 300:
                try:
                    self.openapi.validate_request(OpenAPIRequest(request, host))
                except Exception as exc:
                    self.violations.append(f"{label}: request invalid: {exc!r} {exc.__cause__!r}")
            if str(response.status_code) not in declared:
                self.undeclared.append(label)
                return
            try:
                self.openapi.validate_response(OpenAPIRequest(request, host), OpenAPIResponse.from_httpx(response))
                self.validated += 1
            except Exception as exc:
                self.violations.append(f"{label}: response invalid: {exc!r} {exc.__cause__!r}")


