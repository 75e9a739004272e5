"""Listings world of the Etsy emulator: listings, inventory, images, properties, profiles.

Rules come from the fact sheet §4/§7 and the vendored spec: drafts are created by form, the
inventory PUT replaces the whole `products` array (products left out are gone), a listing goes
active only with an image and a shipping profile, all-zero stock makes it `sold_out`, and
re-activating a `sold_out` listing sets quantity 1. Prices are kept in minor units (divisor 100).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.etsy.errors import EtsyError, bad_request

WHO_MADE = ("i_did", "someone_else", "collective")
WHEN_MADE = (
    "made_to_order", "2020_2025", "2010_2019", "2006_2009", "before_2006", "2000_2005", "1990s", "1980s",
    "1970s", "1960s", "1950s", "1940s", "1930s", "1920s", "1910s", "1900s", "1800s", "1700s", "before_1700",
)
LISTING_TYPES = ("physical", "download", "both")
LISTING_STATES = ("active", "inactive", "sold_out", "draft", "expired")
WEIGHT_UNITS = ("oz", "lb", "g", "kg")
DIMENSION_UNITS = ("in", "ft", "mm", "cm", "m", "yd", "inches")
READINESS_STATES = ("ready_to_ship", "made_to_order")
MAX_IMAGES = 10
MAX_VARIATION_PROPERTIES = 2
_TAG_OK = re.compile(r"^[\w \-'™©®]+$")
_MATERIAL_OK = re.compile(r"^[\w ]+$")


@dataclass
class Offering:
    offering_id: int
    price: int  # minor units
    quantity: int
    is_enabled: bool


@dataclass
class Product:
    product_id: int
    sku: str
    property_values: list[dict[str, Any]]
    offering: Offering


@dataclass
class ListingImage:
    listing_image_id: int
    rank: int
    alt_text: str | None
    created: int
    size: int
    content_type: str


@dataclass
class Listing:
    listing_id: int
    shop_id: int
    user_id: int
    title: str
    description: str
    who_made: str
    when_made: str
    taxonomy_id: int
    listing_type: str
    created: int
    updated: int
    state: str = "draft"
    state_timestamp: int | None = None
    shipping_profile_id: int | None = None
    return_policy_id: int | None = None
    readiness_state_id: int | None = None
    tags: list[str] = field(default_factory=list)
    materials: list[str] = field(default_factory=list)
    is_supply: bool | None = None
    should_auto_renew: bool = False
    is_taxable: bool = True
    item_weight: float | None = None
    item_weight_unit: str | None = None
    products: list[Product] = field(default_factory=list)
    price_on_property: list[int] = field(default_factory=list)
    quantity_on_property: list[int] = field(default_factory=list)
    sku_on_property: list[int] = field(default_factory=list)
    images: list[ListingImage] = field(default_factory=list)
    properties: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def quantity(self) -> int:
        return sum(p.offering.quantity for p in self.products if p.offering.is_enabled)

    @property
    def price(self) -> int:
        enabled = [p.offering.price for p in self.products if p.offering.is_enabled] or [
            p.offering.price for p in self.products
        ]
        return min(enabled) if enabled else 0


@dataclass
class Destination:
    shipping_profile_destination_id: int
    destination_country_iso: str
    destination_region: str
    primary_cost: int
    secondary_cost: int
    shipping_carrier_id: int | None = None
    mail_class: str | None = None
    min_delivery_days: int | None = None
    max_delivery_days: int | None = None


@dataclass
class ShippingProfile:
    shipping_profile_id: int
    shop_id: int
    user_id: int
    title: str
    origin_country_iso: str
    min_processing_days: int
    max_processing_days: int
    processing_time_unit: str
    origin_postal_code: str | None
    destinations: list[Destination] = field(default_factory=list)


@dataclass
class ReadinessState:
    readiness_state_id: int
    shop_id: int
    readiness_state: str
    min_processing_time: int
    max_processing_time: int
    processing_time_unit: str


# --------------------------------------------------------------------------- form parsing


class Form:
    """Typed reads of a form body; every error names the field, in Etsy's 400 shape."""

    def __init__(self, data: dict[str, list[str]]) -> None:
        self.data = data

    def has(self, name: str) -> bool:
        return name in self.data

    def text(self, name: str, required: bool = False) -> str | None:
        values = self.data.get(name)
        if not values or values[0] == "":
            if required:
                raise bad_request(f"Missing required parameter: {name}")
            return None
        return values[0]

    def integer(self, name: str, required: bool = False, minimum: int | None = None,
            maximum: int | None = None) -> int | None:
        raw = self.text(name, required)
        if raw is None:
            return None
        try:
            value = int(raw)
        except ValueError:
            raise bad_request(f"Expected int for parameter '{name}', got '{raw}'.") from None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise bad_request(f"Parameter '{name}' must be between {minimum} and {maximum}, got {value}.")
        return value

    def money(self, name: str, required: bool = False, positive: bool = True) -> int | None:
        raw = self.text(name, required)
        return None if raw is None else to_minor(raw, name, positive=positive)

    def enum(self, name: str, allowed: tuple[str, ...], required: bool = False) -> str | None:
        raw = self.text(name, required)
        if raw is not None and raw not in allowed:
            raise bad_request(f"Parameter '{name}' must be one of {', '.join(allowed)}; got '{raw}'.")
        return raw

    def flag(self, name: str) -> bool | None:
        raw = self.text(name)
        if raw is None:
            return None
        if raw.lower() in ("true", "1"):
            return True
        if raw.lower() in ("false", "0"):
            return False
        raise bad_request(f"Expected boolean for parameter '{name}', got '{raw}'.")

    def str_list(self, name: str) -> list[str] | None:
        """Arrays arrive as one comma-separated value or as repeated fields (`tags`, `tags[]`)."""
        values = self.data.get(name, []) + self.data.get(f"{name}[]", [])
        if not values and not self.has(name):
            return None
        return [part.strip() for v in values for part in v.split(",") if part.strip()]

    def int_list(self, name: str) -> list[int] | None:
        items = self.str_list(name)
        if items is None:
            return None
        try:
            return [int(v) for v in items]
        except ValueError:
            raise bad_request(f"Expected a list of integers for parameter '{name}'.") from None


