"""What catalog writes do to the state: create/update products, variants, options, images, fields.

Each function validates everything first (422/409 before any change) and then mutates; the API
routes and the control API's seeding share them so a seeded product is exactly an API-made one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sandbox.bigcommerce.catalog import (
    MAX_CUSTOM_FIELDS,
    MAX_IMAGES,
    MAX_INT,
    MAX_VARIANTS,
    MISSING,
    OPTION_TYPES,
    PRODUCT_DEFAULTS,
    VARIANT_FIELDS,
    CatalogError,
    CustomField,
    Image,
    Option,
    OptionValue,
    Product,
    Variant,
    _require_object,
    check_name_free,
    check_skus_free,
    raise_if,
    skus_in_store,
    validate_custom_field,
    validate_image,
    validate_product_fields,
    validate_variant_fields,
)
from sandbox.bigcommerce.state import BigCommerceState


def iso(state: BigCommerceState) -> str:
    return datetime.fromtimestamp(state.now_s(), UTC).isoformat()


def touch(state: BigCommerceState, product: Product) -> None:
    product.date_modified = iso(state)


def _variant_values(raw: Any, where: str, errors: dict[str, str]) -> list[tuple[str, str]]:
    """Inline-variant option values: `[{option_display_name, label}]`."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors[where] = "option_values must be an array"
        return []
    pairs = []
    for i, value in enumerate(raw):
        if not isinstance(value, dict) or not isinstance(value.get("option_display_name"), str) or not isinstance(
            value.get("label"), str
        ):
            errors[f"{where}[{i}]"] = "option value needs option_display_name and label"
            continue
        pairs.append((value["option_display_name"], value["label"]))
    return pairs


def create_product(state: BigCommerceState, store_hash: str, body: Any) -> Product:
    body = _require_object(body)
    errors = validate_product_fields(body, creating=True)
    for name in ("custom_fields", "images", "variants"):
        if name in body and not isinstance(body[name], list):
            errors[name] = f"{name} must be an array"
    custom = body.get("custom_fields") or [] if isinstance(body.get("custom_fields"), list) else []
    images = body.get("images") or [] if isinstance(body.get("images"), list) else []
    variants = body.get("variants") or [] if isinstance(body.get("variants"), list) else []
    if len(custom) > MAX_CUSTOM_FIELDS:
        errors["custom_fields"] = f"a product has at most {MAX_CUSTOM_FIELDS} custom fields"
    if len(variants) > MAX_VARIANTS:
        errors["variants"] = f"a product has at most {MAX_VARIANTS} SKUs"
    for i, raw in enumerate(custom):
        validate_custom_field(raw, f"custom_fields[{i}]", errors)
    for i, raw in enumerate(images):
        validate_image(raw, f"images[{i}]", errors)
    combos: list[list[tuple[str, str]]] = []
    for i, raw in enumerate(variants):
        if not isinstance(raw, dict):
            errors[f"variants[{i}]"] = "variant must be an object"
            continue
        if not raw.get("sku"):
            errors[f"variants[{i}].sku"] = MISSING
        validate_variant_fields(raw, f"variants[{i}].", errors)
        combos.append(_variant_values(raw.get("option_values"), f"variants[{i}].option_values", errors))
    if variants and not errors and len({tuple(sorted(c)) for c in combos}) != len(combos):
        errors["variants"] = "two variants have the same option values"
    raise_if(errors)
    check_name_free(state.products, store_hash, body["name"])
    skus = [s for s in [body.get("sku") or ""] + [v["sku"] for v in variants] if s]
    check_skus_free(skus_in_store(state.products, store_hash), skus)

    now = iso(state)
    fields = {**PRODUCT_DEFAULTS, **{k: body[k] for k in PRODUCT_DEFAULTS if k in body}}
    product = Product(
        id=state.next_id("catalog_product"),
        store_hash=store_hash,
        name=body["name"],
        type=body["type"],
        sku=body.get("sku") or "",
        price=body["price"],
        weight=body["weight"],
        date_created=now,
        date_modified=now,
        fields=fields,
    )
    for raw in custom:
        product.custom_fields.append(CustomField(state.next_id("custom_field"), raw["name"], raw["value"]))
    for raw in images:
        _append_image(state, product, raw)
    if variants and any(combos):
        for raw, combo in zip(variants, combos, strict=True):
            ids = [_option_value_for(state, product, display_name, label) for display_name, label in combo]
            product.variants.append(_new_variant(state, product, raw["sku"], ids, raw))
    else:
        # No option values: the one variant given (if any) is the base variant and carries the product SKU.
        base = {"inventory_level": fields["inventory_level"]} if not variants else variants[0]
        product.sku = product.sku or base.get("sku", "")
        product.variants.append(_new_variant(state, product, product.sku, [], base, base_variant=True))
    state.products[product.id] = product
    return product


