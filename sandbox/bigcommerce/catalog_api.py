"""Catalog V3 endpoints under `/stores/{store_hash}/v3/catalog`: products and their sub-resources.

Answers wrap a resource in `{"data": …, "meta": {}}` and a collection in `{"data": [...],
"meta": {"pagination": …}}`. Reads need `store_v2_products_read_only` (or the modify scope),
writes `store_v2_products`; the gateway check (401/429/403) runs before anything else.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sandbox.bigcommerce import catalog_ops
from sandbox.bigcommerce.auth import authorize, bc_state
from sandbox.bigcommerce.catalog import CatalogError, CustomField, Image, Option, Product, not_found
from sandbox.bigcommerce.catalog_payloads import (
    INCLUDES,
    custom_field_payload,
    image_payload,
    option_payload,
    option_value_payload,
    product_payload,
    variant_payload,
)
from sandbox.bigcommerce.errors import STATUS_CODES_URL, v3_unprocessable
from sandbox.bigcommerce.scopes import PRODUCTS_MODIFY, PRODUCTS_READ
from sandbox.bigcommerce.state import BigCommerceState

router = APIRouter(prefix="/stores/{store_hash}/v3/catalog")
MAX_LIMIT = 250
MAX_BATCH = 50


async def json_body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise v3_unprocessable({"body": "The request body is not valid JSON"}) from None


def page_of(request: Request, items: list[Any], default_limit: int = 50) -> tuple[list[Any], dict[str, Any]]:
    """One page and the V3 `meta.pagination` (links are query strings, as BigCommerce sends them)."""
    params = request.query_params
    try:
        page = int(params.get("page", "1"))
        limit = int(params.get("limit", str(default_limit)))
    except ValueError:
        raise v3_unprocessable({"page": "page and limit must be integers"}) from None
    if page < 1 or limit < 1:
        raise v3_unprocessable({"page" if page < 1 else "limit": "must be at least 1"})
    limit = min(limit, MAX_LIMIT)
    total = len(items)
    pages = (total + limit - 1) // limit
    chunk = items[(page - 1) * limit : page * limit]
    links: dict[str, str] = {"current": f"?page={page}&limit={limit}"}
    if page > 1:
        links["previous"] = f"?page={page - 1}&limit={limit}"
    if page < pages:
        links["next"] = f"?page={page + 1}&limit={limit}"
    pagination = {"total": total, "count": len(chunk), "per_page": limit, "current_page": page,
                  "total_pages": pages, "links": links}
    return chunk, {"pagination": pagination}


def includes(request: Request) -> set[str]:
    raw = request.query_params.get("include", "")
    return {part.strip() for part in raw.split(",") if part.strip() in INCLUDES}


def _id(raw: str) -> int | None:
    return int(raw) if raw.isdigit() else None


def product_or_404(state: BigCommerceState, store_hash: str, raw_id: str) -> Product:
    product = state.products.get(_id(raw_id) or 0)
    if product is None or product.store_hash != store_hash:
        raise not_found("product")
    return product


def _int_list(raw: str, name: str) -> list[int]:
    try:
        return [int(x) for x in raw.split(",") if x.strip()]
    except ValueError:
        raise v3_unprocessable({name: f"{name} must be a comma-separated list of integers"}) from None


def filter_products(state: BigCommerceState, store_hash: str, request: Request) -> list[Product]:
    params = request.query_params
    found = [p for p in state.products.values() if p.store_hash == store_hash]
    if "id" in params:
        found = [p for p in found if p.id in _int_list(params["id"], "id")]
    if "id:in" in params:
        found = [p for p in found if p.id in _int_list(params["id:in"], "id:in")]
    if "name" in params:
        found = [p for p in found if p.name == params["name"]]
    if "sku" in params:
        found = [p for p in found if p.sku.casefold() == params["sku"].casefold()]
    if "sku:in" in params:
        wanted = {s.strip().casefold() for s in params["sku:in"].split(",")}
        found = [p for p in found if p.sku.casefold() in wanted]
    if "keyword" in params:
        word = params["keyword"].casefold()
        found = [p for p in found if word in p.name.casefold() or word in p.sku.casefold()
                 or any(word in v.sku.casefold() for v in p.variants)]
    if "is_visible" in params:
        found = [p for p in found if p.fields["is_visible"] == (params["is_visible"] in ("true", "1"))]
    if "inventory_level" in params:
        found = [p for p in found if p.inventory_level() == int(params["inventory_level"])]
    reverse = params.get("direction") == "desc"
    key = params.get("sort", "id")
    sorters = {"id": lambda p: p.id, "name": lambda p: p.name, "sku": lambda p: p.sku, "price": lambda p: p.price,
               "date_modified": lambda p: p.date_modified, "inventory_level": lambda p: p.inventory_level()}
    return sorted(found, key=sorters.get(key, sorters["id"]), reverse=reverse)


# ----------------------------------------------------------------------------------- products


@router.get("/products")
async def get_products(request: Request, store_hash: str) -> dict[str, Any]:
    authorize(request, store_hash, PRODUCTS_READ)
    state = bc_state(request)
    chunk, meta = page_of(request, filter_products(state, store_hash, request))
    include = includes(request)
    return {"data": [product_payload(p, include) for p in chunk], "meta": meta}


@router.post("/products")
async def create_product(request: Request, store_hash: str) -> Any:
    authorize(request, store_hash, PRODUCTS_MODIFY)
    state = bc_state(request)
    product = catalog_ops.create_product(state, store_hash, await json_body(request))
    dropped = catalog_ops.cap_variant_inventory(product)
    payload = product_payload(product, {"variants", "images", "custom_fields", "options"})
    if dropped:  # 207: the product is saved, part of its inventory is not
        pagination = {"total": 1, "count": 1, "per_page": 1, "current_page": 1, "total_pages": 1, "links": {}}
        errors = {"status": 207, "title": "The product was created, but some inventory was not saved",
                  "type": STATUS_CODES_URL, "errors": dropped}
        return JSONResponse({"data": [payload], "errors": errors, "meta": {"pagination": pagination}}, status_code=207)
    return {"data": payload, "meta": {}}


@router.get("/products/{product_id}")
async def get_product(request: Request, store_hash: str, product_id: str) -> dict[str, Any]:
    authorize(request, store_hash, PRODUCTS_READ)
    product = product_or_404(bc_state(request), store_hash, product_id)
    return {"data": product_payload(product, includes(request)), "meta": {}}


@router.put("/products/{product_id}")
async def update_product(request: Request, store_hash: str, product_id: str) -> dict[str, Any]:
    authorize(request, store_hash, PRODUCTS_MODIFY)
    state = bc_state(request)
    product = product_or_404(state, store_hash, product_id)
    catalog_ops.update_product(state, product, await json_body(request))
    return {"data": product_payload(product, includes(request)), "meta": {}}


@router.delete("/products/{product_id}", status_code=204)
async def delete_product(request: Request, store_hash: str, product_id: str) -> Response:
    """BigCommerce answers 204 whether or not the product existed."""
    authorize(request, store_hash, PRODUCTS_MODIFY)
    state = bc_state(request)
    product = state.products.get(_id(product_id) or 0)
    if product is not None and product.store_hash == store_hash:
        del state.products[product.id]
    return Response(status_code=204)


@router.delete("/products", status_code=204)
async def delete_products(request: Request, store_hash: str) -> Response:
    """Bulk delete by the list filters (`id:in`, `name`, `sku`, …); without a filter nothing is deleted (422)."""
    authorize(request, store_hash, PRODUCTS_MODIFY)
    state = bc_state(request)
    if not set(request.query_params) & {"id", "id:in", "name", "sku", "sku:in", "keyword", "is_visible", "inventory_level"}:
        raise v3_unprocessable({"id:in": "a filter is required to delete products"})
    for product in filter_products(state, store_hash, request):
        del state.products[product.id]
    return Response(status_code=204)


# ----------------------------------------------------------------------------------- variants


@router.get("/products/{product_id}/variants")
async def get_variants(request: Request, store_hash: str, product_id: str) -> dict[str, Any]:
    authorize(request, store_hash, PRODUCTS_READ)
    product = product_or_404(bc_state(request), store_hash, product_id)
    chunk, meta = page_of(request, product.variants)
    return {"data": [variant_payload(product, v) for v in chunk], "meta": meta}


@router.post("/products/{product_id}/variants")
async def create_variant(request: Request, store_hash: str, product_id: str) -> dict[str, Any]:
    authorize(request, store_hash, PRODUCTS_MODIFY)
    state = bc_state(request)
    product = product_or_404(state, store_hash, product_id)
    variant = catalog_ops.add_variant(state, product, await json_body(request))
    return {"data": variant_payload(product, variant), "meta": {}}


def _variant_or_404(product: Product, raw_id: str) -> Any:
    variant = product.variant(_id(raw_id) or 0)
    if variant is None:
        raise not_found("variant")
    return variant


@router.get("/products/{product_id}/variants/{variant_id}")
async def get_variant(request: Request, store_hash: str, product_id: str, variant_id: str) -> dict[str, Any]:
    authorize(request, store_hash, PRODUCTS_READ)
    product = product_or_404(bc_state(request), store_hash, product_id)
    return {"data": variant_payload(product, _variant_or_404(product, variant_id)), "meta": {}}


@router.put("/products/{product_id}/variants/{variant_id}")
async def update_variant(request: Request, store_hash: str, product_id: str, variant_id: str) -> dict[str, Any]:
    authorize(request, store_hash, PRODUCTS_MODIFY)
    state = bc_state(request)
    product = product_or_404(state, store_hash, product_id)
    variant = _variant_or_404(product, variant_id)
    body = await json_body(request)
    errors = catalog_ops.validate_variant_update(state, product, variant, body)
    if errors:
        raise v3_unprocessable(errors)
    catalog_ops.apply_variant_update(state, product, variant, body)
    return {"data": variant_payload(product, variant), "meta": {}}


@router.delete("/products/{product_id}/variants/{variant_id}", status_code=204)
async def delete_variant(request: Request, store_hash: str, product_id: str, variant_id: str) -> Response:
    authorize(request, store_hash, PRODUCTS_MODIFY)
    state = bc_state(request)
    product = product_or_404(state, store_hash, product_id)
    product.variants = [v for v in product.variants if v.id != _id(variant_id)]
    catalog_ops.touch(state, product)
    return Response(status_code=204)


@router.put("/variants")
async def update_variants_batch(request: Request, store_hash: str) -> dict[str, Any]:
    """Up to 50 variants by id in one call; any invalid item rejects the whole batch (422 batch_errors)."""
    authorize(request, store_hash, PRODUCTS_MODIFY)
    state = bc_state(request)
    body = await json_body(request)
    if not isinstance(body, list) or not body:
        raise v3_unprocessable({"body": "an array of variants is required"})
    if len(body) > MAX_BATCH:
        raise CatalogError(413, f"The request payload is too large. The maximum items allowed in the array is {MAX_BATCH}")
    found, batch_errors = [], []
    for i, item in enumerate(body):
        variant_id = item.get("id") if isinstance(item, dict) else None
        owner = next((p for p in state.products.values() if p.store_hash == store_hash and p.variant(variant_id or 0)), None)
        if owner is None:
            title = f"Variant {variant_id} not found"
            batch_errors.append({"status": 422, "title": title, "type": "", "errors": {f"[{i}].id": "unknown"}})
            continue
        variant = owner.variant(variant_id)
        try:
            errors = catalog_ops.validate_variant_update(state, owner, variant, item)
        except CatalogError as exc:
            errors = exc.errors or {"sku": exc.message}
        if errors:
            batch_errors.append({"status": 422, "title": "JSON data is missing or invalid", "type": "", "errors": errors})
        found.append((owner, variant, item))
    skus = [item["sku"].casefold() for _, _, item in found if item.get("sku")]
    if len(skus) != len(set(skus)):
        batch_errors.append({"status": 422, "title": "Two items set the same sku", "type": "", "errors": {"sku": "duplicate"}})
    if batch_errors:
        raise BatchError(batch_errors)
    for owner, variant, item in found:
        catalog_ops.apply_variant_update(state, owner, variant, item)
    return {"data": [variant_payload(o, v) for o, v, _ in found], "meta": {}}


class BatchError(CatalogError):
    def __init__(self, batch_errors: list[dict[str, Any]]) -> None:
        super().__init__(422, "Batch failed")
        self.batch_errors = batch_errors

    def body(self, path: str) -> Any:
        return {"batch_errors": self.batch_errors}


# ----------------------------------------------------------------------------------- options


def _option_or_404(product: Product, raw_id: str) -> Option:
    option = product.option(_id(raw_id) or 0)
    if option is None:
        raise not_found("option")
    return option


@router.get("/products/{product_id}/options")
async def get_options(request: Request, store_hash: str, product_id: str) -> dict[str, Any]:
    authorize(request, store_hash, PRODUCTS_READ)
    product = product_or_404(bc_state(request), store_hash, product_id)
    chunk, meta = page_of(request, product.options)
    return {"data": [option_payload(o) for o in chunk], "meta": meta}


@router.post("/products/{product_id}/options")
async def create_option(request: Request, store_hash: str, product_id: str) -> dict[str, Any]:
    authorize(request, store_hash, PRODUCTS_MODIFY)
    state = bc_state(request)
    product = product_or_404(state, store_hash, product_id)
    option = catalog_ops.add_option(state, product, await json_body(request))
    return {"data": option_payload(option), "meta": {}}


@router.get("/products/{product_id}/options/{option_id}")
async def get_option(request: Request, store_hash: str, product_id: str, option_id: str) -> dict[str, Any]:
    authorize(request, store_hash, PRODUCTS_READ)
    product = product_or_404(bc_state(request), store_hash, product_id)
    return {"data": option_payload(_option_or_404(product, option_id)), "meta": {}}


@router.get("/products/{product_id}/options/{option_id}/values")
async def get_option_values(request: Request, store_hash: str, product_id: str, option_id: str) -> dict[str, Any]:
    authorize(request, store_hash, PRODUCTS_READ)
    product = product_or_404(bc_state(request), store_hash, product_id)
    chunk, meta = page_of(request, _option_or_404(product, option_id).values)
    return {"data": [option_value_payload(v) for v in chunk], "meta": meta}


@router.post("/products/{product_id}/options/{option_id}/values")
async def create_option_value(request: Request, store_hash: str, product_id: str, option_id: str) -> dict[str, Any]:
    authorize(request, store_hash, PRODUCTS_MODIFY)
    state = bc_state(request)
    product = product_or_404(state, store_hash, product_id)
    option = _option_or_404(product, option_id)
    value = catalog_ops.add_option_value(state, product, option, await json_body(request))
    return {"data": option_value_payload(value), "meta": {}}


# ----------------------------------------------------------------------------------- images


def _image_or_404(product: Product, raw_id: str) -> Image:
    image = next((i for i in product.images if i.id == _id(raw_id)), None)
    if image is None:
        raise not_found("image")
    return image


@router.get("/products/{product_id}/images")
async def get_images(request: Request, store_hash: str, product_id: str) -> dict[str, Any]:
    authorize(request, store_hash, PRODUCTS_READ)
    product = product_or_404(bc_state(request), store_hash, product_id)
    ordered = sorted(product.images, key=lambda i: (i.sort_order, i.id))
    chunk, meta = page_of(request, ordered)
    return {"data": [image_payload(store_hash, i) for i in chunk], "meta": meta}


@router.post("/products/{product_id}/images")
async def create_image(request: Request, store_hash: str, product_id: str) -> dict[str, Any]:
    authorize(request, store_hash, PRODUCTS_MODIFY)
    state = bc_state(request)
    product = product_or_404(state, store_hash, product_id)
    image = catalog_ops.add_image(state, product, await json_body(request))
    return {"data": image_payload(store_hash, image), "meta": {}}


@router.get("/products/{product_id}/images/{image_id}")
async def get_image(request: Request, store_hash: str, product_id: str, image_id: str) -> dict[str, Any]:
    authorize(request, store_hash, PRODUCTS_READ)
    product = product_or_404(bc_state(request), store_hash, product_id)
    return {"data": image_payload(store_hash, _image_or_404(product, image_id)), "meta": {}}


@router.delete("/products/{product_id}/images/{image_id}", status_code=204)
async def delete_image(request: Request, store_hash: str, product_id: str, image_id: str) -> Response:
    authorize(request, store_hash, PRODUCTS_MODIFY)
    state = bc_state(request)
    product = product_or_404(state, store_hash, product_id)
    product.images = [i for i in product.images if i.id != _id(image_id)]
    catalog_ops.touch(state, product)
    return Response(status_code=204)


# ----------------------------------------------------------------------------------- custom fields


def _custom_or_404(product: Product, raw_id: str) -> CustomField:
    custom = next((c for c in product.custom_fields if c.id == _id(raw_id)), None)
    if custom is None:
        raise not_found("custom field")
    return custom


@router.get("/products/{product_id}/custom-fields")
async def get_custom_fields(request: Request, store_hash: str, product_id: str) -> dict[str, Any]:
    authorize(request, store_hash, PRODUCTS_READ)
    product = product_or_404(bc_state(request), store_hash, product_id)
    chunk, meta = page_of(request, product.custom_fields)
    return {"data": [custom_field_payload(c) for c in chunk], "meta": meta}


@router.post("/products/{product_id}/custom-fields")
async def create_custom_field(request: Request, store_hash: str, product_id: str) -> dict[str, Any]:
    authorize(request, store_hash, PRODUCTS_MODIFY)
    state = bc_state(request)
    product = product_or_404(state, store_hash, product_id)
    custom = catalog_ops.add_custom_field(state, product, await json_body(request))
    return {"data": custom_field_payload(custom), "meta": {}}


@router.put("/products/{product_id}/custom-fields/{custom_field_id}")
async def update_custom_field(request: Request, store_hash: str, product_id: str, custom_field_id: str) -> dict[str, Any]:
    authorize(request, store_hash, PRODUCTS_MODIFY)
    state = bc_state(request)
    product = product_or_404(state, store_hash, product_id)
    custom = _custom_or_404(product, custom_field_id)
    catalog_ops.update_custom_field(state, product, custom, await json_body(request))
    return {"data": custom_field_payload(custom), "meta": {}}


@router.delete("/products/{product_id}/custom-fields/{custom_field_id}", status_code=204)
async def delete_custom_field(request: Request, store_hash: str, product_id: str, custom_field_id: str) -> Response:
    authorize(request, store_hash, PRODUCTS_MODIFY)
    state = bc_state(request)
    product = product_or_404(state, store_hash, product_id)
    custom = _custom_or_404(product, custom_field_id)
    product.custom_fields.remove(custom)
    catalog_ops.touch(state, product)
    return Response(status_code=204)
