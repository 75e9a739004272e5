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


DEMO_RECEIPTS = [
    {"name": "Ada Lovelace", "buyer_email": "ada@example.com", "city": "London", "state": None, "zip": "NW1 6XE",
     "country_iso": "GB", "first_line": "12 St James's Square", "currency_code": "GBP",
     "transactions": [{"title": "Hand-thrown mug", "sku": "MUG-BLUE", "quantity": 2, "price": "18.00",
                       "variations": [{"formatted_name": "Colour", "formatted_value": "Blue"}]}]},
    {"name": "Grace Hopper", "buyer_email": "grace@example.com",
     "transactions": [{"title": "Linen tea towel", "sku": "TOWEL-NAT", "quantity": 1, "price": "9.50"}]},
    {"name": "Zoë Ætherington", "buyer_email": None,
     "transactions": [{"title": "Ceramic bowl", "sku": "BOWL-L", "quantity": 1, "price": "32.00"},
                      {"title": "Gift wrap", "sku": None, "quantity": 1, "price": "3.00"}]},
]


def connect_demo_etsy_shop(gateway_url: str, sandbox_url: str, demo: dict) -> dict:
    """A fresh sandbox shop with a few orders, connected through the real OAuth flow.

    The sandbox keeps nothing between runs, so an Etsy connection left from an earlier run is
    disconnected first (its orders stay, as after any disconnect).
    """
    with httpx.Client(base_url=gateway_url, timeout=30.0) as http, \
            httpx.Client(base_url=sandbox_url, timeout=30.0) as sandbox:
        headers = {"Authorization": f"Bearer {token(http, demo['client_id'], demo['client_secret'])}"}
        existing = http.get("/v1/connections", headers=headers).raise_for_status().json()["items"]
        for connection in existing:
            if connection["marketplace"] == "etsy" and connection["status"] != "disconnected":
                http.delete(f"/v1/connections/{connection['id']}", headers=headers).raise_for_status()

        shop = sandbox.post("/_sandbox/etsy/shops", json={"shop_name": "DemoCraftsCo"}).raise_for_status().json()
        for receipt in DEMO_RECEIPTS:
            sandbox.post(f"/_sandbox/etsy/shops/{shop['shop_id']}/receipts", json=receipt).raise_for_status()
        sandbox.post(f"/_sandbox/etsy/shops/{shop['shop_id']}/receipts", json={"is_paid": False}).raise_for_status()
        sandbox.put("/_sandbox/etsy/settings", json={"approving_user_id": shop["user_id"]}).raise_for_status()

        pending = http.post("/v1/connections", headers=headers,
                            json={"marketplace": "etsy", "merchant_id": demo["merchant_id"]}).raise_for_status().json()
        approval = sandbox.get(pending["authorization_url"], follow_redirects=False)
        callback = httpx.URL(approval.headers["location"])
        return http.get(callback.path, params=callback.params).raise_for_status().json()
