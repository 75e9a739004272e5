"""The base of every test-side client of an emulator's control API (`/_sandbox/<marketplace>/...`)."""

from __future__ import annotations

from typing import Any, ClassVar

import httpx


class SandboxControl:
    """Control-API calls over real HTTP; a subclass names its emulator and adds that emulator's helpers."""

    marketplace: ClassVar[str]

    def __init__(self, client: httpx.Client) -> None:
        self.http = client

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"/_sandbox/{self.marketplace}{path}", **kwargs)
        assert response.is_success, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    def settings(self, **values: Any) -> dict[str, Any]:
        return self.control("PUT", "/settings", json=values)


class AsyncSandboxControl:
    """The same over an async client, for tests that run beside the stack's event loop."""

    marketplace: ClassVar[str]

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.http.request(method, f"/_sandbox/{self.marketplace}{path}", **kwargs)
        assert response.is_success, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None
