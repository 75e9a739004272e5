"""The v3 listing endpoints: drafts, inventory, images, properties, shipping/processing profiles.

Checks run in the same order as the order endpoints (key, rate, token, scope, existence,
ownership) and every invalid input answers Etsy's 400 `{"error": ...}` naming the field.
Nothing is changed until the whole request has been validated.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from sandbox.etsy import listings as lx
from sandbox.etsy.api import _owned_shop, _path_id
from sandbox.etsy.auth import etsy_state, require_api_key, require_token
from sandbox.etsy.errors import EtsyError, bad_request, not_found
from sandbox.etsy.receipts import parse_int
from sandbox.etsy.state import EtsyState, Shop

router = APIRouter(prefix="/v3/application")


async def _form(request: Request) -> lx.Form:
    form = await request.form()
    data: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            data.setdefault(key, []).append(value)
    return lx.Form(data)


def _listing(state: EtsyState, raw_listing_id: str) -> lx.Listing:
    listing_id = _path_id(raw_listing_id, "listing_id")
    listing = state.listings.get(listing_id)
    if listing is None:
        raise not_found(f"Could not find a Listing with listing_id = {listing_id}.")
    return listing


def _shop_listing(state: EtsyState, shop: Shop, raw_listing_id: str) -> lx.Listing:
    listing = _listing(state, raw_listing_id)
    if listing.shop_id != shop.shop_id:
        raise not_found(f"Could not find a Listing with listing_id = {listing.listing_id} in shop_id = {shop.shop_id}.")
    return listing


def _owned_listing(state: EtsyState, raw_listing_id: str, user_id: int) -> lx.Listing:
    listing = _listing(state, raw_listing_id)
    if listing.user_id != user_id:
        raise EtsyError(403, f"The authenticated user does not own listing_id = {listing.listing_id}.")
    return listing


def _currency(state: EtsyState, listing: lx.Listing) -> str:
    return state.shops[listing.shop_id].currency_code


def _listing_json(state: EtsyState, listing: lx.Listing, includes: list[str] | None = None) -> dict[str, Any]:
    currency = _currency(state, listing)
    body = lx.listing_payload(listing, currency)
    for include in includes or []:
        if include == "Images":
            body["images"] = [lx.image_payload(listing.listing_id, i) for i in listing.images]
        elif include == "Inventory":
            body["inventory"] = lx.inventory_payload(listing, currency)
        elif include == "Shipping":
            profile = state.shipping_profiles.get(listing.shipping_profile_id or 0)
            body["shipping_profile"] = lx.profile_payload(profile, currency) if profile else None
    return body


def _includes(request: Request) -> list[str]:
    allowed = ("Shipping", "Images", "Shop", "User", "Translations", "Inventory", "Videos")
    values = [v.strip() for raw in request.query_params.getlist("includes") for v in raw.split(",") if v.strip()]
    for value in values:
        if value not in allowed:
            raise bad_request(f"Parameter 'includes' must be one of {', '.join(allowed)}; got '{value}'.")
    return values


def _auth(request: Request, scope: str) -> int:
    return require_token(request, require_api_key(request), scope).user_id


# --------------------------------------------------------------------------- listings


@router.post("/shops/{shop_id}/listings", status_code=201)
async def create_draft_listing(request: Request, shop_id: str) -> dict[str, Any]:
    state = etsy_state(request)
    shop = _owned_shop(state, shop_id, _auth(request, "listings_w"))
    form = await _form(request)
    quantity = form.integer("quantity", required=True)
    assert quantity is not None
    if quantity < 1 or quantity > 999:
        raise bad_request(f"Parameter 'quantity' must be between 1 and 999, got {quantity}.")
    title = lx.check_title(form.text("title", required=True) or "")
    description = form.text("description", required=True) or ""
    price = form.money("price", required=True)
    who_made = form.enum("who_made", lx.WHO_MADE, required=True)
    when_made = form.enum("when_made", lx.WHEN_MADE, required=True)
    taxonomy_id = form.integer("taxonomy_id", required=True, minimum=1)
    listing_type = form.enum("type", lx.LISTING_TYPES) or "physical"
    shipping_profile_id = form.integer("shipping_profile_id", minimum=1)
    if shipping_profile_id is not None:
        _check_profile_ref(state, shop, shipping_profile_id)
    elif listing_type == "physical":
        raise bad_request("Missing required parameter: shipping_profile_id (required for physical listings).")
    readiness_state_id = form.integer("readiness_state_id", minimum=1)
    if readiness_state_id is not None:
        _check_readiness_ref(state, shop, readiness_state_id)
    tags = lx.check_tags(form.str_list("tags") or [])
    materials = lx.check_materials(form.str_list("materials") or [])
    weight_unit = form.enum("item_weight_unit", lx.WEIGHT_UNITS)
    weight = form.text("item_weight")
    now = state.now_s()
    listing = lx.Listing(
        listing_id=state.next_id("listing"),
        shop_id=shop.shop_id,
        user_id=shop.user_id,
        title=title,
        description=description,
        who_made=who_made or "",
        when_made=when_made or "",
        taxonomy_id=taxonomy_id or 0,
        listing_type=listing_type,
        created=now,
        updated=now,
        state_timestamp=now,
        shipping_profile_id=shipping_profile_id,
        return_policy_id=form.integer("return_policy_id", minimum=1),
        readiness_state_id=readiness_state_id,
        tags=tags,
        materials=materials,
        is_supply=form.flag("is_supply"),
        should_auto_renew=bool(form.flag("should_auto_renew")),
        is_taxable=form.flag("is_taxable") is not False,
        item_weight=float(lx.to_minor(weight, "item_weight")) / 100 if weight is not None else None,
        item_weight_unit=weight_unit,
    )
    listing.products = [
        lx.Product(state.next_id("product"), "", [], lx.Offering(state.next_id("offering"), price or 0, quantity, True))
    ]
    state.listings[listing.listing_id] = listing
    return _listing_json(state, listing)


def _check_profile_ref(state: EtsyState, shop: Shop, profile_id: int) -> lx.ShippingProfile:
    profile = state.shipping_profiles.get(profile_id)
    if profile is None or profile.shop_id != shop.shop_id:
        raise bad_request(f"Invalid shipping_profile_id: {profile_id} is not a shipping profile of this shop.")
    return profile


def _check_readiness_ref(state: EtsyState, shop: Shop, readiness_id: int) -> None:
    definition = state.readiness_states.get(readiness_id)
    if definition is None or definition.shop_id != shop.shop_id:
        raise bad_request(f"Invalid readiness_state_id: {readiness_id} is not a processing profile of this shop.")


SORT_PARAMS = {
    "sort_on": ("created", "price", "updated", "score"),
    "sort_order": ("asc", "ascending", "desc", "descending", "up", "down"),
}


@router.get("/shops/{shop_id}/listings")
async def get_listings_by_shop(request: Request, shop_id: str) -> dict[str, Any]:
    state = etsy_state(request)
    shop = _owned_shop(state, shop_id, _auth(request, "listings_r"))
    wanted = request.query_params.get("state", "active")
    if wanted not in lx.LISTING_STATES:
        raise bad_request(f"Parameter 'state' must be one of {', '.join(lx.LISTING_STATES)}; got '{wanted}'.")
    limit = parse_int(request.query_params, "limit", 25, 1, 100)
    offset = parse_int(request.query_params, "offset", 0, 0)
    includes = _includes(request)
    for name, allowed in SORT_PARAMS.items():
        value = request.query_params.get(name)
        if value is not None and value not in allowed:
            raise bad_request(f"Parameter '{name}' must be one of {', '.join(allowed)}; got '{value}'.")
    # Spec: sort_on/sort_order only act with search options, so a shop's listings stay newest first.
    matching = [x for x in state.listings.values() if x.shop_id == shop.shop_id and x.state == wanted]
    matching.sort(key=lambda x: (x.created, x.listing_id), reverse=True)
    page = matching[offset : offset + limit]
    return {"count": len(matching), "results": [_listing_json(state, x, includes) for x in page]}


@router.get("/listings/{listing_id}")
async def get_listing(request: Request, listing_id: str) -> dict[str, Any]:
    """Public for active listings; a draft/inactive one is visible only to its owner's listings_r token."""
    state = etsy_state(request)
    app = require_api_key(request)
    listing = _listing(state, listing_id)
    if listing.state not in ("active", "sold_out"):
        if "authorization" not in request.headers:
            raise not_found(f"Could not find a Listing with listing_id = {listing.listing_id}.")
        user_id = require_token(request, app, "listings_r").user_id
        if user_id != listing.user_id:
            raise not_found(f"Could not find a Listing with listing_id = {listing.listing_id}.")
    return _listing_json(state, listing, _includes(request))


