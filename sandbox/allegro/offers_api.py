"""Listing endpoints of the Allegro emulator: product-offers (202 + operation polling), the offers
list, categories and their parameters, image upload, shipping rates, quantity and publication commands.

`POST /sale/images` lives at https://upload.allegro.pl in production; the emulator serves it on the
same origin, so a client points `CB_ALLEGRO_UPLOAD_URL` at the emulator's base URL.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sandbox.allegro import offers as o
from sandbox.allegro.api import _body
from sandbox.allegro.auth import allegro_state, require_token, seller_id
from sandbox.allegro.errors import MEDIA_TYPE, AllegroError, not_found, vendor_json
from sandbox.allegro.state import AllegroState, iso
from sandbox.faults import take_fault

router = APIRouter()

OFFERS_READ = "allegro:api:sale:offers:read"
OFFERS_WRITE = "allegro:api:sale:offers:write"
SETTINGS_READ = "allegro:api:sale:settings:read"
SETTINGS_WRITE = "allegro:api:sale:settings:write"
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
IMAGE_MAX_BYTES = 25 * 1024 * 1024
LIST_LIMIT_MAX = 1000


def world(request: Request) -> o.OffersWorld:
    return allegro_state(request).offers


def own_offer(state: AllegroState, offer_id: str, owner: str) -> o.Offer:
    offer = state.offers.offers.get(offer_id)
    if offer is None or offer.seller_id != owner:
        raise not_found(f"Offer {offer_id} not found")
    return offer


# -- product offers ---------------------------------------------------------------------------
@router.post("/sale/product-offers")
async def create_product_offer(request: Request) -> JSONResponse:
    state = allegro_state(request)
    owner = seller_id(require_token(request, OFFERS_WRITE))
    body = await _body(request)
    o.check_offer(state.offers, owner, body)
    wanted = (body.get("publication") or {}).get("status", "INACTIVE")
    sync = state.offers.operation_polls <= 0
    status = wanted if sync or wanted == "INACTIVE" else "ACTIVATING"
    now = state.now()
    offer = o.Offer(state.offers.new_offer_id(), owner, {}, now, now)
    offer.body = o.new_body(offer.id, body, status, iso(now))
    state.offers.offers[offer.id] = offer
    if sync:
        return vendor_json(offer.body, 201)
    operation = o.Operation(str(uuid.uuid4()), offer.id, now, state.offers.operation_polls)
    state.offers.operations[operation.id] = operation
    headers = {"location": _operation_url(operation), "retry-after": str(state.offers.retry_after_s)}
    return vendor_json(offer.body, 202, headers)


def _operation_url(operation: o.Operation) -> str:
    return f"/sale/product-offers/{operation.offer_id}/operations/{operation.id}"


@router.get("/sale/product-offers/{offer_id}/operations/{operation_id}")
async def get_operation(request: Request, offer_id: str, operation_id: str) -> Response:
    state = allegro_state(request)
    owner = seller_id(require_token(request, OFFERS_READ))
    offer = own_offer(state, offer_id, owner)
    operation = state.offers.operations.get(operation_id)
    if operation is None or operation.offer_id != offer.id:
        raise not_found(f"Operation {operation_id} not found")
    if operation.polls_left > 0:
        operation.polls_left -= 1
        body = {
            "offer": {"id": offer.id},
            "operation": {"id": operation.id, "status": "IN_PROGRESS", "startedAt": iso(operation.started_at)},
        }
        headers = {"location": _operation_url(operation), "retry-after": str(state.offers.retry_after_s)}
        return vendor_json(body, 202, headers)
    if o.status_of(offer) == "ACTIVATING":
        o.set_status(offer, "ACTIVE")
    return Response(status_code=303, headers={"location": f"/sale/product-offers/{offer.id}"})


@router.get("/sale/product-offers/{offer_id}")
async def get_product_offer(request: Request, offer_id: str) -> JSONResponse:
    state = allegro_state(request)
    owner = seller_id(require_token(request, OFFERS_READ))
    return vendor_json(own_offer(state, offer_id, owner).body)


@router.patch("/sale/product-offers/{offer_id}")
async def patch_product_offer(request: Request, offer_id: str) -> JSONResponse:
    """Merge the given fields; `stock.available` 0 ends an active offer; publication is not changed here."""
    state = allegro_state(request)
    owner = seller_id(require_token(request, OFFERS_WRITE))
    offer = own_offer(state, offer_id, owner)
    patch = await _body(request)
    if take_fault(state.faults, lambda f: f.kind == "offer_conflict" and request.url.path.startswith(f.path_prefix)):
        raise AllegroError(409, "CONFLICT", f"Offer {offer_id} is being modified by another request, try again")
    if not isinstance(patch, dict):
        raise AllegroError(400, "VALIDATION_ERROR", "The request body must be an object", path="")
    candidate = copy.deepcopy(offer.body)
    o.merge(candidate, {k: v for k, v in patch.items() if k not in ("id", "publication", "validation")})
    # Zero stock is a valid PATCH (it ends the offer), so the "activate needs stock" rule is skipped here.
    o.check_offer(state.offers, owner, {**candidate, "publication": {"status": "INACTIVE"}})
    offer.body = candidate
    o.set_available(offer, candidate["stock"]["available"])
    offer.updated_at = state.now()
    offer.body["validation"]["validatedAt"] = iso(offer.updated_at)
    return vendor_json(offer.body)


# -- the seller's offers list -----------------------------------------------------------------
def _int_param(raw: str | None, name: str, default: int, low: int, high: int) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise AllegroError(400, "VALIDATION_ERROR", f"{name} must be an integer", path=name) from None
    if not low <= value <= high:
        raise AllegroError(400, "VALIDATION_ERROR", f"{name} must be between {low} and {high}", path=name)
    return value


@router.get("/sale/offers")
async def list_offers(request: Request) -> JSONResponse:
    state = allegro_state(request)
    owner = seller_id(require_token(request, OFFERS_READ))
    q = request.query_params
    limit = _int_param(q.get("limit"), "limit", 20, 1, LIST_LIMIT_MAX)
    offset = _int_param(q.get("offset"), "offset", 0, 0, 10_000_000 - limit)
    matches = [offer for offer in state.offers.offers.values() if offer.seller_id == owner]
    if ids := q.getlist("offer.id"):
        matches = [x for x in matches if x.id in ids]
    if externals := q.getlist("external.id"):
        matches = [x for x in matches if (x.body.get("external") or {}).get("id") in externals]
    if statuses := q.getlist("publication.status"):
        matches = [x for x in matches if o.status_of(x) in statuses]
    if name := q.get("name"):
        matches = [x for x in matches if name.lower() in x.body["name"].lower()]
    if category := q.get("category.id"):
        matches = [x for x in matches if x.body["category"]["id"] == category]
    page = matches[offset : offset + limit]
    body = {"offers": [o.listing_payload(x, iso) for x in page], "count": len(page), "totalCount": len(matches)}
    return vendor_json(body)


# -- categories -------------------------------------------------------------------------------
@router.get("/sale/categories")
async def list_categories(request: Request) -> JSONResponse:
    state = allegro_state(request)
    require_token(request, None, user_context=False)
    parent = request.query_params.get("parent.id")
    if parent is not None and parent not in state.offers.categories:
        raise not_found(f"Category {parent} not found")
    children = [c for c in state.offers.categories.values() if c.parent_id == parent]
    return vendor_json({"categories": [state.offers.category_payload(c) for c in children]})


@router.get("/sale/categories/{category_id}/parameters")
async def category_parameters(request: Request, category_id: str) -> JSONResponse:
    state = allegro_state(request)
    require_token(request, None, user_context=False)
    category = state.offers.categories.get(category_id)
    if category is None:
        raise not_found(f"Category {category_id} not found")
    return vendor_json({"parameters": category.parameters})


# -- images (upload origin) -------------------------------------------------------------------
@router.post("/sale/images")
async def upload_image(request: Request) -> JSONResponse:
    """JSON `{"url": …}` or raw image bytes; 201 with the image's `location`."""
    state = allegro_state(request)
    owner = seller_id(require_token(request, OFFERS_WRITE))
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == MEDIA_TYPE:
        body = await _body(request)
        url = body.get("url") if isinstance(body, dict) else None
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise AllegroError(422, "VALIDATION_ERROR", "url must be a public http(s) URL", path="url")
        source: dict[str, Any] = {"url": url}
    elif media_type in IMAGE_TYPES:
        data = await request.body()
        if len(data) > IMAGE_MAX_BYTES:
            raise AllegroError(413, "PayloadTooLarge", "The image is too large")
        if not data:
            raise AllegroError(422, "VALIDATION_ERROR", "The image is empty", path="body")
        source = {"contentType": media_type, "bytes": len(data)}
    else:
        raise AllegroError(415, "UnsupportedMediaTypeException", f"Content type '{media_type or '(none)'}' not supported")
    now = state.now()
    image = {"location": o.image_location(), "expiresAt": iso(now + 86400), "seller_id": owner, **source}
    state.offers.images.append(image)
    return vendor_json({"location": image["location"], "expiresAt": image["expiresAt"]}, 201)


