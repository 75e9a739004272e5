"""Service-to-service calls: the caller signs its own service identity like the gateway signs a user's.

Internal routes live under `/internal/…`, which the gateway's route table never exposes, and require the
`internal` scope, which no API client can hold.
"""

from __future__ import annotations

import uuid

import httpx
import structlog

from shared.deadline import time_left
from shared.settings import Settings
from shared.web.identity import REQUEST_ID, Identity, identity_headers

INTERNAL_SCOPE = "internal"


class InternalClient:
    def __init__(self, settings: Settings, base_url: str, *, timeout: float = 15.0) -> None:
        self._settings = settings
        self._identity = Identity(client_id=f"service:{settings.service_name}", merchant_id=None,
                                  scopes=frozenset({INTERNAL_SCOPE}))
        self._timeout = timeout
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout)

    def _headers(self) -> dict[str, str]:
        request_id = structlog.contextvars.get_contextvars().get("request_id") or str(uuid.uuid4())
        secret = self._settings.internal_secret.get_secret_value()
        return {REQUEST_ID: request_id, **identity_headers(secret, self._identity, request_id)}

    async def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        left = time_left()
        if left is not None and "timeout" not in kwargs:  # inside a request: no longer than its budget
            kwargs["timeout"] = max(0.1, min(self._timeout, left))
        return await self._http.request(method, path, headers=self._headers(), **kwargs)

    async def aclose(self) -> None:
        await self._http.aclose()
