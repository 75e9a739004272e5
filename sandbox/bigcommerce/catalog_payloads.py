"""JSON shapes of Catalog V3 resources (`product_Full`, `productVariant_Full`, images, options, fields)."""

from __future__ import annotations

from typing import Any

from sandbox.bigcommerce.catalog import CustomField, Image, Option, OptionValue, Product, Variant

CDN = "https://cdn11.bigcommerce.com/s-{store_hash}/images/stencil/{size}/products/{product_id}/{image_id}/image.jpg"
INCLUDES = ("variants", "images", "custom_fields", "options", "primary_image")


def image_payload(store_hash: str, image: Image) -> dict[str, Any]:
    def url(size: str) -> str:
        return CDN.format(store_hash=store_hash, size=size, product_id=image.product_id, image_id=image.id)

    return {
        "id": image.id,
        "product_id": image.product_id,
        "image_url": image.image_url,
        "is_thumbnail": image.is_thumbnail,
        "sort_order": image.sort_order,
        "description": image.description,
        "date_modified": image.date_modified,
        "url_zoom": url("1280x1280"),
        "url_standard": url("500x659"),
        "url_thumbnail": url("100x100"),
        "url_tiny": url("50x50"),
    }


def custom_field_payload(custom: CustomField) -> dict[str, Any]:
    return {"id": custom.id, "name": custom.name, "value": custom.value}


def option_value_payload(value: OptionValue) -> dict[str, Any]:
    return {"id": value.id, "label": value.label, "sort_order": value.sort_order, "is_default": value.is_default,
            "value_data": {}}


def option_payload(option: Option) -> dict[str, Any]:
    return {
        "id": option.id,
        "product_id": option.product_id,
        "display_name": option.display_name,
        "type": option.type,
        "config": {},
        "sort_order": option.sort_order,
        "option_values": [option_value_payload(v) for v in option.values],
    }


def variant_payload(product: Product, variant: Variant) -> dict[str, Any]:
    fields = variant.fields
    option_values = []
    for option_id, value_id in variant.option_value_ids:
        option = product.option(option_id)
        value = next((v for v in option.values if v.id == value_id), None) if option else None
        if option is not None and value is not None:
            option_values.append(
                {"id": value.id, "label": value.label, "option_id": option.id, "option_display_name": option.display_name}
            )
    price = fields.get("price")
    sale = fields.get("sale_price")
    weight = fields.get("weight")
    body: dict[str, Any] = {
        "id": variant.id,
        "product_id": product.id,
        "sku": variant.sku,
        "cost_price": fields.get("cost_price"),
        "price": price,
        "sale_price": sale,
        "retail_price": fields.get("retail_price"),
        "map_price": fields.get("map_price") or 0,
        "weight": weight,
        "width": fields.get("width"),
        "height": fields.get("height"),
        "depth": fields.get("depth"),
        "is_free_shipping": bool(fields.get("is_free_shipping", False)),
        "fixed_cost_shipping_price": fields.get("fixed_cost_shipping_price"),
        "purchasing_disabled": bool(fields.get("purchasing_disabled", False)),
        "purchasing_disabled_message": fields.get("purchasing_disabled_message") or "",
        "image_url": fields.get("image_url") or "",
        "upc": fields.get("upc") or "",
        "inventory_level": fields.get("inventory_level") or 0,
        "inventory_warning_level": fields.get("inventory_warning_level") or 0,
        "bin_picking_number": fields.get("bin_picking_number") or "",
        "mpn": fields.get("mpn") or "",
        "gtin": fields.get("gtin") or "",
        "option_values": option_values,
        "calculated_price": sale or price if (sale or price) is not None else (product.fields["sale_price"] or product.price),
        "calculated_weight": weight if weight is not None else product.weight,
    }
    if variant.sku_id is not None:
        body["sku_id"] = variant.sku_id
    return body


def product_payload(product: Product, include: set[str] = frozenset()) -> dict[str, Any]:  # type: ignore[assignment]
    fields = product.fields
    body: dict[str, Any] = {
        "id": product.id,
        "name": product.name,
        "type": product.type,
        "sku": product.sku,
        "price": product.price,
        "weight": product.weight,
        **{k: v for k, v in fields.items() if k != "inventory_level"},
        "inventory_level": product.inventory_level(),
        "related_products": [],
        "layout_file": "product.html",
        "gift_wrapping_options_type": "any",
        "gift_wrapping_options_list": [],
        "meta_keywords": [],
        "view_count": 0,
        "preorder_release_date": None,
        "preorder_message": "",
        "is_preorder_only": False,
        "is_price_hidden": False,
        "price_hidden_label": "",
        "custom_url": {"url": f"/{_slug(product.name)}/", "is_customized": False},
        "open_graph_type": "product",
        "open_graph_title": "",
        "open_graph_description": "",
        "open_graph_use_meta_description": True,
        "open_graph_use_product_name": True,
        "open_graph_use_image": True,
        "reviews_rating_sum": 0,
        "reviews_count": 0,
        "total_sold": product.total_sold,
        "date_created": product.date_created,
        "date_modified": product.date_modified,
        "calculated_price": fields["sale_price"] or product.price,
        "option_set_id": None,
        "option_set_display": "right",
    }
    if body["option_set_id"] is None:
        del body["option_set_id"]
    if product.base_variant is not None:
        body["base_variant_id"] = product.base_variant.id
    if "variants" in include:
        body["variants"] = [variant_payload(product, v) for v in product.variants]
    if "images" in include:
        body["images"] = [image_payload(product.store_hash, i) for i in product.images]
    if "custom_fields" in include:
        body["custom_fields"] = [custom_field_payload(c) for c in product.custom_fields]
    if "options" in include:
        body["options"] = [option_payload(o) for o in product.options]
    if "primary_image" in include and product.images:
        thumb = next((i for i in product.images if i.is_thumbnail), product.images[0])
        body["primary_image"] = image_payload(product.store_hash, thumb)
    return body


def _slug(name: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split())


def full_view(product: Product) -> dict[str, Any]:
    """Everything about a product, for the control API's read-back."""
    return product_payload(product, set(INCLUDES))
