"""Webhook emission and delivery, as docs/integrations/webhooks describe it.

An event becomes one thin JSON body (`scope`, `store_id`, `producer`, `data`, `hash`,
`created_at`) sent to every active hook of the store whose scope matches (`store/order/*`
wildcards included). Each hook's deliveries carry its custom `headers` plus Standard Webhooks
headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`) signed with the client secret of
the API account that created the hook. A non-2xx answer (or no answer) is retried after the
configured delays (production: 60 s … 86400 s); after the last failure the hook is deactivated.

Deliveries run as tasks on the server's own loop, so an API call that triggers an event answers
before the receiver is called, as in production.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import uuid
from typing import Any

import httpx

from sandbox.bigcommerce.state import BigCommerceState, Delivery, Hook, Store, WebhookEvent

# Scopes in webhooks.v3 plus the wildcards; anything else is rejected with 422 on POST /v3/hooks.
KNOWN_HOOK_SCOPES = frozenset(
    {
        "store/order/*",
        "store/order/created",
        "store/order/updated",
        "store/order/archived",
        "store/order/statusUpdated",
        "store/order/message/created",
        "store/order/refund/created",
        "store/shipment/*",
        "store/shipment/created",
        "store/shipment/updated",
        "store/shipment/deleted",
        "store/product/*",
        "store/product/created",
        "store/product/updated",
        "store/product/deleted",
        "store/product/inventory/updated",
        "store/product/inventory/order/updated",
        "store/sku/*",
        "store/sku/created",
        "store/sku/updated",
        "store/sku/deleted",
        "store/sku/inventory/updated",
        "store/sku/inventory/order/updated",
        "store/app/uninstalled",
        "store/information/updated",
        "store/cart/*",
        "store/customer/*",
        "store/category/*",
        "store/channel/*",
    }
)


def scope_matches(hook_scope: str, event_scope: str) -> bool:
    if hook_scope.endswith("/*"):
        return event_scope.startswith(hook_scope[:-1])
    return hook_scope == event_scope


def emit(state: BigCommerceState, store: Store, scope: str, data: dict[str, Any]) -> WebhookEvent:
    """Record an event and start delivering it to every matching active hook."""
    created_at = state.now_s()
    envelope = {"created_at": created_at, "store_id": str(store.store_id), "producer": f"stores/{store.store_hash}"}
    envelope |= {"scope": scope, "data": data}
    # "The payload data encoded in JSON format and then passed through SH1" (webhook_callback_base.hash).
    digest = hashlib.sha1(json.dumps(envelope, sort_keys=True).encode(), usedforsecurity=False).hexdigest()
    body = json.dumps({**envelope, "hash": digest}, separators=(",", ":")).encode()
    event = WebhookEvent(
        event_id=f"msg_{uuid.uuid4().hex}",
        store_hash=store.store_hash,
        scope=scope,
        hash=digest,
        created_at=created_at,
        body=body,
    )
    state.events[event.event_id] = event
    for hook in list(state.hooks.values()):
        if hook.store_hash == store.store_hash and hook.is_active and scope_matches(hook.scope, scope):
            start_delivery(state, hook, event)
    return event


def start_delivery(state: BigCommerceState, hook: Hook, event: WebhookEvent, replay_of: int | None = None) -> Delivery:
    delivery = Delivery(
        delivery_id=state.next_id("delivery"),
        hook_id=hook.id,
        event_id=event.event_id,
        destination=hook.destination,
        replay_of=replay_of,
    )
    state.deliveries[delivery.delivery_id] = delivery
    task = asyncio.get_running_loop().create_task(_deliver(state, delivery))
    state.delivery_tasks.add(task)
    task.add_done_callback(state.delivery_tasks.discard)
    return delivery


def signature_headers(secret: str, event: WebhookEvent, timestamp: int) -> dict[str, str]:
    """Standard Webhooks: HMAC-SHA256 over `id.timestamp.body`, keyed with the raw client secret.

    BigCommerce's verification sample passes `base64(client_secret)` to the standardwebhooks
    library, which base64-decodes it back: the HMAC key is the client secret's bytes.
    """
    signed = f"{event.event_id}.{timestamp}.".encode() + event.body
    mac = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return {
        "webhook-id": event.event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": "v1," + base64.b64encode(mac).decode(),
    }


async def _attempt(state: BigCommerceState, hook: Hook, event: WebhookEvent) -> dict[str, Any]:
    timestamp = state.now_s()
    headers = {"content-type": "application/json", "user-agent": "BigCommerce Webhooks (sandbox)"}
    headers |= hook.headers or {}
    account = state.account_by_client_id(hook.store_hash, hook.client_id)
    if account is not None:
        headers |= signature_headers(account.client_secret, event, timestamp)
    record: dict[str, Any] = {"at": state.now(), "status": None, "error": None}
    try:
        async with httpx.AsyncClient(timeout=state.settings.webhook_timeout_s) as client:
            response = await client.post(hook.destination, content=event.body, headers=headers)
        record["status"] = response.status_code
    except httpx.HTTPError as exc:
        record["error"] = f"{type(exc).__name__}: {exc}"
    return record


async def _deliver(state: BigCommerceState, delivery: Delivery) -> None:
    event = state.events[delivery.event_id]
    retries_done = 0
    while True:
        hook = state.hooks.get(delivery.hook_id)
        if hook is None or (not hook.is_active and delivery.attempts):
            delivery.status = "cancelled"
            delivery.next_attempt_at = None
            return
        record = await _attempt(state, hook, event)
        delivery.attempts.append(record)
        if record["status"] is not None and 200 <= record["status"] < 300:
            delivery.status = "delivered"
            delivery.next_attempt_at = None
            return
        delays = state.settings.webhook_retry_delays_s
        if retries_done >= len(delays):
            delivery.status = "failed"
            delivery.next_attempt_at = None
            hook.is_active = False  # "After the final retry attempt … the webhook will be deactivated"
            hook.updated_at = state.now_s()
            return
        delay = delays[retries_done]
        retries_done += 1
        delivery.next_attempt_at = state.now() + delay
        await asyncio.sleep(delay)


def delivery_payload(state: BigCommerceState, delivery: Delivery) -> dict[str, Any]:
    event = state.events[delivery.event_id]
    return {
        "delivery_id": delivery.delivery_id,
        "hook_id": delivery.hook_id,
        "destination": delivery.destination,
        "scope": event.scope,
        "event_id": event.event_id,
        "hash": event.hash,
        "body": json.loads(event.body),
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at,
        "replay_of": delivery.replay_of,
    }
