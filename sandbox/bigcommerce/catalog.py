"""Catalog V3 model of the emulator: products with their variants, options, images and custom fields.

Rules kept here because the API, the Inventory API and the control API all go through them:
- `name` is unique per store and `sku` is unique case-insensitively across products *and*
  variants (409 otherwise); invalid fields are 422 with `errors` naming the field.
- Every product has variants: a simple product has one base variant (no option values) that
  carries the product's SKU; a product whose variants have option values has no base variant.
- Stock lives where `inventory_tracking` says: on the product (`product`) or on each variant
  (`variant`, the product's `inventory_level` is then the sum). The Inventory API writes the
  same numbers the catalog reads.
- Every write validates the whole request before changing anything, so a 4xx leaves no trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.bigcommerce.errors import BigCommerceError, v3_unprocessable

MAX_INT = 2_147_483_647
MAX_WEIGHT = 9_999_999_999
MAX_VARIANTS = 600
MAX_CUSTOM_FIELDS = 200
MAX_IMAGES = 1000
PRODUCT_TYPES = ("physical", "digital")
TRACKING = ("none", "product", "variant")
AVAILABILITY = ("available", "disabled", "preorder")
CONDITIONS = ("New", "Used", "Refurbished")
OPTION_TYPES = ("radio_buttons", "rectangles", "dropdown", "product_list", "product_list_with_images", "swatch")
MISSING = "error.path.missing"

# Scalar product fields a client may set, with their defaults on a new product.
PRODUCT_DEFAULTS: dict[str, Any] = {
    "description": "",
    "width": 0,
    "depth": 0,
    "height": 0,
    "cost_price": 0,
    "retail_price": 0,
    "sale_price": 0,
    "map_price": 0,
    "tax_class_id": 0,
    "product_tax_code": "",
    "categories": [],
    "brand_id": 0,
    "inventory_level": 0,
    "inventory_warning_level": 0,
    "inventory_tracking": "none",
    "fixed_cost_shipping_price": 0,
    "is_free_shipping": False,
    "is_visible": True,
    "is_featured": False,
    "warranty": "",
    "bin_picking_number": "",
    "upc": "",
    "mpn": "",
    "gtin": "",
    "search_keywords": "",
    "availability": "available",
    "availability_description": "",
    "sort_order": 0,
    "condition": "New",
    "is_condition_shown": False,
    "order_quantity_minimum": 0,
    "order_quantity_maximum": 0,
    "page_title": "",
    "meta_description": "",
}
VARIANT_FIELDS = (
    "cost_price", "price", "sale_price", "retail_price", "map_price", "weight", "width", "height", "depth",
    "is_free_shipping", "fixed_cost_shipping_price", "purchasing_disabled", "purchasing_disabled_message",
    "image_url", "upc", "inventory_level", "inventory_warning_level", "bin_picking_number", "mpn", "gtin",
)


class CatalogError(BigCommerceError):
    """A V3 catalog error: `{status, title, type, errors}`."""

    def __init__(self, status: int, title: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(status, title, shape="v3", errors=errors or {})


def conflict(title: str, field_name: str) -> CatalogError:
    return CatalogError(409, title, {field_name: title})


def not_found(what: str) -> CatalogError:
    return CatalogError(404, f"The {what} was not found.")


@dataclass
class OptionValue:
    id: int
    label: str
    sort_order: int = 0
    is_default: bool = False


@dataclass
class Option:
    id: int
    product_id: int
    display_name: str
    type: str = "rectangles"
    sort_order: int = 0
    values: list[OptionValue] = field(default_factory=list)


@dataclass
class Variant:
    id: int
    product_id: int
    sku: str
    sku_id: int | None
    option_value_ids: list[tuple[int, int]]  # (option_id, value_id)
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Image:
    id: int
    product_id: int
    image_url: str
    is_thumbnail: bool
    sort_order: int
    description: str
    date_modified: str


@dataclass
class CustomField:
    id: int
    name: str
    value: str


@dataclass
class Product:
    id: int
    store_hash: str
    name: str
    type: str
    sku: str
    price: float
    weight: float
    date_created: str
    date_modified: str
    fields: dict[str, Any]
    variants: list[Variant] = field(default_factory=list)
    options: list[Option] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    custom_fields: list[CustomField] = field(default_factory=list)
    total_sold: int = 0

    @property
    def tracking(self) -> str:
        return self.fields["inventory_tracking"]

    @property
    def base_variant(self) -> Variant | None:
        return self.variants[0] if len(self.variants) == 1 and not self.variants[0].option_value_ids else None

    def inventory_level(self) -> int:
        if self.tracking == "variant":
            return sum(v.fields.get("inventory_level") or 0 for v in self.variants)
        return self.fields["inventory_level"]

    def option(self, option_id: int) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)

    def variant(self, variant_id: int) -> Variant | None:
        return next((v for v in self.variants if v.id == variant_id), None)


# ----------------------------------------------------------------------------------- validation


def _require_object(body: Any, what: str = "body") -> dict[str, Any]:
    if not isinstance(body, dict):
        raise v3_unprocessable({what: "JSON data is missing or invalid"})
    return body


def _number(body: dict[str, Any], name: str, errors: dict[str, str], low: float = 0, high: float = MAX_INT,
            *, integer: bool = False, nullable: bool = False) -> None:
    if name not in body:
        return
    value = body[name]
    if value is None and nullable:
        return
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind):
        errors[name] = f"{name} must be {'an integer' if integer else 'a number'}"
    elif not low <= value <= high:
        errors[name] = f"{name} must be between {low} and {high}"


def _string(body: dict[str, Any], name: str, errors: dict[str, str], low: int = 0, high: int = 255) -> None:
    if name not in body:
        return
    value = body[name]
    if not isinstance(value, str):
        errors[name] = f"{name} must be a string"
    elif not low <= len(value) <= high:
        errors[name] = f"{name} must be between {low} and {high} characters"


def _enum(body: dict[str, Any], name: str, allowed: tuple[str, ...], errors: dict[str, str]) -> None:
    if name in body and body[name] not in allowed:
        errors[name] = f"{name} must be one of {', '.join(allowed)}"


def _bool(body: dict[str, Any], name: str, errors: dict[str, str]) -> None:
    if name in body and not isinstance(body[name], bool):
        errors[name] = f"{name} must be a boolean"


def validate_product_fields(body: dict[str, Any], *, creating: bool) -> dict[str, str]:
    errors: dict[str, str] = {}
    if creating:
        for name in ("name", "type", "weight", "price"):
            if name not in body:
                errors[name] = MISSING
    _string(body, "name", errors, 1, 250)
    _enum(body, "type", PRODUCT_TYPES, errors)
    _string(body, "sku", errors, 0, 255)
    _string(body, "description", errors, 0, 65_535)
    for name in ("price", "cost_price", "retail_price", "sale_price", "map_price", "fixed_cost_shipping_price"):
        _number(body, name, errors, 0, 1e12)
    _number(body, "weight", errors, 0, MAX_WEIGHT)
    for name in ("width", "depth", "height"):
        _number(body, name, errors, 0, MAX_WEIGHT)
    for name in ("inventory_level", "inventory_warning_level"):
        _number(body, name, errors, 0, MAX_INT, integer=True)
    _enum(body, "inventory_tracking", TRACKING, errors)
    _enum(body, "availability", AVAILABILITY, errors)
    _enum(body, "condition", CONDITIONS, errors)
    for name in ("is_visible", "is_featured", "is_free_shipping", "is_condition_shown"):
        _bool(body, name, errors)
    _string(body, "upc", errors, 0, 14)
    if "categories" in body and not (
        isinstance(body["categories"], list) and all(isinstance(c, int) and not isinstance(c, bool) for c in body["categories"])
    ):
        errors["categories"] = "categories must be an array of category ids"
    return errors


def validate_custom_field(raw: Any, where: str, errors: dict[str, str]) -> None:
    if not isinstance(raw, dict):
        errors[where] = "custom field must be an object"
        return
    for name in ("name", "value"):
        if name not in raw:
            errors[f"{where}.{name}"] = MISSING
        elif not isinstance(raw[name], str) or not 1 <= len(raw[name]) <= 250:
            errors[f"{where}.{name}"] = f"{name} must be between 1 and 250 characters"


def validate_image(raw: Any, where: str, errors: dict[str, str]) -> None:
    if not isinstance(raw, dict):
        errors[where] = "image must be an object"
        return
    if "image_url" not in raw:
        errors[f"{where}.image_url"] = MISSING
    sub: dict[str, str] = {}
    _string(raw, "image_url", sub, 1, 255)
    _number(raw, "sort_order", sub, -MAX_INT, MAX_INT, integer=True)
    _bool(raw, "is_thumbnail", sub)
    _string(raw, "description", sub, 0, 65_535)
    errors.update({f"{where}.{k}": v for k, v in sub.items()})


def validate_variant_fields(raw: dict[str, Any], where: str, errors: dict[str, str]) -> None:
    sub: dict[str, str] = {}
    _string(raw, "sku", sub, 1, 255)
    for name in ("cost_price", "price", "sale_price", "retail_price", "fixed_cost_shipping_price"):
        _number(raw, name, sub, 0, 1e12, nullable=True)
    for name in ("weight", "width", "height", "depth"):
        _number(raw, name, sub, 0, MAX_WEIGHT, nullable=True)
    for name in ("inventory_level", "inventory_warning_level"):
        _number(raw, name, sub, 0, MAX_INT, integer=True, nullable=True)
    _string(raw, "image_url", sub, 0, 255)
    _string(raw, "upc", sub, 0, 14)
    _bool(raw, "purchasing_disabled", sub)
    errors.update({f"{where}{k}": v for k, v in sub.items()})


def raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise v3_unprocessable(errors)


# ----------------------------------------------------------------------------------- uniqueness


def skus_in_store(products: dict[int, Product], store_hash: str, skip_product: int | None = None,
                  skip_variant: int | None = None) -> set[str]:
    """Every SKU in use (casefolded), except those of `skip_product` or the one `skip_variant`."""
    taken: set[str] = set()
    for product in products.values():
        if product.store_hash != store_hash or product.id == skip_product:
            continue
        if product.sku:
            taken.add(product.sku.casefold())
        taken.update(v.sku.casefold() for v in product.variants if v.sku and v.id != skip_variant)
    return taken


def check_name_free(products: dict[int, Product], store_hash: str, name: str, skip_product: int | None = None) -> None:
    for product in products.values():
        if product.store_hash == store_hash and product.id != skip_product and product.name.casefold() == name.casefold():
            raise conflict(f"The product name is a duplicate: a product named {name!r} already exists", "name")


def check_skus_free(taken: set[str], skus: list[str]) -> None:
    seen: set[str] = set()
    for sku in skus:
        key = sku.casefold()
        if key in taken or key in seen:
            raise conflict(f"Sku {sku!r} is not unique", "sku")
        seen.add(key)
