"""The connect flow as a merchant's integration and browser see it: everything through the gateway."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import httpx

from tests.api_client import bearer, new_tenant


async def test_a_tenant_connects_an_etsy_shop_through_the_gateway_and_the_callback_needs_no_token(stack):
    async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=30.0) as gateway, \
            httpx.AsyncClient(base_url=stack.url("etsy-sandbox"), timeout=30.0) as etsy:
        tenant = await new_tenant(gateway, ["connections:read", "connections:write"])
        shop = (await etsy.post("/_sandbox/etsy/shops", json={"shop_name": "GatewayGoods"})).json()
        previous = (await etsy.get("/_sandbox/etsy/settings")).json()["approving_user_id"]
        await etsy.put("/_sandbox/etsy/settings", json={"approving_user_id": shop["user_id"]})
        try:
            started = await gateway.post("/v1/connections", headers=bearer(tenant["token"]),
                                         json={"marketplace": "etsy", "merchant_id": tenant["merchant_id"]})
            assert started.status_code == 201, started.text
            approval = await etsy.get(started.json()["authorization_url"], follow_redirects=False)
        finally:
            await etsy.put("/_sandbox/etsy/settings", json={"approving_user_id": previous})
        assert approval.status_code == 302, approval.text
        location = urlsplit(approval.headers["location"])
        assert f"{location.scheme}://{location.netloc}" == stack.url("gateway")

        callback = await gateway.get(location.path, params=dict(parse_qsl(location.query)))

        assert callback.status_code == 200, callback.text
        assert callback.json()["status"] == "active"
        assert callback.json()["shop_id"] == str(shop["shop_id"])
        shown = await gateway.get(f"/v1/connections/{started.json()['id']}", headers=bearer(tenant["token"]))
        assert shown.status_code == 200
        assert shown.json()["shop_name"] == "GatewayGoods"
        assert (await gateway.get(f"/internal/connections/{started.json()['id']}")).status_code == 404
        gone = await gateway.delete(f"/v1/connections/{started.json()['id']}", headers=bearer(tenant["token"]))
        assert gone.status_code == 204
