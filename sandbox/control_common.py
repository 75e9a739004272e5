"""Control routes every emulator has: its queued faults and its request log, read and cleared.

Each emulator keeps the answer shapes its tests already use: Etsy and BigCommerce list under "results",
Allegro under "faults" and "requests".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request


def fault_and_log_routes(world: Callable[[Request], Any], *, faults_key: str = "results",
                         requests_key: str = "results") -> APIRouter:
    """GET/DELETE `/faults` and `/requests` over `world(request).faults` and `.request_log`."""
    router = APIRouter()

    @router.get("/faults")
    async def list_faults(request: Request) -> dict[str, Any]:
        return {faults_key: [dict(vars(f)) for f in world(request).faults]}

    @router.delete("/faults")
    async def clear_faults(request: Request) -> dict[str, Any]:
        world(request).faults.clear()
        return {"ok": True}

    @router.get("/requests")
    async def request_log(request: Request, path_prefix: str = "") -> dict[str, Any]:
        entries = [e for e in world(request).request_log if e["path"].startswith(path_prefix)]
        return {"count": len(entries), requests_key: entries}

    @router.delete("/requests")
    async def clear_request_log(request: Request) -> dict[str, Any]:
        world(request).request_log.clear()
        return {"ok": True}

    return router