@router.patch("/shops/{shop_id}/listings/{listing_id}")
async def update_listing(request: Request, shop_id: str, listing_id: str) -> dict[str, Any]:
    state = etsy_state(request)
    shop = _owned_shop(state, shop_id, _auth(request, "listings_w"))
    listing = _shop_listing(state, shop, listing_id)
    form = await _form(request)
    changes: dict[str, Any] = {}
    if form.has("title"):
        changes["title"] = lx.check_title(form.text("title", required=True) or "")
    if form.has("description"):
        changes["description"] = form.text("description", required=True)
    if form.has("who_made"):
        changes["who_made"] = form.enum("who_made", lx.WHO_MADE, required=True)
    if form.has("when_made"):
        changes["when_made"] = form.enum("when_made", lx.WHEN_MADE, required=True)
    if form.has("taxonomy_id"):
        changes["taxonomy_id"] = form.integer("taxonomy_id", required=True, minimum=1)
    if form.has("type"):
        changes["listing_type"] = form.enum("type", lx.LISTING_TYPES, required=True)
    if form.has("shipping_profile_id"):
        profile_id = form.integer("shipping_profile_id", required=True, minimum=1)
        assert profile_id is not None
        _check_profile_ref(state, shop, profile_id)
        changes["shipping_profile_id"] = profile_id
    if form.has("readiness_state_id"):
        readiness_id = form.integer("readiness_state_id", required=True, minimum=1)
        assert readiness_id is not None
        _check_readiness_ref(state, shop, readiness_id)
        changes["readiness_state_id"] = readiness_id
    if form.has("tags") or form.has("tags[]"):
        changes["tags"] = lx.check_tags(form.str_list("tags") or [])
    if form.has("materials") or form.has("materials[]"):
        changes["materials"] = lx.check_materials(form.str_list("materials") or [])
    for flag in ("is_supply", "should_auto_renew", "is_taxable"):
        if form.has(flag):
            changes[flag] = form.flag(flag)
    new_state = form.enum("state", ("active", "inactive")) if form.has("state") else None
    if form.has("state") and new_state is None:
        raise bad_request("Parameter 'state' must be one of active, inactive; got ''.")
    now = state.now_s()
    if new_state == "active" and listing.state != "active":
        probe = lx.Listing(**{**vars(listing), **changes})
        lx.check_can_activate(probe, state.shipping_profiles, state.settings.require_processing_profile)
    for key, value in changes.items():
        setattr(listing, key, value)
    if new_state is not None and new_state != listing.state:
        if new_state == "active" and listing.state == "sold_out":
            # Spec: "Setting a sold_out listing to active will update the quantity to 1 and renew it."
            listing.products[0].offering.quantity = 1
            listing.products[0].offering.is_enabled = True
        listing.state, listing.state_timestamp = new_state, now
        if new_state == "active" and listing.quantity == 0:
            lx.apply_stock_state(listing, now)
    listing.updated = now
    return _listing_json(state, listing)


