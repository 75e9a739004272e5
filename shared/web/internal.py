"""Service-to-service calls: the caller signs its own service identity like the gateway signs a user's.

Internal routes live under `/internal/…`, which the gateway's route table never exposes, and require the
`internal` scope, which no API client can hold. Each request is signed for its own method and target.
"""

from __future__ import annotations

import httpx

from shared.deadline import time_left
from shared.settings import Settings
from shared.web.identity import Identity, SignedIdentity

INTERNAL_SCOPE = "internal"


class InternalClient:
    def __init__(self, settings: Settings, base_url: str, *, timeout: float = 15.0) -> None:
        self._settings = settings
        identity = Identity(client_id=f"service:{settings.service_name}", merchant_id=None,
                            scopes=frozenset({INTERNAL_SCOPE}))
        auth = SignedIdentity(settings.internal_secret.get_secret_value(), identity)
        self._timeout = timeout
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, auth=auth)

    async def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        left = time_left()
        if left is not None and "timeout" not in kwargs:  # inside a request: no longer than its budget
            kwargs["timeout"] = max(0.1, min(self._timeout, left))
        return await self._http.request(method, path, **kwargs)

    async def aclose(self) -> None:
        await self._http.aclose()
