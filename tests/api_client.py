"""Talking to the running stack through the gateway, as an API user would."""

from __future__ import annotations

import uuid

import httpx

from tests.conftest import ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET


async def token_for(http: httpx.AsyncClient, client_id: str, client_secret: str, **form) -> str:
    response = await http.post("/v1/oauth/token", data={"grant_type": "client_credentials", **form},
                               auth=(client_id, client_secret))
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def admin_token(http: httpx.AsyncClient) -> str:
    return await token_for(http, ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET)


async def new_tenant(http: httpx.AsyncClient, scopes: list[str]) -> dict:
    """A fresh merchant with one API client holding `scopes`: {merchant_id, client_id, client_secret, token}."""
    admin = bearer(await admin_token(http))
    merchant = (await http.post("/v1/merchants", json={"name": f"m-{uuid.uuid4().hex[:6]}"}, headers=admin)).json()
    response = await http.post("/v1/clients", headers=admin,
                               json={"name": "test client", "merchant_id": merchant["id"], "scopes": scopes})
    assert response.status_code == 201, response.text
    client = response.json()
    token = await token_for(http, client["client_id"], client["client_secret"])
    return {"merchant_id": merchant["id"], "client_id": client["client_id"],
            "client_secret": client["client_secret"], "token": token}
