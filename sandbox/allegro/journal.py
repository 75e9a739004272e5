"""The order event journal (`GET /order/events`, `GET /order/event-stats`) and how events are made.

Events are appended, never rewritten: each carries the order as it looked when it happened
(checkout-form revision included), ids are strictly increasing microsecond-looking strings, and
reading drops whatever fell out of the retention window (~60 days on Allegro). `from` is
exclusive. With `duplicate_ready_for_processing` on, every READY_FOR_PROCESSING is written twice,
which Allegro is known to do now and then.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sandbox.allegro import payloads
from sandbox.allegro.errors import AllegroError
from sandbox.allegro.state import EVENT_TYPES, AllegroState, CheckoutForm, OrderEvent, iso

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def emit(state: AllegroState, form: CheckoutForm, event_type: str, copies: int = 1) -> list[OrderEvent]:
    """Append `copies` events of one type for the form's current revision."""
    if event_type == "READY_FOR_PROCESSING" and state.settings.duplicate_ready_for_processing:
        copies += 1
    made = []
    for _ in range(copies):
        event = OrderEvent(
            id=state.next_event_id(),
            type=event_type,
            occurred_at=state.now(),
            seller_id=form.seller_id,
            checkout_form_id=form.id,
            order=payloads.event_order_payload(form),
        )
        state.events.append(event)
        made.append(event)
    return made


def event_payload(event: OrderEvent) -> dict[str, Any]:
    return {"id": str(event.id), "order": event.order, "type": event.type, "occurredAt": iso(event.occurred_at)}


def _unprocessable(message: str, path: str) -> AllegroError:
    return AllegroError(422, "VALIDATION_ERROR", message, path=path)


def read_events(
    state: AllegroState, seller_id: str, after: str | None, types: Sequence[str], limit: str | None
) -> list[OrderEvent]:
    """One page of the seller's journal: events after `after`, of `types` (all when empty)."""
    try:
        size = DEFAULT_LIMIT if limit is None else int(limit)
    except ValueError:
        raise _unprocessable(f"limit must be an integer, got '{limit}'", "limit") from None
    if not 1 <= size <= MAX_LIMIT:
        raise _unprocessable(f"limit must be between 1 and {MAX_LIMIT}", "limit")
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown:
        raise _unprocessable(f"Unknown event type: {', '.join(unknown)}", "type")
    cursor = 0
    if after is not None and after != "":
        if not after.isdigit():
            raise _unprocessable(f"from must be an event id, got '{after}'", "from")
        cursor = int(after)
    wanted = set(types)
    page = [e for e in state.retained_events(seller_id) if e.id > cursor and (not wanted or e.type in wanted)]
    return page[:size]


def latest_event(state: AllegroState, seller_id: str) -> dict[str, Any] | None:
    """`latestEvent`, or None when nothing happened within retention (Allegro sends `null`, issue #8496)."""
    events = state.retained_events(seller_id)
    if not events:
        return None
    return {"id": str(events[-1].id), "occurredAt": iso(events[-1].occurred_at)}