def to_minor(value: Any, name: str, positive: bool = True) -> int:
    try:
        minor = Decimal(str(value)) * 100
    except InvalidOperation:
        raise bad_request(f"Expected float for parameter '{name}', got '{value}'.") from None
    if not minor.is_finite() or minor != minor.to_integral_value():
        raise bad_request(f"Parameter '{name}' must be a positive amount with at most 2 decimals, got '{value}'.")
    if minor < 0 or (positive and minor == 0):
        raise bad_request(f"Parameter '{name}' must be a positive amount, got '{value}'.")
    return int(minor)


def check_title(title: str) -> str:
    for ch in "%:&+":
        if title.count(ch) > 1:
            raise bad_request(f"Title may contain the character '{ch}' at most once.")
    if any(ch.isspace() and ch != " " for ch in title) or any(not ch.isprintable() for ch in title):
        raise bad_request("Title contains invalid characters.")
    if len(title) > 140:
        raise bad_request("Title must be at most 140 characters.")
    return title


def check_tags(tags: list[str]) -> list[str]:
    if len(tags) > 13:
        raise bad_request("A listing may have at most 13 tags.")
    seen: set[str] = set()
    for tag in tags:
        if not _TAG_OK.match(tag) or len(tag) > 20:
            raise bad_request(f"Tag '{tag}' is invalid: letters, digits, spaces, - and ' only, at most 20 chars.")
        if tag.lower() in seen:
            raise bad_request(f"Tag '{tag}' is duplicated.")
        seen.add(tag.lower())
    return tags


def check_materials(materials: list[str]) -> list[str]:
    for material in materials:
        if not _MATERIAL_OK.match(material):
            raise bad_request(f"Material '{material}' is invalid: letters, digits and spaces only.")
    return materials


