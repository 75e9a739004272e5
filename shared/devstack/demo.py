"""Seeds the dev stack through the public API: a demo merchant and an API client for it."""

from __future__ import annotations

import json
import time
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


def _disconnect_previous(http: httpx.Client, headers: dict, marketplace: str) -> None:
    """Sandboxes keep nothing between runs: a connection left from an earlier run points at a shop that is
    gone, so it is disconnected first (its orders stay, as after any disconnect)."""
    for connection in http.get("/v1/connections", headers=headers).raise_for_status().json()["items"]:
        if connection["marketplace"] == marketplace and connection["status"] != "disconnected":
            http.delete(f"/v1/connections/{connection['id']}", headers=headers).raise_for_status()


def _approve_oauth(http: httpx.Client, sandbox: httpx.Client, headers: dict, demo: dict, marketplace: str,
                   user_id) -> dict:
    """The real OAuth flow: create, approve at the (sandbox) marketplace as `user_id`, land on the callback."""
    sandbox.put(f"/_sandbox/{marketplace}/settings", json={"approving_user_id": user_id}).raise_for_status()
    pending = http.post("/v1/connections", headers=headers,
                        json={"marketplace": marketplace, "merchant_id": demo["merchant_id"]}).raise_for_status().json()
    callback = httpx.URL(sandbox.get(pending["authorization_url"], follow_redirects=False).headers["location"])
    return http.get(callback.path, params=callback.params).raise_for_status().json()


def connect_demo_shops(gateway_url: str, sandbox_urls: dict[str, str], demo: dict) -> list[dict]:
    """One demo shop per marketplace sandbox in `sandbox_urls`, each with a few orders, connected the way a
    merchant would. A marketplace without a sandbox there (the user pointed it elsewhere) gets none."""
    with httpx.Client(base_url=gateway_url, timeout=30.0) as http:
        headers = {"Authorization": f"Bearer {token(http, demo['client_id'], demo['client_secret'])}"}
        connected = []
        for marketplace, connect in (("etsy", _etsy), ("bigcommerce", _bigcommerce), ("allegro", _allegro)):
            if marketplace not in sandbox_urls:
                continue
            with httpx.Client(base_url=sandbox_urls[marketplace], timeout=30.0) as sandbox:
                _disconnect_previous(http, headers, marketplace)
                connected.append({"marketplace": marketplace, **connect(http, sandbox, headers, demo)})
        return connected


def _etsy(http: httpx.Client, sandbox: httpx.Client, headers: dict, demo: dict) -> dict:
    shop = sandbox.post("/_sandbox/etsy/shops", json={"shop_name": "DemoCraftsCo"}).raise_for_status().json()
    for receipt in DEMO_RECEIPTS:
        sandbox.post(f"/_sandbox/etsy/shops/{shop['shop_id']}/receipts", json=receipt).raise_for_status()
    sandbox.post(f"/_sandbox/etsy/shops/{shop['shop_id']}/receipts", json={"is_paid": False}).raise_for_status()
    return _approve_oauth(http, sandbox, headers, demo, "etsy", shop["user_id"])


def _bigcommerce(http: httpx.Client, sandbox: httpx.Client, headers: dict, demo: dict) -> dict:
    store = sandbox.post("/_sandbox/bigcommerce/stores", json={"name": "Demo Outfitters"}).raise_for_status().json()
    account = sandbox.post(f"/_sandbox/bigcommerce/stores/{store['store_hash']}/api_accounts",
                           json={}).raise_for_status().json()
    for status_id in (11, 11, 9, 7):  # two awaiting fulfillment, one awaiting shipment, one awaiting payment
        sandbox.post(f"/_sandbox/bigcommerce/stores/{store['store_hash']}/orders",
                     json={"status_id": status_id, "emit_webhooks": False}).raise_for_status()
    credentials = {k: account[k] for k in ("api_path", "client_id", "client_secret", "access_token")}
    return http.post("/v1/connections", headers=headers, json={
        "marketplace": "bigcommerce", "merchant_id": demo["merchant_id"], "credentials": credentials,
    }).raise_for_status().json()


def _allegro(http: httpx.Client, sandbox: httpx.Client, headers: dict, demo: dict) -> dict:
    seller = sandbox.post("/_sandbox/allegro/users", json={"login": "DemoSklep"}).raise_for_status().json()
    connection = _approve_oauth(http, sandbox, headers, demo, "allegro", seller["id"])
    # Allegro's journal starts where the first sync finds it: purchases made after that arrive as new ones.
    _wait_for_first_sync(http, headers, connection["id"])
    sandbox.post(f"/_sandbox/allegro/users/{seller['id']}/checkout-forms", json={"count": 2}).raise_for_status()
    sandbox.post(f"/_sandbox/allegro/users/{seller['id']}/checkout-forms", json={"status": "BOUGHT"}).raise_for_status()
    http.post(f"/v1/connections/{connection['id']}/sync", headers=headers).raise_for_status()
    return connection


def _wait_for_first_sync(http: httpx.Client, headers: dict, connection_id: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        response = http.get(f"/v1/connections/{connection_id}/sync", headers=headers)
        if response.status_code == 200 and response.json()["last_outcome"] == "ok":
            return
        time.sleep(0.2)
    raise RuntimeError(f"the first sync of connection {connection_id} did not finish within {timeout_s}s")
