"""NUL characters in request text are a 422 naming the field, wherever the text comes in (Postgres refuses them)."""

from __future__ import annotations

import uuid

import pytest

from tests.api_client import admin_token, bearer


@pytest.fixture
async def admin(gateway):
    return bearer(await admin_token(gateway))


def _refused_field(response) -> str:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    [error] = response.json()["errors"]
    assert "NUL" in error["message"]
    return error["field"]


async def test_nul_in_a_shipment_carrier_is_422_naming_carrier(gateway, admin):
    response = await gateway.post(f"/v1/orders/{uuid.uuid4()}/shipments", headers=admin,
                                  json={"carrier": "dhl\u0000", "tracking_number": "JJD000390007"})
    assert _refused_field(response) == "carrier"


async def test_nul_deep_in_a_json_body_names_the_whole_path(gateway, admin):
    response = await gateway.patch(f"/v1/connections/{uuid.uuid4()}", headers=admin,
                                   json={"settings": {"location": {"city": "Ber\u0000lin", "postal_code": "10115"}}})
    assert _refused_field(response) == "settings.location.city"


async def test_nul_in_a_form_field_of_the_token_request_is_422_naming_it(gateway):
    response = await gateway.post("/v1/oauth/token", data={"grant_type": "client_credentials",
                                                           "client_id": "cb_\u0000", "client_secret": "x"})
    assert _refused_field(response) == "client_id"


async def test_nul_in_a_query_parameter_is_422_naming_it(gateway, admin):
    response = await gateway.get("/v1/connections/oauth/callback", params={"state": "s\u0000", "code": "c"})
    assert _refused_field(response) == "state"
    listed = await gateway.get("/v1/orders", params={"cursor": "\u0000"}, headers=admin)
    assert _refused_field(listed) == "cursor"


async def test_a_number_is_not_a_date_time(gateway, admin):
    response = await gateway.get("/v1/orders", params={"updated_since": "0.5"}, headers=admin)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "updated_since"
