"""Shipping profiles (with destinations) and processing profiles ("readiness state definitions").

Shipping profiles follow the vendored spec. The readiness-state-definition endpoints are the
2025-26 migration described in the fact sheet §4 step 4 and are NOT in the vendored spec: their
shape here is emulated from the fact sheet (fields, 1-10 bounds, 409 + Content-Location on a
duplicate), so the contract recorder cannot check them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sandbox.etsy import listings as lx
from sandbox.etsy.api import _owned_shop, _path_id
from sandbox.etsy.auth import etsy_state
from sandbox.etsy.errors import bad_request, not_found
from sandbox.etsy.listings_api import _auth, _form
from sandbox.etsy.receipts import parse_int
from sandbox.etsy.state import EtsyState, Shop

router = APIRouter(prefix="/v3/application")

REGIONS = ("eu", "non_eu", "none")


def _processing(form: lx.Form, required: bool, units: tuple[str, ...]) -> tuple[int | None, int | None, str | None]:
    low = form.integer("min_processing_time", required=required, minimum=1, maximum=10)
    high = form.integer("max_processing_time", required=required, minimum=1, maximum=10)
    if low is not None and high is not None and low > high:
        raise bad_request("Parameter 'min_processing_time' must not exceed 'max_processing_time'.")
    return low, high, form.enum("processing_time_unit", units)


def _destination(form: lx.Form, state: EtsyState) -> lx.Destination:
    country = form.text("destination_country_iso")
    region = form.enum("destination_region", REGIONS)
    if (country is None) == (region is None or region == "none"):
        raise bad_request("Exactly one of 'destination_country_iso' or 'destination_region' is required.")
    if country is not None and (len(country) != 2 or not country.isalpha()):
        raise bad_request(f"Parameter 'destination_country_iso' must be an ISO 3166-1 alpha-2 code, got '{country}'.")
    carrier = form.integer("shipping_carrier_id", minimum=0)
    mail_class = form.text("mail_class")
    low = form.integer("min_delivery_days", minimum=1, maximum=45)
    high = form.integer("max_delivery_days", minimum=1, maximum=45)
    if carrier is None and (low is None or high is None):
        raise bad_request("Either 'shipping_carrier_id' + 'mail_class' or 'min_delivery_days' + 'max_delivery_days'.")
    if carrier is not None and mail_class is None:
        raise bad_request("Parameter 'mail_class' is required with 'shipping_carrier_id'.")
    if low is not None and high is not None and low > high:
        raise bad_request("Parameter 'min_delivery_days' must not exceed 'max_delivery_days'.")
    return lx.Destination(
        shipping_profile_destination_id=state.next_id("destination"),
        destination_country_iso=(country or "").upper(),
        destination_region=region or "none",
        primary_cost=form.money("primary_cost", required=True, positive=False) or 0,
        secondary_cost=form.money("secondary_cost", required=True, positive=False) or 0,
        shipping_carrier_id=carrier,
        mail_class=mail_class,
        min_delivery_days=low,
        max_delivery_days=high,
    )


def _profile(state: EtsyState, shop: Shop, raw_id: str) -> lx.ShippingProfile:
    profile_id = _path_id(raw_id, "shipping_profile_id")
    profile = state.shipping_profiles.get(profile_id)
    if profile is None or profile.shop_id != shop.shop_id:
        raise not_found(f"Could not find a ShippingProfile with shipping_profile_id = {profile_id}.")
    return profile


@router.post("/shops/{shop_id}/shipping-profiles")
async def create_shipping_profile(request: Request, shop_id: str) -> dict[str, Any]:
    state = etsy_state(request)
    shop = _owned_shop(state, shop_id, _auth(request, "shops_w"))
    form = await _form(request)
    title = form.text("title", required=True) or ""
    origin = form.text("origin_country_iso", required=True) or ""
    if len(origin) != 2 or not origin.isalpha():
        raise bad_request(f"Parameter 'origin_country_iso' must be an ISO 3166-1 alpha-2 code, got '{origin}'.")
    low, high, unit = _processing(form, True, ("business_days", "weeks"))
    destination = _destination(form, state)
    profile = lx.ShippingProfile(
        shipping_profile_id=state.next_id("shipping_profile"),
        shop_id=shop.shop_id,
        user_id=shop.user_id,
        title=title,
        origin_country_iso=origin.upper(),
        min_processing_days=low or 1,
        max_processing_days=high or 1,
        processing_time_unit=unit or "business_days",
        origin_postal_code=form.text("origin_postal_code"),
        destinations=[destination],
    )
    state.shipping_profiles[profile.shipping_profile_id] = profile
    return lx.profile_payload(profile, shop.currency_code)


@router.get("/shops/{shop_id}/shipping-profiles")
async def get_shipping_profiles(request: Request, shop_id: str) -> dict[str, Any]:
    state = etsy_state(request)
    shop = _owned_shop(state, shop_id, _auth(request, "shops_r"))
    profiles = [p for p in state.shipping_profiles.values() if p.shop_id == shop.shop_id]
    return {"count": len(profiles), "results": [lx.profile_payload(p, shop.currency_code) for p in profiles]}


@router.get("/shops/{shop_id}/shipping-profiles/{shipping_profile_id}")
async def get_shipping_profile(request: Request, shop_id: str, shipping_profile_id: str) -> dict[str, Any]:
    state = etsy_state(request)
    shop = _owned_shop(state, shop_id, _auth(request, "shops_r"))
    return lx.profile_payload(_profile(state, shop, shipping_profile_id), shop.currency_code)


@router.put("/shops/{shop_id}/shipping-profiles/{shipping_profile_id}")
async def update_shipping_profile(request: Request, shop_id: str, shipping_profile_id: str) -> dict[str, Any]:
    state = etsy_state(request)
    shop = _owned_shop(state, shop_id, _auth(request, "shops_w"))
    profile = _profile(state, shop, shipping_profile_id)
    form = await _form(request)
    low, high, unit = _processing(form, False, ("business_days", "weeks"))
    new_low = low if low is not None else profile.min_processing_days
    new_high = high if high is not None else profile.max_processing_days
    if new_low > new_high:
        raise bad_request("Parameter 'min_processing_time' must not exceed 'max_processing_time'.")
    origin = form.text("origin_country_iso")
    if origin is not None and (len(origin) != 2 or not origin.isalpha()):
        raise bad_request(f"Parameter 'origin_country_iso' must be an ISO 3166-1 alpha-2 code, got '{origin}'.")
    profile.title = form.text("title") or profile.title
    profile.origin_country_iso = origin.upper() if origin else profile.origin_country_iso
    profile.min_processing_days, profile.max_processing_days = new_low, new_high
    profile.processing_time_unit = unit or profile.processing_time_unit
    if form.has("origin_postal_code"):
        profile.origin_postal_code = form.text("origin_postal_code")
    return lx.profile_payload(profile, shop.currency_code)


@router.post("/shops/{shop_id}/shipping-profiles/{shipping_profile_id}/destinations", status_code=201)
async def create_destination(request: Request, shop_id: str, shipping_profile_id: str) -> dict[str, Any]:
    state = etsy_state(request)
    shop = _owned_shop(state, shop_id, _auth(request, "shops_w"))
    profile = _profile(state, shop, shipping_profile_id)
    destination = _destination(await _form(request), state)
    profile.destinations.append(destination)
    return lx.destination_payload(profile, destination, shop.currency_code)


@router.get("/shops/{shop_id}/shipping-profiles/{shipping_profile_id}/destinations")
async def get_destinations(request: Request, shop_id: str, shipping_profile_id: str) -> dict[str, Any]:
    state = etsy_state(request)
    shop = _owned_shop(state, shop_id, _auth(request, "shops_r"))
    profile = _profile(state, shop, shipping_profile_id)
    limit = parse_int(request.query_params, "limit", 25, 1, 100)
    offset = parse_int(request.query_params, "offset", 0, 0)
    page = profile.destinations[offset : offset + limit]
    return {
        "count": len(profile.destinations),
        "results": [lx.destination_payload(profile, d, shop.currency_code) for d in page],
    }


# --------------------------------------------------------------------------- processing profiles [spec-2026]

READINESS_PATH = "/shops/{shop_id}/readiness-state-definitions"


def _readiness_fields(form: lx.Form, current: lx.ReadinessState | None = None) -> tuple[str, int, int, str]:
    required = current is None
    kind = form.enum("readiness_state", lx.READINESS_STATES, required=required)
    low, high, unit = _processing(form, required, ("days", "weeks"))
    kind = kind or (current.readiness_state if current else "")
    low = low if low is not None else (current.min_processing_time if current else 1)
    high = high if high is not None else (current.max_processing_time if current else 1)
    if low > high:
        raise bad_request("Parameter 'min_processing_time' must not exceed 'max_processing_time'.")
    return kind, low, high, unit or (current.processing_time_unit if current else "days")


def _duplicate(state: EtsyState, shop: Shop, fields: tuple[str, int, int, str], skip: int = 0) -> lx.ReadinessState | None:
    return next(
        (
            r
            for r in state.readiness_states.values()
            if r.shop_id == shop.shop_id
            and r.readiness_state_id != skip
            and (r.readiness_state, r.min_processing_time, r.max_processing_time, r.processing_time_unit) == fields
        ),
        None,
    )


def _conflict(shop: Shop, existing: lx.ReadinessState) -> JSONResponse:
    location = f"/v3/application/shops/{shop.shop_id}/readiness-state-definitions/{existing.readiness_state_id}"
    return JSONResponse(
        {"error": f"An identical processing profile already exists: readiness_state_id = {existing.readiness_state_id}."},
        status_code=409,
        headers={"content-location": location},
    )


def _readiness(state: EtsyState, shop: Shop, raw_id: str) -> lx.ReadinessState:
    rid = _path_id(raw_id, "readiness_state_definition_id")
    definition = state.readiness_states.get(rid)
    if definition is None or definition.shop_id != shop.shop_id:
        raise not_found(f"Could not find a readiness state definition with id = {rid}.")
    return definition


@router.post(READINESS_PATH, status_code=201)
async def create_readiness(request: Request, shop_id: str) -> Any:
    state = etsy_state(request)
    shop = _owned_shop(state, shop_id, _auth(request, "shops_w"))
    fields = _readiness_fields(await _form(request))
    existing = _duplicate(state, shop, fields)
    if existing is not None:
        return _conflict(shop, existing)
    definition = lx.ReadinessState(state.next_id("readiness"), shop.shop_id, *fields)
    state.readiness_states[definition.readiness_state_id] = definition
    return lx.readiness_payload(definition)


@router.get(READINESS_PATH)
async def list_readiness(request: Request, shop_id: str) -> dict[str, Any]:
    state = etsy_state(request)
    shop = _owned_shop(state, shop_id, _auth(request, "shops_r"))
    limit = parse_int(request.query_params, "limit", 25, 1, 100)
    offset = parse_int(request.query_params, "offset", 0, 0)
    rows = [r for r in state.readiness_states.values() if r.shop_id == shop.shop_id]
    return {"count": len(rows), "results": [lx.readiness_payload(r) for r in rows[offset : offset + limit]]}


@router.get(READINESS_PATH + "/{definition_id}")
async def get_readiness(request: Request, shop_id: str, definition_id: str) -> dict[str, Any]:
    state = etsy_state(request)
    shop = _owned_shop(state, shop_id, _auth(request, "shops_r"))
    return lx.readiness_payload(_readiness(state, shop, definition_id))


@router.put(READINESS_PATH + "/{definition_id}")
async def update_readiness(request: Request, shop_id: str, definition_id: str) -> Any:
    state = etsy_state(request)
    shop = _owned_shop(state, shop_id, _auth(request, "shops_w"))
    definition = _readiness(state, shop, definition_id)
    fields = _readiness_fields(await _form(request), definition)
    existing = _duplicate(state, shop, fields, skip=definition.readiness_state_id)
    if existing is not None:
        return _conflict(shop, existing)
    (definition.readiness_state, definition.min_processing_time, definition.max_processing_time,
     definition.processing_time_unit) = fields
    return lx.readiness_payload(definition)


@router.delete(READINESS_PATH + "/{definition_id}", status_code=204)
async def delete_readiness(request: Request, shop_id: str, definition_id: str) -> Response:
    state = etsy_state(request)
    shop = _owned_shop(state, shop_id, _auth(request, "shops_w"))
    definition = _readiness(state, shop, definition_id)
    if any(x.readiness_state_id == definition.readiness_state_id for x in state.listings.values()):
        return JSONResponse({"error": "This processing profile is used by listings."}, status_code=409)
    del state.readiness_states[definition.readiness_state_id]
    return Response(status_code=204)


