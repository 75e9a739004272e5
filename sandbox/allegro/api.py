"""The REST resources ChannelBridge calls: `/me`, the order journal, checkout forms, carriers,
shipments and the seller status.

Every check runs in Allegro's order (token, rate limit, scope, id format, existence and
ownership, body). Orders of another seller answer 404, as the spec's "Order not found or doesn't
belong to the seller" says. Request bodies must be `application/vnd.allegro.public.v1+json`.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sandbox.allegro import fulfillment, journal, payloads
from sandbox.allegro.auth import ORDERS_READ, ORDERS_WRITE, PROFILE_READ, allegro_state, require_token, seller_id
from sandbox.allegro.checkout_forms import query_checkout_forms
from sandbox.allegro.errors import MEDIA_TYPE, AllegroError, not_found, validation_error, vendor_json
from sandbox.allegro.state import AllegroState, CheckoutForm
from sandbox.faults import take_fault

router = APIRouter()


def _form(state: AllegroState, form_id: str, owner: str, malformed_status: int = 422) -> CheckoutForm:
    try:
        uuid.UUID(form_id)
    except ValueError:
        raise AllegroError(malformed_status, "VALIDATION_ERROR", f"Invalid checkout form id: {form_id}", path="id") from None
    form = state.checkout_forms.get(form_id)
    if form is None or form.seller_id != owner:
        raise not_found(f"Checkout form {form_id} not found")
    return form


async def _body(request: Request) -> Any:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != MEDIA_TYPE:
        raise AllegroError(415, "UnsupportedMediaTypeException", f"Content type '{media_type or '(none)'}' not supported")
    try:
        return json.loads(await request.body())
    except ValueError:
        raise validation_error("Malformed JSON request body") from None


@router.get("/me")
async def get_me(request: Request) -> JSONResponse:
    state = allegro_state(request)
    token = require_token(request, PROFILE_READ)
    user = state.users.get(seller_id(token))
    if user is None:
        raise not_found("User not found")
    return vendor_json(payloads.me_payload(user))


@router.get("/order/events")
async def get_order_events(request: Request) -> JSONResponse:
    state = allegro_state(request)
    token = require_token(request, ORDERS_READ)
    q = request.query_params
    events = journal.read_events(state, seller_id(token), q.get("from"), q.getlist("type"), q.get("limit"))
    return vendor_json({"events": [journal.event_payload(e) for e in events]})


@router.get("/order/event-stats")
async def get_order_event_stats(request: Request) -> JSONResponse:
    state = allegro_state(request)
    token = require_token(request, ORDERS_READ)
    return vendor_json({"latestEvent": journal.latest_event(state, seller_id(token))})


@router.get("/order/checkout-forms")
async def list_checkout_forms(request: Request) -> JSONResponse:
    state = allegro_state(request)
    token = require_token(request, ORDERS_READ)
    total, page = query_checkout_forms(state, seller_id(token), request.query_params)
    body = {"checkoutForms": [payloads.checkout_form_payload(f) for f in page], "count": len(page), "totalCount": total}
    return vendor_json(body)


@router.get("/order/checkout-forms/{form_id}")
async def get_checkout_form(request: Request, form_id: str) -> JSONResponse:
    state = allegro_state(request)
    token = require_token(request, ORDERS_READ)
    return vendor_json(payloads.checkout_form_payload(_form(state, form_id, seller_id(token))))


@router.get("/order/carriers")
async def get_carriers(request: Request) -> JSONResponse:
    """Public dictionary: an application token is enough; cacheable, as the spec says."""
    state = allegro_state(request)
    require_token(request, None, user_context=False)
    return vendor_json({"carriers": state.settings.carriers}, headers={"cache-control": "max-age=3600, public"})


@router.get("/order/checkout-forms/{form_id}/shipments")
async def list_shipments(request: Request, form_id: str) -> JSONResponse:
    state = allegro_state(request)
    token = require_token(request, ORDERS_READ)
    form = _form(state, form_id, seller_id(token), malformed_status=404)
    return vendor_json({"shipments": [payloads.shipment_payload(s) for s in form.shipments]})


@router.post("/order/checkout-forms/{form_id}/shipments")
async def create_shipment(request: Request, form_id: str) -> JSONResponse:
    state = allegro_state(request)
    token = require_token(request, ORDERS_WRITE)
    form = _form(state, form_id, seller_id(token), malformed_status=404)
    shipment = fulfillment.add_shipment(state, form, await _body(request))
    return vendor_json(payloads.shipment_payload(shipment), status_code=201)


@router.put("/order/checkout-forms/{form_id}/fulfillment")
async def set_fulfillment(request: Request, form_id: str) -> Response:
    """Seller status with optimistic locking on `checkoutForm.revision` (409 when stale)."""
    state = allegro_state(request)
    token = require_token(request, ORDERS_WRITE)
    form = _form(state, form_id, seller_id(token), malformed_status=404)
    body = await _body(request)
    if _stale_revision_fault(state, form.id):
        state.bump(form)  # a concurrent change lands just before this request
    revision = request.query_params.get("checkoutForm.revision")
    if revision is not None and revision != form.revision:
        raise AllegroError(409, "CONFLICT", "Provided revision is outdated", path="checkoutForm.revision")
    if not isinstance(body, dict) or "status" not in body:
        raise AllegroError(422, "VALIDATION_ERROR", "status is required", path="status")
    fulfillment.set_status(state, form, body["status"])
    return Response(status_code=204)


def _stale_revision_fault(state: AllegroState, form_id: str) -> bool:
    fault = take_fault(state.faults, lambda f: f.kind == "stale_revision" and f.checkout_form_id in (None, form_id))
    return fault is not None