# --------------------------------------------------------------------------- inventory


def parse_products(body: Any, next_id: Any) -> tuple[list[Product], dict[str, list[int]]]:
    """Validate an updateListingInventory body completely before anything is replaced."""
    if not isinstance(body, dict) or not isinstance(body.get("products"), list):
        raise bad_request("Missing required parameter: products")
    on_property: dict[str, list[int]] = {}
    for key in ("price_on_property", "quantity_on_property", "sku_on_property"):
        raw = body.get(key, [])
        if not isinstance(raw, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in raw):
            raise bad_request(f"{key} must be an array of property ids.")
        on_property[key] = raw
    if not body["products"]:
        raise bad_request("products must contain at least one product.")
    products: list[Product] = []
    property_ids: list[int] | None = None
    combos: set[tuple[Any, ...]] = set()
    for i, raw in enumerate(body["products"]):
        where = f"products[{i}]"
        if not isinstance(raw, dict):
            raise bad_request(f"{where} must be an object.")
        sku = raw.get("sku", "")
        if not isinstance(sku, str) or len(sku) > 32:
            raise bad_request(f"{where}.sku must be a string of at most 32 characters.")
        values = raw.get("property_values", [])
        if not isinstance(values, list):
            raise bad_request(f"{where}.property_values must be an array.")
        ids: list[int] = []
        clean_values = []
        for j, pv in enumerate(values):
            if not isinstance(pv, dict) or not isinstance(pv.get("property_id"), int):
                raise bad_request(f"{where}.property_values[{j}].property_id is required.")
            vals = pv.get("values", [])
            if not isinstance(vals, list) or len(vals) != 1 or not all(isinstance(v, str) and v for v in vals):
                raise bad_request(f"{where}.property_values[{j}].values must hold exactly one value.")
            ids.append(pv["property_id"])
            clean_values.append(
                {
                    "property_id": pv["property_id"],
                    "property_name": pv.get("property_name"),
                    "scale_id": pv.get("scale_id"),
                    "scale_name": None,
                    "value_ids": [v for v in pv.get("value_ids", []) if isinstance(v, int)],
                    "values": vals,
                }
            )
        if len(set(ids)) != len(ids):
            raise bad_request(f"{where}.property_values repeats a property_id.")
        if len(ids) > MAX_VARIATION_PROPERTIES:
            raise bad_request(f"{where}: a listing may vary on at most {MAX_VARIATION_PROPERTIES} properties.")
        if property_ids is None:
            property_ids = sorted(ids)
        elif sorted(ids) != property_ids:
            raise bad_request(f"{where}.property_values must use the same properties as every other product.")
        combo = tuple(sorted((pv["property_id"], pv["values"][0].lower()) for pv in clean_values))
        if combo in combos:
            raise bad_request(f"{where} duplicates another product's property values.")
        combos.add(combo)
        offerings = raw.get("offerings")
        if not isinstance(offerings, list) or len(offerings) != 1 or not isinstance(offerings[0], dict):
            raise bad_request(f"{where}.offerings must hold exactly one offering.")
        off = offerings[0]
        quantity = off.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 <= quantity <= 999:
            raise bad_request(f"{where}.offerings[0].quantity must be an integer between 0 and 999.")
        if "price" not in off or isinstance(off["price"], bool):
            raise bad_request(f"{where}.offerings[0].price is required.")
        price = to_minor(off["price"], f"{where}.offerings[0].price")
        enabled = off.get("is_enabled", True)
        if not isinstance(enabled, bool):
            raise bad_request(f"{where}.offerings[0].is_enabled must be a boolean.")
        products.append(Product(next_id("product"), sku, clean_values, Offering(next_id("offering"), price, quantity,
                                                                                  enabled)))
    _check_on_property(products, property_ids or [], on_property)
    return products, on_property


