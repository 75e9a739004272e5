"""Control API for offers (`/_sandbox/allegro/...`): seed a seller's pre-existing offers, read back
exactly what was created, change stock by hand or through a sale, and tune the 202 operations.

Not part of Allegro. Stock changes made here follow Allegro's rule too: reaching 0 ends an
ACTIVE offer, so later stock tests see what a real sale or a seller's manual edit would cause.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from sandbox.allegro import offers as o
from sandbox.allegro.auth import allegro_state
from sandbox.allegro.errors import AllegroError, not_found
from sandbox.allegro.state import AllegroState, iso

router = APIRouter(prefix="/_sandbox/allegro")


class SeedOffersIn(BaseModel):
    """Offers as Allegro would render them; `id`, `publication` and `validation` are filled if absent."""

    offers: list[dict[str, Any]] = Field(min_length=1)


class StockIn(BaseModel):
    available: int = Field(ge=0)


class SaleIn(BaseModel):
    quantity: int = Field(default=1, ge=1)


class OfferSettingsIn(BaseModel):
    operation_polls: int | None = Field(default=None, ge=0)
    retry_after_s: int | None = Field(default=None, ge=0)


def _offer(state: AllegroState, offer_id: str) -> o.Offer:
    offer = state.offers.offers.get(offer_id)
    if offer is None:
        raise not_found(f"no offer {offer_id}")
    return offer


def _offer_json(offer: o.Offer) -> dict[str, Any]:
    return {
        "sellerId": offer.seller_id,
        "createdAt": iso(offer.created_at),
        "updatedAt": iso(offer.updated_at),
        "offer": offer.body,
    }


@router.post("/users/{seller_id}/offers", status_code=201)
async def seed_offers(request: Request, seller_id: str, body: SeedOffersIn) -> dict[str, Any]:
    state = allegro_state(request)
    if seller_id not in state.users:
        raise not_found(f"no user {seller_id}")
    created = []
    for i, raw in enumerate(body.offers):
        for key in ("name", "stock", "sellingMode", "category"):
            if key not in raw:
                raise AllegroError(422, "VALIDATION_ERROR", f"offers[{i}].{key} is required", path=f"offers[{i}].{key}")
        o.check_stock(raw["stock"])
        now = state.now()
        offer_id = str(raw.get("id") or state.offers.new_offer_id())
        status = (raw.get("publication") or {}).get("status", "ACTIVE")
        offer = o.Offer(offer_id, seller_id, o.new_body(offer_id, raw, status, iso(now)), now, now)
        state.offers.offers[offer_id] = offer
        created.append(_offer_json(offer))
    return {"offers": created}


@router.get("/offers")
async def read_offers(request: Request, seller_id: str | None = None) -> dict[str, Any]:
    state = allegro_state(request)
    return {"offers": [_offer_json(x) for x in state.offers.offers.values() if seller_id in (None, x.seller_id)]}


@router.get("/offers/{offer_id}")
async def read_offer(request: Request, offer_id: str) -> dict[str, Any]:
    return _offer_json(_offer(allegro_state(request), offer_id))


@router.put("/offers/{offer_id}/stock")
async def set_stock(request: Request, offer_id: str, body: StockIn) -> dict[str, Any]:
    """The seller edits stock in Allegro's web UI: ChannelBridge did not cause it."""
    state = allegro_state(request)
    offer = _offer(state, offer_id)
    o.set_available(offer, body.available)
    offer.updated_at = state.now()
    return _offer_json(offer)


@router.post("/offers/{offer_id}/sale")
async def sell(request: Request, offer_id: str, body: SaleIn) -> dict[str, Any]:
    """A buyer takes `quantity` units of an ACTIVE offer; the last unit ends it."""
    state = allegro_state(request)
    offer = _offer(state, offer_id)
    available = offer.body["stock"]["available"]
    if o.status_of(offer) != "ACTIVE":
        raise AllegroError(409, "CONFLICT", f"offer {offer_id} is {o.status_of(offer)}, not ACTIVE", path="publication.status")
    if body.quantity > available:
        raise AllegroError(409, "CONFLICT", f"only {available} in stock", path="quantity")
    o.set_available(offer, available - body.quantity)
    offer.updated_at = state.now()
    return _offer_json(offer)


@router.get("/images")
async def read_images(request: Request) -> dict[str, Any]:
    return {"images": copy.deepcopy(allegro_state(request).offers.images)}


@router.get("/shipping-rates")
async def read_shipping_rates(request: Request) -> dict[str, Any]:
    rates = allegro_state(request).offers.shipping_rates.values()
    return {"shippingRates": [{"sellerId": e["seller_id"], **e["body"]} for e in rates]}


@router.get("/offer-commands")
async def read_commands(request: Request) -> dict[str, Any]:
    commands = allegro_state(request).offers.commands.values()
    return {
        "commands": [{"kind": c.kind, "id": c.id, "sellerId": c.seller_id, "body": c.body, "tasks": c.tasks} for c in commands]
    }


@router.put("/offer-settings")
async def offer_settings(request: Request, body: OfferSettingsIn) -> dict[str, Any]:
    """`operation_polls=0` makes `POST /sale/product-offers` synchronous (201)."""
    world = allegro_state(request).offers
    if body.operation_polls is not None:
        world.operation_polls = body.operation_polls
    if body.retry_after_s is not None:
        world.retry_after_s = body.retry_after_s
    return {"operation_polls": world.operation_polls, "retry_after_s": world.retry_after_s}
