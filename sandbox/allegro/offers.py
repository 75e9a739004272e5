"""Offers world of the Allegro emulator: categories, offers, operations, commands, shipping rates, images.

One offer per variant (`external.id` = the variant SKU); `/sale/offer-variants` was switched off
on 14 April 2026, so it is deliberately absent. Zero stock ends an ACTIVE/ACTIVATING offer and only
an ACTIVATE publication command (with stock > 0) brings it back, as `SaleProductOffersRequestStock`
says. Validation answers Allegro's `ErrorsHolder` with `path` naming the field.
"""

from __future__ import annotations

import copy
import re
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from sandbox.allegro.errors import AllegroError

TITLE_MIN, TITLE_MAX, TITLE_MIN_WORDS, WORD_MAX = 12, 75, 3, 30
EXTERNAL_ID_MAX = 100
HANDLING_TIMES = ("PT0S", "PT24H", "P2D", "P3D", "P4D", "P5D", "P7D", "P10D", "P14D", "P21D", "P30D", "P60D")
STOCK_UNITS = ("UNIT", "PAIR", "SET")
SHIPPING_RATES_NAME_MAX = 64
DESCRIPTION_MAX_BYTES = 40_000
INVOICE_TYPES = ("VAT", "VAT_MARGIN", "WITHOUT_VAT", "NO_INVOICE")
IMAGE_HOST = "https://a.allegroimg.com/original"


@dataclass
class Category:
    id: str
    name: str
    parent_id: str | None
    leaf: bool
    parameters: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Offer:
    id: str
    seller_id: str
    body: dict[str, Any]  # the offer as Allegro renders it (request fields + id, publication, validation)
    created_at: float
    updated_at: float


@dataclass
class Operation:
    id: str
    offer_id: str
    started_at: float
    polls_left: int


@dataclass
class Command:
    id: str
    kind: str  # "quantity" | "publication"
    seller_id: str
    created_at: float
    body: dict[str, Any]
    tasks: list[dict[str, Any]]


def default_categories() -> dict[str, Category]:
    """A small tree: enough for walking `parent.id` and for one leaf with a required parameter."""
    size = {
        "id": "11323",
        "name": "Rozmiar",
        "type": "dictionary",
        "required": True,
        "requiredForProduct": False,
        "unit": None,
        "restrictions": {"multipleChoices": False},
        "dictionary": [{"id": f"11323_{i}", "value": v} for i, v in enumerate(("S", "M", "L", "XL"), start=1)],
        "options": {"variantsAllowed": True, "variantsEqual": False},
    }
    colour = {
        "id": "248463",
        "name": "Kolor",
        "type": "string",
        "required": False,
        "requiredForProduct": False,
        "unit": None,
        "restrictions": {"minLength": 1, "maxLength": 40, "allowedNumberOfValues": 1},
        "options": {"variantsAllowed": True, "variantsEqual": False},
    }
    return {
        "1429": Category("1429", "Moda", None, False),
        "1454": Category("1454", "Odzież męska", "1429", False),
        "257929": Category("257929", "Koszulki", "1454", True, [size, colour]),
        "5": Category("5", "Dom i Ogród", None, False),
        "67498": Category("67498", "Kubki", "5", True, []),
    }


class OffersWorld:
    """Everything listing-related, held by `AllegroState.offers` and reset with it."""

    def __init__(self) -> None:
        self.categories = default_categories()
        self.offers: dict[str, Offer] = {}
        self.operations: dict[str, Operation] = {}
        self.commands: dict[tuple[str, str], Command] = {}
        self.shipping_rates: dict[str, dict[str, Any]] = {}  # id -> {"seller_id", "body"}
        self.images: list[dict[str, Any]] = []
        # Polls answering 202 before the operation finishes; 0 makes creation synchronous (201).
        self.operation_polls = 1
        self.retry_after_s = 1
        self._next_offer = 17_700_000_000

    def new_offer_id(self) -> str:
        self._next_offer += 1
        return str(self._next_offer)

    def category_payload(self, cat: Category) -> dict[str, Any]:
        parent = {"id": cat.parent_id} if cat.parent_id else None
        options = {
            "advertisement": False,
            "advertisementPriceOptional": False,
            "offersWithProductPublicationEnabled": True,
            "productCreationEnabled": True,
            "productEANRequired": False,
            "customParametersEnabled": True,
            "variantsByColorPatternAllowed": True,
        }
        return {"id": cat.id, "name": cat.name, "parent": parent, "leaf": cat.leaf, "options": options}


