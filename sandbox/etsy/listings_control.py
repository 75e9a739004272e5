"""Control API for listings (`/_sandbox/etsy/...`): seed a shop's catalogue, read back exactly what exists.

Seeding goes through the same validators as the v3 endpoints (inventory bodies use Etsy's own
`updateListingInventory` shape), so a seeded listing is one the real API could have produced.
Read-back shows everything a client sent: inventory, images with rank/alt_text/size, item
specifics, shipping and processing profile ids, and state.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from sandbox.etsy import listings as lx
from sandbox.etsy.auth import etsy_state
from sandbox.etsy.errors import bad_request, not_found
from sandbox.etsy.state import EtsyState, Shop

router = APIRouter(prefix="/_sandbox/etsy")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ImageIn(_Strict):
    alt_text: str | None = Field(None, max_length=250)
    size: int = 1024
    content_type: str = "image/jpeg"


class PropertyIn(_Strict):
    property_id: int = Field(ge=1)
    values: list[str] = Field(min_length=1)
    value_ids: list[int] = Field(default_factory=list)
    scale_id: int | None = None


class ListingIn(_Strict):
    title: str = "Seeded listing"
    description: str = "Seeded by the sandbox control API."
    state: Literal["active", "inactive", "sold_out", "draft", "expired"] = "active"
    who_made: Literal["i_did", "someone_else", "collective"] = "i_did"
    when_made: str = "made_to_order"
    taxonomy_id: int = 1
    type: Literal["physical", "download", "both"] = "physical"
    shipping_profile_id: int | None = None
    readiness_state_id: int | None = None
    tags: list[str] = Field(default_factory=list)
    materials: list[str] = Field(default_factory=list)
    # Etsy's own updateListingInventory body; default: one product, no variations.
    inventory: dict[str, Any] = Field(
        default_factory=lambda: {"products": [{"sku": "", "offerings": [{"price": 10.0, "quantity": 1}]}]}
    )
    images: list[ImageIn] = Field(default_factory=list)
    properties: list[PropertyIn] = Field(default_factory=list)


class ShippingProfileIn(_Strict):
    title: str = "Seeded profile"
    origin_country_iso: str = "US"
    min_processing_days: int = Field(1, ge=1, le=10)
    max_processing_days: int = Field(3, ge=1, le=10)
    destination_country_iso: str = "US"
    primary_cost: str = "5.00"
    secondary_cost: str = "1.00"


def _shop(state: EtsyState, shop_id: int) -> Shop:
    shop = state.shops.get(shop_id)
    if shop is None:
        raise not_found(f"no shop {shop_id}")
    return shop


def readback(state: EtsyState, listing: lx.Listing) -> dict[str, Any]:
    currency = state.shops[listing.shop_id].currency_code
    return {
        **lx.listing_payload(listing, currency),
        "readiness_state_id": listing.readiness_state_id,
        "inventory": lx.inventory_payload(listing, currency),
        "images": [
            {**lx.image_payload(listing.listing_id, i), "size": i.size, "content_type": i.content_type}
            for i in listing.images
        ],
        "properties": list(listing.properties.values()),
    }


@router.post("/shops/{shop_id}/listings", status_code=201)
async def seed_listing(request: Request, shop_id: int, body: ListingIn) -> dict[str, Any]:
    state = etsy_state(request)
    shop = _shop(state, shop_id)
    if body.when_made not in lx.WHEN_MADE:
        raise bad_request(f"when_made must be one of {', '.join(lx.WHEN_MADE)}")
    for ref, table in ((body.shipping_profile_id, state.shipping_profiles), (body.readiness_state_id,
                                                                            state.readiness_states)):
        if ref is not None and (ref not in table or table[ref].shop_id != shop.shop_id):
            raise bad_request(f"profile {ref} does not belong to shop {shop.shop_id}")
    products, on_property = lx.parse_products(body.inventory, state.next_id)
    now = state.now_s()
    listing = lx.Listing(
        listing_id=state.next_id("listing"),
        shop_id=shop.shop_id,
        user_id=shop.user_id,
        title=lx.check_title(body.title),
        description=body.description,
        who_made=body.who_made,
        when_made=body.when_made,
        taxonomy_id=body.taxonomy_id,
        listing_type=body.type,
        created=now,
        updated=now,
        state=body.state,
        state_timestamp=now,
        shipping_profile_id=body.shipping_profile_id,
        readiness_state_id=body.readiness_state_id,
        tags=lx.check_tags(body.tags),
        materials=lx.check_materials(body.materials),
        products=products,
        price_on_property=on_property["price_on_property"],
        quantity_on_property=on_property["quantity_on_property"],
        sku_on_property=on_property["sku_on_property"],
        images=[
            lx.ListingImage(state.next_id("image"), n, i.alt_text, now, i.size, i.content_type)
            for n, i in enumerate(body.images, start=1)
        ],
        properties={
            p.property_id: {"property_id": p.property_id, "property_name": None, "scale_id": p.scale_id,
                            "scale_name": None, "value_ids": p.value_ids, "values": p.values}
            for p in body.properties
        },
    )
    state.listings[listing.listing_id] = listing
    return readback(state, listing)


@router.get("/shops/{shop_id}/listings")
async def read_listings(request: Request, shop_id: int) -> dict[str, Any]:
    state = etsy_state(request)
    shop = _shop(state, shop_id)
    rows = [readback(state, x) for x in state.listings.values() if x.shop_id == shop.shop_id]
    return {"count": len(rows), "results": rows}


@router.get("/shops/{shop_id}/listings/{listing_id}")
async def read_listing(request: Request, shop_id: int, listing_id: int) -> dict[str, Any]:
    state = etsy_state(request)
    listing = state.listings.get(listing_id)
    if listing is None or listing.shop_id != shop_id:
        raise not_found(f"no listing {listing_id} in shop {shop_id}")
    return readback(state, listing)


@router.post("/shops/{shop_id}/shipping-profiles", status_code=201)
async def seed_shipping_profile(request: Request, shop_id: int, body: ShippingProfileIn) -> dict[str, Any]:
    state = etsy_state(request)
    shop = _shop(state, shop_id)
    profile = lx.ShippingProfile(
        shipping_profile_id=state.next_id("shipping_profile"),
        shop_id=shop.shop_id,
        user_id=shop.user_id,
        title=body.title,
        origin_country_iso=body.origin_country_iso,
        min_processing_days=body.min_processing_days,
        max_processing_days=body.max_processing_days,
        processing_time_unit="business_days",
        origin_postal_code=None,
        destinations=[
            lx.Destination(
                state.next_id("destination"),
                body.destination_country_iso,
                "none",
                lx.to_minor(body.primary_cost, "primary_cost", positive=False),
                lx.to_minor(body.secondary_cost, "secondary_cost", positive=False),
                min_delivery_days=2,
                max_delivery_days=5,
            )
        ],
    )
    state.shipping_profiles[profile.shipping_profile_id] = profile
    return lx.profile_payload(profile, shop.currency_code)