@router.delete("/listings/{listing_id}", status_code=204)
async def delete_listing(request: Request, listing_id: str) -> Response:
    state = etsy_state(request)
    listing = _owned_listing(state, listing_id, _auth(request, "listings_d"))
    del state.listings[listing.listing_id]
    return Response(status_code=204)


# --------------------------------------------------------------------------- inventory


@router.get("/listings/{listing_id}/inventory")
async def get_listing_inventory(request: Request, listing_id: str) -> dict[str, Any]:
    state = etsy_state(request)
    listing = _owned_listing(state, listing_id, _auth(request, "listings_r"))
    return lx.inventory_payload(listing, _currency(state, listing))


@router.put("/listings/{listing_id}/inventory")
async def update_listing_inventory(request: Request, listing_id: str) -> dict[str, Any]:
    state = etsy_state(request)
    listing = _owned_listing(state, listing_id, _auth(request, "listings_w"))
    try:
        body = await request.json()
    except ValueError:
        raise bad_request("Request body is not valid JSON.") from None
    products, on_property = lx.parse_products(body, state.next_id)
    listing.products = products
    listing.price_on_property = on_property["price_on_property"]
    listing.quantity_on_property = on_property["quantity_on_property"]
    listing.sku_on_property = on_property["sku_on_property"]
    listing.updated = state.now_s()
    lx.apply_stock_state(listing, listing.updated)
    return lx.inventory_payload(listing, _currency(state, listing))


