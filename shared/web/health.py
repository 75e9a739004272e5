"""`/healthz` (process alive), `/readyz` (database and broker reachable) and `/metrics` (Prometheus)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from shared.messaging.kafka import broker_reachable

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}


async def _database_ok(request: Request) -> bool:
    try:
        async with request.app.state.engine.connect() as conn:
            async with asyncio.timeout(2.0):
                await conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    database, broker = await asyncio.gather(_database_ok(request), broker_reachable(request.app.state.settings))
    checks = {"database": "ok" if database else "unreachable", "broker": "ok" if broker else "unreachable"}
    ready = database and broker
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics")
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