def cap_variant_inventory(product: Product) -> dict[str, str]:
    """BigCommerce's limit handling: variant stock may sum to at most 2,147,483,647.

    Once other variants hold stock, a variant that would push the sum over is saved without its
    inventory (level 0); the product itself is kept. Returns what was not saved (→ 207).
    """
    running, dropped = 0, {}
    for i, variant in enumerate(product.variants):
        level = variant.fields.get("inventory_level") or 0
        if running + level > MAX_INT:
            variant.fields["inventory_level"] = 0
            dropped[f"variants[{i}].inventory_level"] = f"total inventory would exceed {MAX_INT}; not saved"
        else:
            running += level
    return dropped


def _option_value_for(state: BigCommerceState, product: Product, display_name: str, label: str) -> tuple[int, int]:
    option = next((o for o in product.options if o.display_name == display_name), None)
    if option is None:
        option = Option(state.next_id("option"), product.id, display_name, sort_order=len(product.options))
        product.options.append(option)
    value = next((v for v in option.values if v.label == label), None)
    if value is None:
        value = OptionValue(state.next_id("option_value"), label, sort_order=len(option.values))
        option.values.append(value)
    return option.id, value.id


def _new_variant(state: BigCommerceState, product: Product, sku: str, ids: list[tuple[int, int]], raw: dict[str, Any],
                 *, base_variant: bool = False) -> Variant:
    fields = {name: raw.get(name) for name in VARIANT_FIELDS if name in raw}
    fields.setdefault("inventory_level", 0)
    return Variant(
        id=state.next_id("variant"),
        product_id=product.id,
        sku=sku,
        sku_id=None if base_variant else state.next_id("sku"),
        option_value_ids=ids,
        fields=fields,
    )


def _append_image(state: BigCommerceState, product: Product, raw: dict[str, Any]) -> Image:
    image = Image(
        id=state.next_id("image"),
        product_id=product.id,
        image_url=raw["image_url"],
        is_thumbnail=bool(raw.get("is_thumbnail", not product.images)),
        sort_order=raw.get("sort_order", len(product.images)),
        description=raw.get("description", ""),
        date_modified=iso(state),
    )
    if image.is_thumbnail:
        for other in product.images:
            other.is_thumbnail = False
    product.images.append(image)
    return image


def update_product(state: BigCommerceState, product: Product, body: Any) -> None:
    body = _require_object(body)
    errors = validate_product_fields(body, creating=False)
    if "inventory_level" in body and body.get("inventory_tracking", product.tracking) == "variant":
        errors["inventory_level"] = "inventory is tracked by variant; update the variants' inventory_level"
    raise_if(errors)
    if "name" in body:
        check_name_free(state.products, product.store_hash, body["name"], skip_product=product.id)
    if body.get("sku"):
        check_skus_free(skus_in_store(state.products, product.store_hash, skip_product=product.id), [body["sku"]])
    for name in ("name", "type", "price", "weight"):
        if name in body:
            setattr(product, name, body[name])
    if "sku" in body:
        product.sku = body["sku"] or ""
        if product.base_variant is not None:
            product.base_variant.sku = product.sku
    product.fields.update({k: body[k] for k in PRODUCT_DEFAULTS if k in body})
    if "inventory_level" in body and product.base_variant is not None:
        product.base_variant.fields["inventory_level"] = body["inventory_level"]
    touch(state, product)


def add_variant(state: BigCommerceState, product: Product, body: Any) -> Variant:
    body = _require_object(body)
    errors: dict[str, str] = {}
    if not body.get("sku"):
        errors["sku"] = MISSING
    validate_variant_fields(body, "", errors)
    raw_values = body.get("option_values")
    ids: list[tuple[int, int]] = []
    if not isinstance(raw_values, list) or not raw_values:
        errors["option_values"] = MISSING
    else:
        for i, value in enumerate(raw_values):
            option = product.option(value.get("option_id")) if isinstance(value, dict) else None
            found = option and next((v for v in option.values if v.id == value.get("id")), None)
            if not found:
                errors[f"option_values[{i}]"] = "no option value with this id and option_id on the product"
            else:
                ids.append((option.id, found.id))
    if len(product.variants) >= MAX_VARIANTS:
        errors["variants"] = f"a product has at most {MAX_VARIANTS} SKUs"
    if not errors and any(sorted(v.option_value_ids) == sorted(ids) for v in product.variants):
        errors["option_values"] = "a variant with these option values already exists"
    raise_if(errors)
    check_skus_free(skus_in_store(state.products, product.store_hash), [body["sku"]])
    if product.base_variant is not None:  # the product becomes one with options
        product.variants.clear()
    variant = _new_variant(state, product, body["sku"], ids, body)
    product.variants.append(variant)
    touch(state, product)
    return variant


