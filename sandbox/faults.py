"""Queued faults, the part every emulator shares: which one a request uses, and when it is used up."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar


class QueuedFault(Protocol):
    remaining: int


F = TypeVar("F", bound=QueuedFault)


def take_fault(faults: list[F], matches: Callable[[F], bool]) -> F | None:
    """Use one turn of the first queued fault that `matches`; a fault whose turns are used up leaves the queue."""
    fault = next((f for f in faults if f.remaining > 0 and matches(f)), None)
    if fault is not None:
        fault.remaining -= 1
        if fault.remaining == 0:
            faults.remove(fault)
    return fault