def _check_on_property(products: list[Product], property_ids: list[int], on: dict[str, list[int]]) -> None:
    """Values may differ between products only across the properties named in `*_on_property`."""
    for key, attr in (("price_on_property", "price"), ("quantity_on_property", "quantity"), ("sku_on_property", "sku")):
        listed = on[key]
        if any(pid not in property_ids for pid in listed):
            raise bad_request(f"{key} names a property that no product varies on.")
        groups: dict[tuple[Any, ...], set[Any]] = {}
        for p in products:
            key_vals = tuple(pv["values"][0] for pv in p.property_values if pv["property_id"] in listed)
            value = p.sku if attr == "sku" else getattr(p.offering, attr)
            groups.setdefault(key_vals, set()).add(value)
        if any(len(values) > 1 for values in groups.values()):
            raise bad_request(f"Products differ in {attr} but {key} does not list the property that varies.")


def money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "divisor": 100, "currency_code": currency}


def inventory_payload(listing: Listing, currency: str) -> dict[str, Any]:
    return {
        "products": [
            {
                "product_id": p.product_id,
                "sku": p.sku,
                "is_deleted": False,
                "offerings": [
                    {
                        "offering_id": p.offering.offering_id,
                        "quantity": p.offering.quantity,
                        "is_enabled": p.offering.is_enabled,
                        "is_deleted": False,
                        "price": money(p.offering.price, currency),
                    }
                ],
                "property_values": p.property_values,
            }
            for p in listing.products
        ],
        "price_on_property": listing.price_on_property,
        "quantity_on_property": listing.quantity_on_property,
        "sku_on_property": listing.sku_on_property,
    }


def apply_stock_state(listing: Listing, now: int) -> None:
    """Zero stock on a live listing → sold_out; a restock brings a sold_out listing back to active."""
    if listing.state == "active" and listing.quantity == 0:
        listing.state, listing.state_timestamp = "sold_out", now
    elif listing.state == "sold_out" and listing.quantity > 0:
        listing.state, listing.state_timestamp = "active", now


def check_can_activate(listing: Listing, profiles: dict[int, ShippingProfile], needs_readiness: bool) -> None:
    if not listing.images:
        raise EtsyError(400, "Cannot activate listing: a listing needs at least one image to be active.")
    if listing.listing_type != "download":
        profile = profiles.get(listing.shipping_profile_id or 0)
        if profile is None:
            raise EtsyError(400, "Cannot activate listing: a physical listing needs a shipping_profile_id.")
        if not profile.destinations:
            raise EtsyError(400, "Cannot activate listing: its shipping profile has no destinations.")
        if needs_readiness and listing.readiness_state_id is None:
            raise EtsyError(400, "Cannot activate listing: a physical listing needs a readiness_state_id.")


# --------------------------------------------------------------------------- payloads


def image_payload(listing_id: int, image: ListingImage) -> dict[str, Any]:
    base = f"https://i.etsystatic.com/sandbox/{listing_id}/{image.listing_image_id}"
    return {
        "listing_id": listing_id,
        "listing_image_id": image.listing_image_id,
        "hex_code": None,
        "red": None,
        "green": None,
        "blue": None,
        "hue": None,
        "saturation": None,
        "brightness": None,
        "is_black_and_white": None,
        "creation_tsz": image.created,
        "created_timestamp": image.created,
        "rank": image.rank,
        "url_75x75": f"{base}/il_75x75.jpg",
        "url_170x135": f"{base}/il_170x135.jpg",
        "url_570xN": f"{base}/il_570xN.jpg",
        "url_fullxfull": f"{base}/il_fullxfull.jpg",
        "full_height": None,
        "full_width": None,
        "alt_text": image.alt_text,
    }


# openapi-core rejects null for these nullable enums (null is not in `enum`), so they are left out
# of the payload while unset rather than sent as null.
_OMIT_WHEN_NULL = ("item_weight_unit", "item_dimensions_unit", "who_made", "when_made")


def listing_payload(listing: Listing, currency: str) -> dict[str, Any]:
    body = _listing_fields(listing, currency)
    return {k: v for k, v in body.items() if not (k in _OMIT_WHEN_NULL and v is None)}


