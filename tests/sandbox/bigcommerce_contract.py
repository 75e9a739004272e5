"""Validate emulator traffic against BigCommerce's own OpenAPI files with openapi-core.

The vendored specs are `specs/marketplaces/bigcommerce-*.yml`; each
`/stores/{store_hash}/v2|v3/...` request is checked against the file whose paths contain it,
presented as if sent to `https://api.bigcommerce.com` so the specs' `servers` entries match.

Two spec quirks are repaired before loading; everything else is validated as published:
- `webhooks_Resp` (GET /v3/hooks) declares `data` with `minItems: 1`, which would make a store
  without hooks — the state of every new store — a violation; that `minItems` is dropped.
- the V2 `sort` parameter's enum lists bare field names (`date_modified`) while its own
  description says to append `:asc`/`:desc`; the suffixed forms are added to the enum.
- the V2 `{url, resource}` link schemas (`orderConsignments_Resource`, `products_Resource`) require
  nothing, so an embedded consignment object or order product also matches them and their `oneOf`
  with the embedded form can never pass; the links get `required: [url, resource]`, which every
  link in the spec's examples has.
- `product_Base_POST.variants` reuses `productVariant_Full`, which requires the read-only `id` and
  `product_id` a client cannot know before the product exists (the docs' own create example sends
  neither); for the POST body those two are dropped from `required`, `sku` stays required.
- `POST .../images` answers `data: oneOf[json image, multipart image]`, two open objects any image
  matches both of, so the `oneOf` can never pass; the JSON alternative is kept.
- the variants spec marks nullable variant fields with the Swagger-2 `x-nullable`, which OAS 3
  validators ignore; it is read as `nullable`.
- the Inventory API declares its 422s as `application/problem+json`; that media type is parsed as
  JSON (openapi-core only knows `application/json` by default).
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
from tests.specs import SPEC_DIR as VENDORED_SPEC_DIR

SPEC_DIR = VENDORED_SPEC_DIR
SPEC_FILES = {
    "v2": ("bigcommerce-orders.v2.oas2.yml", "bigcommerce-store_information.v2.yml"),
    "v3": (
        "bigcommerce-webhooks.v3.yml",
        "bigcommerce-products_catalog.v3.yml",
        "bigcommerce-product-variants_catalog.v3.yml",
        "bigcommerce-product-variant-options_catalog.v3.yml",
        "bigcommerce-inventory.v3.yml",
    ),
}
API_HOST = "https://api.bigcommerce.com"
EXTRA_DESERIALIZERS = {"application/problem+json": json.loads}
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)



def _repair(name: str, raw: dict[str, Any]) -> None:
    if name == "bigcommerce-orders.v2.oas2.yml":
        sort = raw["components"]["parameters"]["sort"]["schema"]
        sort["enum"] = [f"{f}{suffix}" for f in sort["enum"] for suffix in ("", ":asc", ":desc")]
        for link in ("orderConsignments_Resource", "products_Resource"):
            raw["components"]["schemas"][link]["required"] = ["url", "resource"]
    if name == "bigcommerce-products_catalog.v3.yml":
        schemas = raw["components"]["schemas"]
        posted = {**schemas["productVariant_Full"], "required": ["sku"]}
        schemas["productVariant_Post_inline"] = posted
        inline_ref = {"$ref": "#/components/schemas/productVariant_Post_inline"}
        schemas["product_Base_POST"]["properties"]["variants"]["items"] = inline_ref
        image = raw["paths"]["/catalog/products/{product_id}/images"]["post"]["responses"]["200"]
        data = image["content"]["application/json"]["schema"]["properties"]["data"]
        image["content"]["application/json"]["schema"]["properties"]["data"] = data["oneOf"][0]
    if name == "bigcommerce-product-variants_catalog.v3.yml":
        _x_nullable_to_nullable(raw)
    if name == "bigcommerce-webhooks.v3.yml":
        data = raw["components"]["responses"]["webhooks_Resp"]["content"]["application/json"]["schema"]["properties"]["data"]
        data.pop("minItems", None)


def _x_nullable_to_nullable(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("x-nullable") is True:
            node["nullable"] = True
        for value in node.values():
            _x_nullable_to_nullable(value)
    elif isinstance(node, list):
        for value in node:
            _x_nullable_to_nullable(value)


@dataclass
class Spec:
    name: str
    version: str
    raw: dict[str, Any]
    openapi: OpenAPI


def load_specs() -> list[Spec]:
    specs = []
    for version, names in SPEC_FILES.items():
        for name in names:
            raw = yaml.load((SPEC_DIR / name).read_text(), Loader=_Loader)
            _repair(name, raw)
            config = Config(spec_validator_cls=None, extra_media_type_deserializers=EXTRA_DESERIALIZERS)
            openapi = OpenAPI.from_dict(raw, config=config)
            specs.append(Spec(name, version, raw, openapi))
    return specs


@dataclass
class ContractRecorder:
    """httpx response hook: strict checks for every API exchange, violations kept for teardown."""

    specs: list[Spec]
    validated: int = 0
    violations: list[str] = field(default_factory=list)
    undeclared: list[str] = field(default_factory=list)

    def operation(self, method: str, path: str) -> tuple[Spec, dict[str, Any]] | None:
        """The spec and operation for `/stores/{hash}/{version}/rest`; literal segments beat templates."""
        parts = path.strip("/").split("/")
        if len(parts) < 4 or parts[0] != "stores":
            return None
        version, rest = parts[2], "/" + "/".join(parts[3:])
        best: tuple[int, Spec, dict[str, Any]] | None = None
        for spec in self.specs:
            if spec.version != version:
                continue
            for template, item in spec.raw["paths"].items():
                if path_matches(template, rest) and method in item:
                    literal = sum(not seg.startswith("{") for seg in template.split("/"))
                    if best is None or literal > best[0]:
                        best = (literal, spec, item[method])
        return None if best is None else (best[1], best[2])

    def __call__(self, response: httpx.Response) -> None:
        request = response.request
        path = request.url.path
        if not path.startswith("/stores/"):
            return
        response.read()
        label = f"{request.method} {path}?{request.url.query.decode()} -> {response.status_code}"
        found = self.operation(request.method.lower(), path)
        if found is None:
            self.violations.append(f"{label}: operation not in spec")
            return
        spec, operation = found
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if 200 <= response.status_code < 300:
                try:
                    spec.openapi.validate_request(OpenAPIRequest(request, API_HOST))
                except Exception as exc:
                    self.violations.append(f"{label}: request invalid ({spec.name}): {exc!r} {exc.__cause__!r}")
            if str(response.status_code) not in operation["responses"]:
                self.undeclared.append(label)
                return
            if response.status_code == 204:
                # `content: {}` makes openapi-core demand a body; a 204 must have none.
                if response.content:
                    self.violations.append(f"{label}: 204 with a body")
                else:
                    self.validated += 1
                return
            try:
                spec.openapi.validate_response(OpenAPIRequest(request, API_HOST), OpenAPIResponse.from_httpx(response))
                self.validated += 1
            except Exception as exc:
                self.violations.append(f"{label}: response invalid ({spec.name}): {exc!r} {exc.__cause__!r}")