# -- shipping rates ---------------------------------------------------------------------------
def _check_rates(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise AllegroError(400, "VALIDATION_ERROR", "The request body must be an object", path="")
    name = body.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= o.SHIPPING_RATES_NAME_MAX:
        raise AllegroError(422, "VALIDATION_ERROR", f"name must be 1-{o.SHIPPING_RATES_NAME_MAX} characters", path="name")
    rates = body.get("rates")
    if not isinstance(rates, list) or not rates:
        raise AllegroError(422, "VALIDATION_ERROR", "rates must be a non-empty list", path="rates")
    for i, rate in enumerate(rates):
        for key in ("deliveryMethod", "maxQuantityPerPackage", "firstItemRate", "nextItemRate"):
            if not isinstance(rate, dict) or key not in rate:
                raise AllegroError(422, "VALIDATION_ERROR", f"rates[{i}].{key} is required", path=f"rates[{i}].{key}")
    return {"name": name, "rates": rates}


def _rates_of(state: AllegroState, rates_id: str, owner: str) -> dict[str, Any]:
    entry = state.offers.shipping_rates.get(rates_id)
    if entry is None or entry["seller_id"] != owner:
        raise not_found(f"Shipping rates {rates_id} not found")
    return entry


@router.post("/sale/shipping-rates")
async def create_shipping_rates(request: Request) -> JSONResponse:
    state = allegro_state(request)
    owner = seller_id(require_token(request, SETTINGS_WRITE))
    fields = _check_rates(await _body(request))
    rates_id = str(uuid.uuid4())
    body = {"id": rates_id, **fields, "lastModified": iso(state.now())}
    state.offers.shipping_rates[rates_id] = {"seller_id": owner, "body": body}
    return vendor_json(body, 201)


@router.get("/sale/shipping-rates")
async def list_shipping_rates(request: Request) -> JSONResponse:
    state = allegro_state(request)
    owner = seller_id(require_token(request, SETTINGS_READ))
    mine = [e["body"] for e in state.offers.shipping_rates.values() if e["seller_id"] == owner]
    return vendor_json({"shippingRates": [{"id": b["id"], "name": b["name"]} for b in mine]})


@router.get("/sale/shipping-rates/{rates_id}")
async def get_shipping_rates(request: Request, rates_id: str) -> JSONResponse:
    state = allegro_state(request)
    owner = seller_id(require_token(request, SETTINGS_READ))
    return vendor_json(_rates_of(state, rates_id, owner)["body"])


@router.put("/sale/shipping-rates/{rates_id}")
async def put_shipping_rates(request: Request, rates_id: str) -> JSONResponse:
    state = allegro_state(request)
    owner = seller_id(require_token(request, SETTINGS_WRITE))
    entry = _rates_of(state, rates_id, owner)
    fields = _check_rates(await _body(request))
    entry["body"] = {"id": rates_id, **fields, "lastModified": iso(state.now())}
    return vendor_json(entry["body"])


# -- quantity and publication commands --------------------------------------------------------
def _command_id(command_id: str) -> str:
    try:
        return str(uuid.UUID(command_id))
    except ValueError:
        raise AllegroError(422, "VALIDATION_ERROR", f"commandId must be a UUID: {command_id}", path="commandId") from None


def _criteria_offers(body: dict[str, Any]) -> list[str]:
    criteria = body.get("offerCriteria")
    if not isinstance(criteria, list) or not criteria:
        raise AllegroError(422, "VALIDATION_ERROR", "offerCriteria is required", path="offerCriteria")
    ids: list[str] = []
    for i, criterion in enumerate(criteria):
        if not isinstance(criterion, dict) or criterion.get("type") != "CONTAINS_OFFERS":
            raise AllegroError(
                422, "VALIDATION_ERROR", "Only CONTAINS_OFFERS criteria are supported", path=f"offerCriteria[{i}].type"
            )
        offers = criterion.get("offers") or []
        if len(offers) > 1000:
            raise AllegroError(422, "VALIDATION_ERROR", "At most 1000 offers per criterion", path=f"offerCriteria[{i}].offers")
        ids += [str(x.get("id")) for x in offers if isinstance(x, dict)]
    return ids


def _report(command: o.Command) -> dict[str, Any]:
    failed = sum(t["status"] == "FAIL" for t in command.tasks)
    count = {"failed": failed, "success": len(command.tasks) - failed, "total": len(command.tasks)}
    return {"id": command.id, "createdAt": iso(command.created_at), "completedAt": iso(command.created_at), "taskCount": count}


def _task(offer_id: str, ok: bool, message: str, at: str) -> dict[str, Any]:
    return {
        "offer": {"id": offer_id},
        "message": message,
        "status": "SUCCESS" if ok else "FAIL",
        "scheduledAt": at,
        "finishedAt": at,
    }


async def _new_command(request: Request, kind: str, command_id: str) -> tuple[AllegroState, o.Command]:
    state = allegro_state(request)
    owner = seller_id(require_token(request, OFFERS_WRITE))
    key = (kind, _command_id(command_id))
    body = await _body(request)
    if key in state.offers.commands:
        raise AllegroError(409, "CONFLICT", f"Command {key[1]} already exists", path="commandId")
    if not isinstance(body, dict):
        raise AllegroError(400, "VALIDATION_ERROR", "The request body must be an object", path="")
    return state, o.Command(key[1], kind, owner, state.now(), body, [])


@router.put("/sale/offer-quantity-change-commands/{command_id}")
async def quantity_command(request: Request, command_id: str) -> JSONResponse:
    state, command = await _new_command(request, "quantity", command_id)
    modification = command.body.get("modification") or {}
    change, value = modification.get("changeType"), modification.get("value")
    if change not in ("FIXED", "GAIN"):
        raise AllegroError(
            422, "VALIDATION_ERROR", "modification.changeType must be FIXED or GAIN", path="modification.changeType"
        )
    if not isinstance(value, int) or isinstance(value, bool) or (change == "FIXED" and value <= 0):
        raise AllegroError(
            422, "VALIDATION_ERROR", "modification.value must be an integer (> 0 for FIXED)", path="modification.value"
        )
    at = iso(command.created_at)
    for offer_id in _criteria_offers(command.body):
        offer = state.offers.offers.get(offer_id)
        if offer is None or offer.seller_id != command.seller_id:
            command.tasks.append(_task(offer_id, False, "Offer not found", at))
            continue
        target = value if change == "FIXED" else offer.body["stock"]["available"] + value
        if target < 0:
            command.tasks.append(_task(offer_id, False, "Stock cannot be negative", at))
            continue
        o.set_available(offer, target)
        offer.updated_at = command.created_at
        command.tasks.append(_task(offer_id, True, "", at))
    state.offers.commands[(command.kind, command.id)] = command
    return vendor_json(_report(command), 201)


@router.put("/sale/offer-publication-commands/{command_id}")
async def publication_command(request: Request, command_id: str) -> JSONResponse:
    state, command = await _new_command(request, "publication", command_id)
    action = (command.body.get("publication") or {}).get("action")
    if action not in ("ACTIVATE", "END"):
        raise AllegroError(422, "VALIDATION_ERROR", "publication.action must be ACTIVATE or END", path="publication.action")
    at = iso(command.created_at)
    for offer_id in _criteria_offers(command.body):
        offer = state.offers.offers.get(offer_id)
        if offer is None or offer.seller_id != command.seller_id:
            command.tasks.append(_task(offer_id, False, "Offer not found", at))
        elif action == "ACTIVATE" and offer.body["stock"]["available"] <= 0:
            command.tasks.append(_task(offer_id, False, "An offer can only be activated with stock greater than 0", at))
        else:
            o.set_status(offer, "ACTIVE" if action == "ACTIVATE" else "ENDED")
            offer.updated_at = command.created_at
            command.tasks.append(_task(offer_id, True, "", at))
    state.offers.commands[(command.kind, command.id)] = command
    return vendor_json(_report(command), 201)


def _command(request: Request, kind: str, command_id: str, scope: str) -> o.Command:
    state = allegro_state(request)
    owner = seller_id(require_token(request, scope))
    command = state.offers.commands.get((kind, command_id))
    if command is None or command.seller_id != owner:
        raise not_found(f"Command {command_id} not found")
    return command


def _tasks(request: Request, command: o.Command) -> JSONResponse:
    q = request.query_params
    limit = _int_param(q.get("limit"), "limit", 100, 1, 1000)
    offset = _int_param(q.get("offset"), "offset", 0, 0, 10_000_000)
    return vendor_json({"tasks": command.tasks[offset : offset + limit]})


@router.get("/sale/offer-quantity-change-commands/{command_id}")
async def quantity_report(request: Request, command_id: str) -> JSONResponse:
    return vendor_json(_report(_command(request, "quantity", command_id, OFFERS_READ)))


@router.get("/sale/offer-quantity-change-commands/{command_id}/tasks")
async def quantity_tasks(request: Request, command_id: str) -> JSONResponse:
    return _tasks(request, _command(request, "quantity", command_id, OFFERS_READ))


@router.get("/sale/offer-publication-commands/{command_id}")
async def publication_report(request: Request, command_id: str) -> JSONResponse:
    return vendor_json(_report(_command(request, "publication", command_id, OFFERS_READ)))


@router.get("/sale/offer-publication-commands/{command_id}/tasks")
async def publication_tasks(request: Request, command_id: str) -> JSONResponse:
    return _tasks(request, _command(request, "publication", command_id, OFFERS_READ))
