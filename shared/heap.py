"""Garbage-collector setting for long-running processes (services, the gateway, the benchmark's sides)."""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Leave everything alive after startup (modules, the app, pools, clients) out of future collections.

    A full collection walks every tracked object. After importing FastAPI, SQLAlchemy, aiokafka and pydantic
    there are about 100,000, and each full collection stalled the event loop for 50-100 ms: that was most of
    the event backbone's p99 in `make bench`. Objects created later are collected as usual.
    """
    gc.collect()
    gc.freeze()
