"""Fixtures: one real uvicorn server running the Etsy emulator, and a per-test harness.

The server runs in a background thread on a free 127.0.0.1 port for the whole session; each
test gets a reset world and an httpx client whose every v3 exchange is checked against
Etsy's OpenAPI file (violations fail the test at teardown).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sandbox.etsy.app import create_app
from sandbox.etsy.state import DEFAULT_CLIENT_ID, DEFAULT_SECRET
from tests.inprocess import serve
from tests.sandbox.etsy_contract import ContractRecorder, load_spec
from tests.sandbox_control import SandboxControl

REDIRECT_URI = "https://channelbridge.test/oauth/etsy/callback"
SCOPES = "shops_r transactions_r transactions_w listings_r listings_w"


@pytest.fixture(scope="session")
def etsy_base_url() -> Iterator[str]:
    yield from serve(create_app(), "Etsy sandbox")


@pytest.fixture(scope="session")
def etsy_spec() -> tuple[Any, dict[str, Any]]:
    return load_spec()


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class EtsyHarness(SandboxControl):
    """Thin helpers over the control API and the Etsy endpoints; all traffic is real HTTP."""

    marketplace = "etsy"

    api_key = f"{DEFAULT_CLIENT_ID}:{DEFAULT_SECRET}"

    def __init__(self, client: httpx.Client, contract: ContractRecorder) -> None:
        super().__init__(client)
        self.contract = contract

    # control API
    def create_shop(self, **body: Any) -> dict[str, Any]:
        return self.control("POST", "/shops", json={"shop_name": "SandboxShop", **body})

    def create_receipts(self, shop_id: int, **body: Any) -> list[dict[str, Any]]:
        return self.control("POST", f"/shops/{shop_id}/receipts", json=body)["results"]

    def fault(self, **body: Any) -> dict[str, Any]:
        return self.control("POST", "/faults", json=body)

    def requests_log(self, path_prefix: str = "") -> list[dict[str, Any]]:
        return self.control("GET", "/requests", params={"path_prefix": path_prefix})["results"]

    # OAuth
    def authorize(self, challenge: str, **overrides: str) -> httpx.Response:
        params = {
            "response_type": "code",
            "client_id": DEFAULT_CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "scope": SCOPES,
            "state": "st-" + secrets.token_hex(4),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **overrides,
        }
        return self.http.get("/oauth/connect", params=params, follow_redirects=False)

    def authorization_code(self, challenge: str, **overrides: str) -> str:
        response = self.authorize(challenge, **overrides)
        assert response.status_code == 302, response.text
        return parse_qs(urlsplit(response.headers["location"]).query)["code"][0]

    def token(self, **form: str) -> httpx.Response:
        return self.http.post("/v3/public/oauth/token", data={"client_id": DEFAULT_CLIENT_ID, **form})

    def connect(self) -> dict[str, Any]:
        """Full authorization-code + PKCE flow, as ChannelBridge's connect handler runs it."""
        verifier, challenge = pkce_pair()
        code = self.authorization_code(challenge)
        response = self.token(
            grant_type="authorization_code", redirect_uri=REDIRECT_URI, code=code, code_verifier=verifier
        )
        assert response.status_code == 200, response.text
        return response.json()

    # Etsy API
    def api(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"x-api-key": self.api_key, **kwargs.pop("headers", {})}
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
        return self.http.request(method, f"/v3/application{path}", headers=headers, **kwargs)


@pytest.fixture
def etsy(etsy_base_url: str, etsy_spec: tuple[Any, dict[str, Any]]) -> Iterator[EtsyHarness]:
    openapi, raw = etsy_spec
    contract = ContractRecorder(openapi, raw)
    with httpx.Client(base_url=etsy_base_url, timeout=30, event_hooks={"response": [contract]}) as client:
        harness = EtsyHarness(client, contract)
        harness.control("POST", "/reset")
        # Generous QPS so functional tests never trip the limiter; rate tests lower it again.
        harness.settings(rate_per_second=1000)
        yield harness
    assert not contract.violations, "OpenAPI contract violations:\n" + "\n".join(contract.violations)


@pytest.fixture
def shop(etsy: EtsyHarness) -> dict[str, Any]:
    return etsy.create_shop(shop_name="ChannelBridgeTestShop")


@pytest.fixture
def token(etsy: EtsyHarness, shop: dict[str, Any]) -> str:
    return etsy.connect()["access_token"]
