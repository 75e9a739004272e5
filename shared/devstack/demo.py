"""Seeds the dev stack through the public API: a demo merchant and an API client for it."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

DEMO_MERCHANT = "Demo Merchant"
DEMO_SCOPES = ["connections:read", "connections:write", "orders:read", "orders:write",
               "listings:read", "listings:write", "fulfilment:write"]


def token(http: httpx.Client, client_id: str, client_secret: str) -> str | None:
    response = http.post("/v1/oauth/token", data={"grant_type": "client_credentials"},
                         auth=(client_id, client_secret))
    return response.json()["access_token"] if response.status_code == 200 else None


def seed(gateway_url: str, admin_id: str, admin_secret: str, state_file: Path) -> dict:
    """Idempotent: reuses the merchant and client recorded in `state_file` while they still work."""
    with httpx.Client(base_url=gateway_url, timeout=10.0) as http:
        if state_file.exists():
            demo = json.loads(state_file.read_text())
            if token(http, demo["client_id"], demo["client_secret"]):
                return demo
        admin_token = token(http, admin_id, admin_secret)
        if admin_token is None:
            raise RuntimeError("the bootstrap admin client cannot get a token")
        headers = {"Authorization": f"Bearer {admin_token}"}
        merchants = http.get("/v1/merchants", headers=headers, params={"limit": 100}).raise_for_status().json()
        merchant = next((m for m in merchants["items"] if m["name"] == DEMO_MERCHANT), None)
        if merchant is None:
            merchant = http.post("/v1/merchants", json={"name": DEMO_MERCHANT}, headers=headers).raise_for_status().json()
        client = http.post("/v1/clients", headers=headers, json={
            "name": "demo client", "merchant_id": merchant["id"], "scopes": DEMO_SCOPES}).raise_for_status().json()
        demo = {"merchant_id": merchant["id"], "client_id": client["client_id"], "client_secret": client["client_secret"]}
        state_file.write_text(json.dumps(demo, indent=2))
        state_file.chmod(0o600)
        return demo
