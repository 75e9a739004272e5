"""Webhooks V3 (`/stores/{store_hash}/v3/hooks`): create, list, read, update, delete.

No scope is needed (every API account may manage hooks), but an account only sees the hooks it
created: BigCommerce derives the `client_id` from the access token. Errors use the V3 object
shape; a hook of another account is a 404 "Webhook with id [..] not found".
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request

from sandbox.bigcommerce.auth import authorize, bc_state
from sandbox.bigcommerce.errors import BigCommerceError, v3_unprocessable
from sandbox.bigcommerce.payloads import hook_payload
from sandbox.bigcommerce.state import ApiAccount, BigCommerceState, Hook
from sandbox.bigcommerce.webhooks import KNOWN_HOOK_SCOPES

router = APIRouter(prefix="/stores/{store_hash}/v3/hooks")


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise BigCommerceError(400, "Input is invalid.", shape="v3") from None
    if not isinstance(body, dict):
        raise BigCommerceError(400, "Input is invalid.", shape="v3")
    return body


def _validated(state: BigCommerceState, body: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    errors: dict[str, str] = {}
    fields: dict[str, Any] = {}
    if "scope" in body or creating:
        scope = body.get("scope")
        if not isinstance(scope, str) or not scope:
            errors["scope"] = "error.path.missing"
        elif scope not in KNOWN_HOOK_SCOPES:
            errors["scope"] = f"{scope} is not a valid webhook scope"
        fields["scope"] = scope
    if "destination" in body or creating:
        destination = body.get("destination")
        if not isinstance(destination, str) or not destination:
            errors["destination"] = "error.path.missing"
        else:
            url = urlsplit(destination)
            if url.scheme not in ("http", "https") or not url.hostname:
                errors["destination"] = "destination must be a valid URL"
            elif state.settings.webhook_require_https and (url.scheme != "https" or url.port not in (None, 443)):
                errors["destination"] = "destination must be served over https on port 443"
        fields["destination"] = destination
    if "is_active" in body:
        if not isinstance(body["is_active"], bool):
            errors["is_active"] = "is_active must be a boolean"
        fields["is_active"] = body["is_active"]
    if "headers" in body:
        headers = body["headers"]
        if headers is not None and (
            not isinstance(headers, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
        ):
            errors["headers"] = "headers must be an object of string values"
        fields["headers"] = headers
    if errors:
        raise v3_unprocessable(errors)
    return fields


def _own_hook(state: BigCommerceState, account: ApiAccount, raw_id: str) -> Hook:
    hook = state.hooks.get(int(raw_id)) if raw_id.isdigit() else None
    if hook is None or hook.client_id != account.client_id or hook.store_hash != account.store_hash:
        raise BigCommerceError(404, f"Webhook with id [{raw_id}] not found", shape="v3")
    return hook


@router.post("")
async def create_webhook(request: Request, store_hash: str) -> dict[str, Any]:
    _, account = authorize(request, store_hash, None)
    state = bc_state(request)
    fields = _validated(state, await _body(request), creating=True)
    duplicate = any(
        h.client_id == account.client_id and h.scope == fields["scope"] and h.destination == fields["destination"]
        for h in state.hooks.values()
        if h.store_hash == store_hash
    )
    if duplicate:
        raise v3_unprocessable({"scope": "a webhook with this scope and destination already exists"})
    now = state.now_s()
    hook = Hook(
        id=state.next_id("hook"),
        store_hash=store_hash,
        client_id=account.client_id,
        scope=fields["scope"],
        destination=fields["destination"],
        is_active=fields.get("is_active", True),
        headers=fields.get("headers"),
        created_at=now,
        updated_at=now,
    )
    state.hooks[hook.id] = hook
    return {"data": hook_payload(hook), "meta": {}}


@router.get("")
async def get_webhooks(request: Request, store_hash: str) -> dict[str, Any]:
    _, account = authorize(request, store_hash, None)
    state = bc_state(request)
    params = request.query_params
    try:
        page, limit = int(params.get("page", "1")), int(params.get("limit", "50"))
    except ValueError:
        raise BigCommerceError(400, "Input is invalid.", shape="v3") from None
    page, limit = max(page, 1), max(limit, 1)
    mine = [h for h in state.hooks.values() if h.store_hash == store_hash and h.client_id == account.client_id]
    if "is_active" in params:
        wanted = params["is_active"].lower() == "true"
        mine = [h for h in mine if h.is_active == wanted]
    if params.get("scope"):
        mine = [h for h in mine if h.scope == params["scope"]]
    if params.get("destination"):
        mine = [h for h in mine if h.destination == params["destination"]]
    chunk = mine[(page - 1) * limit : page * limit]
    total_pages = -(-len(mine) // limit)
    links = {"current": f"?page={page}&limit={limit}"}
    if page > 1:
        links["previous"] = f"?page={page - 1}&limit={limit}"
    if page < total_pages:
        links["next"] = f"?page={page + 1}&limit={limit}"
    pagination = {
        "total": len(mine),
        "count": len(chunk),
        "per_page": limit,
        "current_page": page,
        "total_pages": total_pages,
        "links": links,
    }
    return {"data": [hook_payload(h) for h in chunk], "meta": {"pagination": pagination}}


@router.get("/{webhook_id}")
async def get_webhook(request: Request, store_hash: str, webhook_id: str) -> dict[str, Any]:
    _, account = authorize(request, store_hash, None)
    return {"data": hook_payload(_own_hook(bc_state(request), account, webhook_id)), "meta": {}}


@router.put("/{webhook_id}")
async def update_webhook(request: Request, store_hash: str, webhook_id: str) -> dict[str, Any]:
    _, account = authorize(request, store_hash, None)
    state = bc_state(request)
    hook = _own_hook(state, account, webhook_id)
    fields = _validated(state, await _body(request), creating=False)
    if not fields:
        raise v3_unprocessable({"body": "at least one field is required to perform an update"})
    for name, value in fields.items():
        setattr(hook, name, value)
    hook.updated_at = state.now_s()
    return {"data": hook_payload(hook), "meta": {}}


@router.delete("/{webhook_id}")
async def delete_webhook(request: Request, store_hash: str, webhook_id: str) -> dict[str, Any]:
    _, account = authorize(request, store_hash, None)
    state = bc_state(request)
    hook = _own_hook(state, account, webhook_id)
    del state.hooks[hook.id]
    return {"data": hook_payload(hook), "meta": {}}
