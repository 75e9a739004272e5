"""Calls made while answering a request fit its budget (`CB_INTERACTIVE_DEADLINE_S`, below the gateway's
upstream timeout): a BigCommerce 429 asking for 100 s, which background work would wait out, makes the
connect request answer at once with 503 and the marketplace's wait as `Retry-After`, instead of the gateway
giving up with 504 while auth is still sleeping."""

from __future__ import annotations

import httpx

from tests.api_client import bearer, new_tenant


async def test_bigcommerce_connect_answers_503_with_retry_after_instead_of_waiting_out_a_long_429(stack):
    async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=60.0) as gateway, \
            httpx.AsyncClient(base_url=stack.url("bigcommerce-sandbox"), timeout=30.0) as sandbox:
        tenant = await new_tenant(gateway, ["connections:read", "connections:write"])
        store = (await sandbox.post("/_sandbox/bigcommerce/stores", json={"name": "Throttled Goods"})).json()
        account = (await sandbox.post(f"/_sandbox/bigcommerce/stores/{store['store_hash']}/api_accounts",
                                      json={})).json()
        fault = await sandbox.post("/_sandbox/bigcommerce/faults", json={
            "kind": "rate_limit", "count": 3, "reset_ms": 100_000, "path_prefix": f"/stores/{store['store_hash']}/"})
        assert fault.status_code == 201, fault.text

        response = await gateway.post("/v1/connections", headers=bearer(tenant["token"]), json={
            "marketplace": "bigcommerce", "merchant_id": tenant["merchant_id"],
            "credentials": {k: account[k] for k in ("api_path", "client_id", "client_secret", "access_token")}})

        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"].endswith("/marketplace-unavailable")
        assert response.headers["retry-after"] == "100"
        listed = await gateway.get("/v1/connections", headers=bearer(tenant["token"]))
        assert listed.json()["items"] == []  # nothing half-stored