def validate_variant_update(state: BigCommerceState, product: Product, variant: Variant, body: Any,
                            taken: set[str] | None = None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not isinstance(body, dict):
        return {"body": "JSON data is missing or invalid"}
    validate_variant_fields(body, "", errors)
    if not errors and body.get("sku"):
        taken = taken if taken is not None else skus_in_store(state.products, product.store_hash, skip_variant=variant.id)
        if product.sku and variant is not product.base_variant:
            taken.add(product.sku.casefold())
        check_skus_free(taken, [body["sku"]])
    return errors


def apply_variant_update(state: BigCommerceState, product: Product, variant: Variant, body: dict[str, Any]) -> None:
    if body.get("sku"):
        variant.sku = body["sku"]
        if variant is product.base_variant:
            product.sku = variant.sku
    variant.fields.update({k: body[k] for k in VARIANT_FIELDS if k in body})
    if "inventory_level" in body and variant is product.base_variant and body["inventory_level"] is not None:
        product.fields["inventory_level"] = body["inventory_level"]
    touch(state, product)


def add_option(state: BigCommerceState, product: Product, body: Any) -> Option:
    body = _require_object(body)
    errors: dict[str, str] = {}
    name = body.get("display_name")
    if not isinstance(name, str) or not 1 <= len(name) <= 255:
        errors["display_name"] = MISSING if name is None else "display_name must be between 1 and 255 characters"
    if body.get("type") not in OPTION_TYPES:
        errors["type"] = MISSING if "type" not in body else f"type must be one of {', '.join(OPTION_TYPES)}"
    values = body.get("option_values", [])
    if not isinstance(values, list):
        errors["option_values"] = "option_values must be an array"
        values = []
    for i, value in enumerate(values):
        if not isinstance(value, dict) or not isinstance(value.get("label"), str) or not value["label"]:
            errors[f"option_values[{i}].label"] = MISSING
    raise_if(errors)
    if any(o.display_name == name for o in product.options):
        raise CatalogError(409, f"The option name {name!r} is a duplicate on this product", {"display_name": name})
    option = Option(state.next_id("option"), product.id, name, body["type"], body.get("sort_order", len(product.options)))
    for i, value in enumerate(values):
        option.values.append(
            OptionValue(state.next_id("option_value"), value["label"], value.get("sort_order", i), bool(value.get("is_default")))
        )
    product.options.append(option)
    touch(state, product)
    return option


def add_option_value(state: BigCommerceState, product: Product, option: Option, body: Any) -> OptionValue:
    body = _require_object(body)
    errors: dict[str, str] = {}
    if not isinstance(body.get("label"), str) or not body["label"]:
        errors["label"] = MISSING
    if not isinstance(body.get("sort_order"), int):
        errors["sort_order"] = MISSING
    raise_if(errors)
    if any(v.label == body["label"] for v in option.values):
        raise CatalogError(422, f"The option value {body['label']!r} already exists", {"label": body["label"]})
    value = OptionValue(state.next_id("option_value"), body["label"], body["sort_order"], bool(body.get("is_default")))
    option.values.append(value)
    touch(state, product)
    return value


def add_image(state: BigCommerceState, product: Product, body: Any) -> Image:
    body = _require_object(body)
    errors: dict[str, str] = {}
    validate_image(body, "image", errors)
    if len(product.images) >= MAX_IMAGES:
        errors["images"] = f"a product has at most {MAX_IMAGES} images"
    raise_if({k.removeprefix("image."): v for k, v in errors.items()})
    image = _append_image(state, product, body)
    touch(state, product)
    return image


def add_custom_field(state: BigCommerceState, product: Product, body: Any) -> CustomField:
    errors: dict[str, str] = {}
    validate_custom_field(body, "custom_field", errors)
    if len(product.custom_fields) >= MAX_CUSTOM_FIELDS:
        errors["custom_fields"] = f"a product has at most {MAX_CUSTOM_FIELDS} custom fields"
    raise_if({k.removeprefix("custom_field."): v for k, v in errors.items()})
    custom = CustomField(state.next_id("custom_field"), body["name"], body["value"])
    product.custom_fields.append(custom)
    touch(state, product)
    return custom


def update_custom_field(state: BigCommerceState, product: Product, custom: CustomField, body: Any) -> None:
    body = _require_object(body)
    merged = {"name": body.get("name", custom.name), "value": body.get("value", custom.value)}
    errors: dict[str, str] = {}
    validate_custom_field(merged, "custom_field", errors)
    raise_if({k.removeprefix("custom_field."): v for k, v in errors.items()})
    custom.name, custom.value = merged["name"], merged["value"]
    touch(state, product)