# --------------------------------------------------------------------------- images


@router.post("/shops/{shop_id}/listings/{listing_id}/images", status_code=201)
async def upload_listing_image(request: Request, shop_id: str, listing_id: str) -> dict[str, Any]:
    state = etsy_state(request)
    shop = _owned_shop(state, shop_id, _auth(request, "listings_w"))
    listing = _shop_listing(state, shop, listing_id)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise bad_request("uploadListingImage expects a multipart/form-data body.")
    form = await request.form()
    upload = form.get("image")
    if upload is None or isinstance(upload, str):
        raise bad_request("Missing required parameter: image (a file part) or listing_image_id.")
    content = await upload.read()
    if not content:
        raise bad_request("Parameter 'image' is an empty file.")
    fields = lx.Form({k: [v] for k, v in form.items() if isinstance(v, str)})
    alt_text = fields.text("alt_text")
    if alt_text is not None and len(alt_text) > 250:
        raise bad_request("Parameter 'alt_text' must be at most 250 characters.")
    overwrite = bool(fields.flag("overwrite"))
    rank = fields.integer("rank", minimum=1, maximum=lx.MAX_IMAGES) or len(listing.images) + 1
    at_rank = next((i for i in listing.images if i.rank == rank), None)
    if at_rank is not None and overwrite:
        listing.images.remove(at_rank)
    elif len(listing.images) >= lx.MAX_IMAGES:
        raise EtsyError(409, f"A listing can have at most {lx.MAX_IMAGES} images.")
    image = lx.ListingImage(
        listing_image_id=state.next_id("image"),
        rank=rank,
        alt_text=alt_text,
        created=state.now_s(),
        size=len(content),
        content_type=upload.content_type or "application/octet-stream",
    )
    # Inserting at a taken rank pushes the later images down by one, as Etsy's gallery does.
    for other in listing.images:
        if other.rank >= rank:
            other.rank += 1
    listing.images.append(image)
    listing.images.sort(key=lambda i: i.rank)
    for n, img in enumerate(listing.images, start=1):
        img.rank = n
    listing.updated = state.now_s()
    return lx.image_payload(listing.listing_id, image)


@router.get("/listings/{listing_id}/images")
async def get_listing_images(request: Request, listing_id: str) -> dict[str, Any]:
    state = etsy_state(request)
    require_api_key(request)
    listing = _listing(state, listing_id)
    return {"count": len(listing.images), "results": [lx.image_payload(listing.listing_id, i) for i in listing.images]}


# --------------------------------------------------------------------------- properties


@router.put("/shops/{shop_id}/listings/{listing_id}/properties/{property_id}")
async def update_listing_property(request: Request, shop_id: str, listing_id: str, property_id: str) -> dict[str, Any]:
    state = etsy_state(request)
    shop = _owned_shop(state, shop_id, _auth(request, "listings_w"))
    listing = _shop_listing(state, shop, listing_id)
    pid = _path_id(property_id, "property_id")
    form = await _form(request)
    if not form.has("value_ids") and not form.has("value_ids[]"):
        raise bad_request("Missing required parameter: value_ids")
    if not form.has("values") and not form.has("values[]"):
        raise bad_request("Missing required parameter: values")
    value_ids = form.int_list("value_ids") or []
    values = form.str_list("values") or []
    if not values:
        raise bad_request("Parameter 'values' must hold at least one value.")
    if value_ids and len(value_ids) != len(values):
        raise bad_request("Parameters 'value_ids' and 'values' must have the same length.")
    prop = {
        "property_id": pid,
        "property_name": None,
        "scale_id": form.integer("scale_id", minimum=1),
        "scale_name": None,
        "value_ids": value_ids,
        "values": values,
    }
    listing.properties[pid] = prop
    listing.updated = state.now_s()
    return prop


@router.get("/shops/{shop_id}/listings/{listing_id}/properties")
async def get_listing_properties(request: Request, shop_id: str, listing_id: str) -> dict[str, Any]:
    state = etsy_state(request)
    require_api_key(request)
    shop = state.shops.get(_path_id(shop_id, "shop_id"))
    if shop is None:
        raise not_found(f"Could not find a Shop with shop_id = {shop_id}.")
    listing = _shop_listing(state, shop, listing_id)
    results = list(listing.properties.values())
    return {"count": len(results), "results": results}
