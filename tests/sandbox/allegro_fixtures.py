"""Fixtures for the Allegro emulator: one real uvicorn server per session and a per-test harness.

The server runs in a background thread on a free 127.0.0.1 port; each test gets a reset world
and an httpx client whose every REST exchange is checked against Allegro's OpenAPI file
(violations fail the test at teardown). Import the fixtures into a test module to use them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sandbox.allegro.app import create_app
from sandbox.allegro.errors import MEDIA_TYPE
from sandbox.allegro.state import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from tests.inprocess import serve
from tests.sandbox.allegro_contract import ContractRecorder, load_spec
from tests.sandbox_control import SandboxControl

REDIRECT_URI = "https://channelbridge.test/oauth/allegro/callback"
SCOPES = "allegro:api:orders:read allegro:api:orders:write allegro:api:profile:read"


@pytest.fixture(scope="session")
def allegro_base_url() -> Iterator[str]:
    yield from serve(create_app(), "Allegro sandbox")


@pytest.fixture(scope="session")
def allegro_spec() -> tuple[Any, dict[str, Any]]:
    """The 1.4 MB vendored spec, parsed once per session."""
    return load_spec()


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class AllegroHarness(SandboxControl):
    """Thin helpers over the control API and the Allegro endpoints; all traffic is real HTTP."""

    marketplace = "allegro"

    client_auth = (DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)

    def __init__(self, client: httpx.Client, contract: ContractRecorder) -> None:
        super().__init__(client)
        self.contract = contract

    # control API
    def advance(self, seconds: float) -> None:
        self.control("POST", "/clock", json={"advance_s": seconds})

    def create_user(self, **body: Any) -> dict[str, Any]:
        return self.control("POST", "/users", json=body)

    def create_orders(self, seller_id: str, **body: Any) -> list[dict[str, Any]]:
        return self.control("POST", f"/users/{seller_id}/checkout-forms", json=body)["checkoutForms"]

    def create_order(self, seller_id: str, **body: Any) -> dict[str, Any]:
        return self.create_orders(seller_id, **body)[0]

    def fault(self, **body: Any) -> dict[str, Any]:
        return self.control("POST", "/faults", json=body)

    # OAuth
    def authorize(self, **params: str) -> httpx.Response:
        query = {"response_type": "code", "client_id": DEFAULT_CLIENT_ID, "redirect_uri": REDIRECT_URI, **params}
        return self.http.get("/auth/oauth/authorize", params=query, follow_redirects=False)

    def authorization_code(self, **params: str) -> str:
        response = self.authorize(**params)
        assert response.status_code == 302, response.text
        return parse_qs(urlsplit(response.headers["location"]).query)["code"][0]

    def token(self, auth: tuple[str, str] | None = client_auth, **params: str) -> httpx.Response:
        """Allegro's documented style: parameters in the query string, client in HTTP Basic."""
        return self.http.post("/auth/oauth/token", params=params, auth=auth)

    def connect(self) -> dict[str, Any]:
        """Authorization code + PKCE (S256), as ChannelBridge's connect handler runs it."""
        verifier, challenge = pkce_pair()
        code = self.authorization_code(scope=SCOPES, code_challenge=challenge, code_challenge_method="S256", state="s")
        response = self.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier)
        assert response.status_code == 200, response.text
        return response.json()

    # REST API
    def api(
        self,
        method: str,
        path: str,
        token: str | None,
        body: Any = None,
        accept: str | None = MEDIA_TYPE,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if accept is not None:
            headers["accept"] = accept
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
        if body is not None:
            headers.setdefault("content-type", MEDIA_TYPE)
            kwargs["content"] = json.dumps(body).encode()
        return self.http.request(method, path, headers=headers, **kwargs)

    def get_json(self, path: str, token: str, **kwargs: Any) -> Any:
        response = self.api("GET", path, token, **kwargs)
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
        return response.json()


@pytest.fixture
def allegro(allegro_base_url: str, allegro_spec: tuple[Any, dict[str, Any]]) -> Iterator[AllegroHarness]:
    openapi, raw = allegro_spec
    contract = ContractRecorder(openapi, raw)
    with httpx.Client(base_url=allegro_base_url, timeout=30, event_hooks={"response": [contract]}) as client:
        harness = AllegroHarness(client, contract)
        harness.control("POST", "/reset")
        yield harness
    assert not contract.violations, "OpenAPI contract violations:\n" + "\n".join(contract.violations)


@pytest.fixture
def allegro_seller(allegro: AllegroHarness) -> dict[str, Any]:
    return allegro.create_user(login="ChannelBridgeSeller", firstName="Jan", lastName="Kowalski")


@pytest.fixture
def allegro_token(allegro: AllegroHarness, allegro_seller: dict[str, Any]) -> str:
    """The seller's access token, obtained through the real authorization-code + PKCE flow."""
    return allegro.connect()["access_token"]