def _err(message: str, path: str, code: str = "VALIDATION_ERROR", status: int = 422) -> AllegroError:
    return AllegroError(status, code, message, path=path, user_message=message)


def check_title(name: Any) -> None:
    if not isinstance(name, str) or not name.strip():
        raise _err("The offer title is required", "name")
    if not TITLE_MIN <= len(name) <= TITLE_MAX:
        raise _err(f"The title must be {TITLE_MIN}-{TITLE_MAX} characters long, got {len(name)}", "name")
    words = name.split()
    if len(words) < TITLE_MIN_WORDS:
        raise _err(f"The title must contain at least {TITLE_MIN_WORDS} words", "name")
    long_word = next((w for w in words if len(w) > WORD_MAX), None)
    if long_word is not None:
        raise _err(f"A word in the title is longer than {WORD_MAX} characters: {long_word[:40]}", "name")


def check_stock(stock: Any) -> int:
    if not isinstance(stock, dict) or not isinstance(stock.get("available"), int) or isinstance(stock.get("available"), bool):
        raise _err("stock.available must be an integer", "stock.available")
    if stock["available"] < 0:
        raise _err("stock.available must not be negative", "stock.available")
    if stock.get("unit", "UNIT") not in STOCK_UNITS:
        raise _err(f"stock.unit must be one of {', '.join(STOCK_UNITS)}", "stock.unit")
    return stock["available"]


def check_parameters(world: OffersWorld, category_id: str, parameters: Any) -> None:
    """Required category parameters present, dictionary values from the dictionary."""
    if parameters is None:
        parameters = []
    if not isinstance(parameters, list):
        raise _err("parameters must be a list", "parameters")
    given = {str(p.get("id")): p for p in parameters if isinstance(p, dict)}
    for definition in world.categories[category_id].parameters:
        value = given.get(definition["id"])
        if value is None:
            if definition["required"]:
                raise _err(
                    f"Parameter '{definition['name']}' ({definition['id']}) is required in category {category_id}",
                    f"parameters[id={definition['id']}]",
                    code="ParameterRequiredException",
                )
            continue
        if definition["type"] == "dictionary":
            allowed = {d["id"] for d in definition["dictionary"]}
            ids = value.get("valuesIds") or []
            if not ids or any(i not in allowed for i in ids):
                raise _err(
                    f"Invalid value of parameter '{definition['name']}' ({definition['id']}): {ids}",
                    f"parameters[id={definition['id']}].valuesIds",
                    code="ParameterValueException",
                )
        elif not value.get("values"):
            raise _err(
                f"Parameter '{definition['name']}' ({definition['id']}) needs values", f"parameters[id={definition['id']}].values"
            )


def check_offer(world: OffersWorld, seller_id: str, body: Any) -> None:
    """The checks Allegro runs on a product-offer, each error naming its field."""
    if not isinstance(body, dict):
        raise _err("The request body must be an object", "", status=400)
    check_title(body.get("name"))
    category = (body.get("category") or {}).get("id")
    if category is None:
        raise _err("category.id is required", "category.id")
    cat = world.categories.get(str(category))
    if cat is None:
        raise _err(f"Category {category} does not exist", "category.id")
    if not cat.leaf:
        raise _err(f"Category {category} is not a leaf category", "category.id")
    check_parameters(world, cat.id, body.get("parameters"))
    if "stock" not in body:
        raise _err("stock is required", "stock")
    available = check_stock(body["stock"])
    price = (body.get("sellingMode") or {}).get("price") or {}
    if not isinstance(price.get("amount"), str) or not re.fullmatch(r"\d+(\.\d{1,2})?", price["amount"]):
        raise _err("sellingMode.price.amount must be a decimal string", "sellingMode.price.amount")
    external = (body.get("external") or {}).get("id")
    if external is not None and (not isinstance(external, str) or len(external) > EXTERNAL_ID_MAX):
        raise _err(f"external.id must be a string of at most {EXTERNAL_ID_MAX} characters", "external.id")
    check_delivery(world, seller_id, body.get("delivery"))
    for i, image in enumerate(body.get("images") or []):
        if not isinstance(image, str) or not image.startswith("https://"):
            raise _err("images must be https URLs of uploaded images", f"images[{i}]")
    check_description(body.get("description"))
    location = body.get("location")
    if isinstance(location, dict) and location.get("countryCode") == "PL" and not location.get("province"):
        raise _err("location.province is required for Poland", "location.province")
    invoice = (body.get("payments") or {}).get("invoice")
    if invoice is not None and invoice not in INVOICE_TYPES:
        raise _err(f"payments.invoice must be one of {', '.join(INVOICE_TYPES)}", "payments.invoice")
    status = (body.get("publication") or {}).get("status", "INACTIVE")
    if status not in ("ACTIVE", "INACTIVE"):
        raise _err("publication.status must be ACTIVE or INACTIVE", "publication.status")
    if status == "ACTIVE" and available == 0:
        raise _err("An offer can only be activated with stock greater than 0", "stock.available")