def _listing_fields(listing: Listing, currency: str) -> dict[str, Any]:
    return {
        "listing_id": listing.listing_id,
        "user_id": listing.user_id,
        "shop_id": listing.shop_id,
        "title": listing.title,
        "description": listing.description,
        "state": listing.state,
        "creation_timestamp": listing.created,
        "created_timestamp": listing.created,
        "ending_timestamp": listing.created + 120 * 86400,
        "original_creation_timestamp": listing.created,
        "last_modified_timestamp": listing.updated,
        "updated_timestamp": listing.updated,
        "state_timestamp": listing.state_timestamp,
        "quantity": listing.quantity,
        "shop_section_id": None,
        "featured_rank": -1,
        "url": f"https://www.etsy.com/listing/{listing.listing_id}",
        "num_favorers": 0,
        "non_taxable": not listing.is_taxable,
        "is_taxable": listing.is_taxable,
        "is_customizable": False,
        "is_personalizable": False,
        "personalization_is_required": False,
        "personalization_char_count_max": None,
        "personalization_instructions": None,
        "listing_type": listing.listing_type,
        "tags": listing.tags,
        "materials": listing.materials,
        "shipping_profile_id": listing.shipping_profile_id,
        "return_policy_id": listing.return_policy_id,
        "processing_min": None,
        "processing_max": None,
        "who_made": listing.who_made,
        "when_made": listing.when_made,
        "is_supply": listing.is_supply,
        "item_weight": listing.item_weight,
        "item_weight_unit": listing.item_weight_unit,
        "item_length": None,
        "item_width": None,
        "item_height": None,
        "item_dimensions_unit": None,
        "is_private": False,
        "style": [],
        "file_data": "",
        "has_variations": any(p.property_values for p in listing.products),
        "should_auto_renew": listing.should_auto_renew,
        "language": "en-US",
        "price": money(listing.price, currency),
        "taxonomy_id": listing.taxonomy_id,
    }


def destination_payload(profile: ShippingProfile, d: Destination, currency: str) -> dict[str, Any]:
    return {
        "shipping_profile_destination_id": d.shipping_profile_destination_id,
        "shipping_profile_id": profile.shipping_profile_id,
        "origin_country_iso": profile.origin_country_iso,
        "destination_country_iso": d.destination_country_iso,
        "destination_region": d.destination_region,
        "primary_cost": money(d.primary_cost, currency),
        "secondary_cost": money(d.secondary_cost, currency),
        "shipping_carrier_id": d.shipping_carrier_id,
        "mail_class": d.mail_class,
        "min_delivery_days": d.min_delivery_days,
        "max_delivery_days": d.max_delivery_days,
    }


def profile_payload(profile: ShippingProfile, currency: str) -> dict[str, Any]:
    unit = "weeks" if profile.processing_time_unit == "weeks" else "business days"
    return {
        "shipping_profile_id": profile.shipping_profile_id,
        "title": profile.title,
        "user_id": profile.user_id,
        "min_processing_days": profile.min_processing_days,
        "max_processing_days": profile.max_processing_days,
        "processing_days_display_label": f"{profile.min_processing_days}-{profile.max_processing_days} {unit}",
        "origin_country_iso": profile.origin_country_iso,
        "is_deleted": False,
        "shipping_profile_destinations": [destination_payload(profile, d, currency) for d in profile.destinations],
        "shipping_profile_upgrades": [],
        "origin_postal_code": profile.origin_postal_code,
        "profile_type": "manual",
        "domestic_handling_fee": 0,
        "international_handling_fee": 0,
    }


def readiness_payload(r: ReadinessState) -> dict[str, Any]:
    return {
        "readiness_state_id": r.readiness_state_id,
        "shop_id": r.shop_id,
        "readiness_state": r.readiness_state,
        "min_processing_time": r.min_processing_time,
        "max_processing_time": r.max_processing_time,
        "processing_time_unit": r.processing_time_unit,
    }