def check_description(description: Any) -> None:
    """Sections of TEXT (limited HTML) and IMAGE items, at most 40,000 bytes in all."""
    if description is None:
        return
    sections = description.get("sections") if isinstance(description, dict) else None
    if not isinstance(sections, list):
        raise _err("description.sections must be a list", "description.sections")
    size = 0
    for i, section in enumerate(sections):
        for j, item in enumerate((section or {}).get("items") or []):
            kind = item.get("type") if isinstance(item, dict) else None
            if kind not in ("TEXT", "IMAGE"):
                raise _err("description items are TEXT or IMAGE", f"description.sections[{i}].items[{j}].type")
            size += len(str(item.get("content") or item.get("url") or "").encode())
    if size > DESCRIPTION_MAX_BYTES:
        raise _err(f"The description is {size} bytes, more than {DESCRIPTION_MAX_BYTES}", "description")


def check_delivery(world: OffersWorld, seller_id: str, delivery: Any) -> None:
    if delivery is None:
        return
    handling = delivery.get("handlingTime")
    if handling is not None and handling not in HANDLING_TIMES:
        raise _err(f"delivery.handlingTime must be one of {', '.join(HANDLING_TIMES)}", "delivery.handlingTime")
    rates_id = (delivery.get("shippingRates") or {}).get("id")
    if rates_id is not None:
        rates = world.shipping_rates.get(rates_id)
        if rates is None or rates["seller_id"] != seller_id:
            raise _err(f"Shipping rates {rates_id} not found", "delivery.shippingRates.id")


def new_body(offer_id: str, request: dict[str, Any], status: str, now_iso: str) -> dict[str, Any]:
    body = copy.deepcopy(request)
    body["id"] = offer_id
    body["stock"] = {"unit": "UNIT", **body["stock"]}
    body["publication"] = {**(body.get("publication") or {}), "status": status}
    body["validation"] = {"errors": [], "warnings": [], "validatedAt": now_iso}
    return body


def status_of(offer: Offer) -> str:
    return offer.body["publication"]["status"]


def set_status(offer: Offer, status: str) -> None:
    offer.body["publication"]["status"] = status


def set_available(offer: Offer, available: int) -> None:
    """Stock change with Allegro's rule: 0 on an ACTIVE/ACTIVATING offer ends it."""
    offer.body["stock"]["available"] = available
    if available == 0 and status_of(offer) in ("ACTIVE", "ACTIVATING"):
        set_status(offer, "ENDED")


def merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """JSON merge of a PATCH: objects merge, anything else replaces."""
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def listing_payload(offer: Offer, iso_of: Any) -> dict[str, Any]:
    """`OfferListingDto` as `GET /sale/offers` renders it."""
    b = offer.body
    status = status_of(offer)
    images = b.get("images") or []
    delivery = b.get("delivery") or {}
    listing = {
        "id": offer.id,
        "name": b["name"],
        "category": {"id": b["category"]["id"]},
        "primaryImage": {"url": images[0]} if images else None,
        "sellingMode": {"format": "BUY_NOW", "price": b["sellingMode"]["price"]},
        "stock": {"available": b["stock"]["available"], "sold": 0},
        "stats": {"watchersCount": 0, "visitsCount": 0},
        "publication": {
            "status": status,
            "startedAt": iso_of(offer.created_at) if status != "INACTIVE" else None,
            "endedBy": "USER" if status == "ENDED" else None,
        },
        "delivery": {"shippingRates": delivery.get("shippingRates")},
        "external": b.get("external"),
    }
    return _without_nulls(listing)


def _without_nulls(value: Any) -> Any:
    """The listing schema marks these fields not nullable: Allegro leaves absent ones out."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


def image_location() -> str:
    return f"{IMAGE_HOST}/{secrets.token_hex(2)}/{uuid.uuid4().hex}"
