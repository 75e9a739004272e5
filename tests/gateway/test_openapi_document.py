"""The merged public OpenAPI document describes the API as it behaves: names, examples and error answers."""

from __future__ import annotations

import re
import uuid

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from services.gateway.routes import ROUTES
from shared.web.problems import PROBLEM_JSON, PROBLEM_REF
from tests.api_client import admin_token, bearer, new_tenant

METHODS = ("get", "put", "post", "patch", "delete")


@pytest.fixture
async def document(gateway) -> dict:
    response = await gateway.get("/openapi.json")
    assert response.status_code == 200, response.text
    return response.json()


def _operations(document: dict):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def _validator(document: dict, schema: dict) -> Draft202012Validator:
    """Validates against `schema` with its `#/components/...` references resolved in the document."""
    return Draft202012Validator({**schema, "components": document["components"]})


def _schema_examples(document: dict, schema: dict) -> list:
    """Examples a schema carries, following a `$ref` and the members of an optional body's `anyOf`."""
    if "$ref" in schema:
        return _schema_examples(document, document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])
    return schema.get("examples", []) + [e for member in schema.get("anyOf", []) for e in
                                         _schema_examples(document, member)]


def test_merged_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_public_route_is_documented_under_a_unique_camel_case_operation_id(document):
    documented = {(method, path): op["operationId"] for method, path, op in _operations(document)}
    assert set(documented) == {(r.method, r.template) for r in ROUTES}
    ids = list(documented.values())
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)*", i) for i in ids), ids
    assert documented[("GET", "/v1/orders")] == "listOrders"
    assert documented[("POST", "/v1/orders/{order_id}/shipments")] == "createShipment"
    assert documented[("DELETE", "/v1/clients/{client_id}")] == "deleteClient"


def test_every_request_body_has_examples_that_fit_its_schema(document):
    bodies = 0
    for method, path, op in _operations(document):
        for media_type, content in op.get("requestBody", {}).get("content", {}).items():
            schema = content["schema"]
            examples = ([content["example"]] if "example" in content else []) + [
                e["value"] for e in content.get("examples", {}).values()] + _schema_examples(document, schema)
            assert examples, f"{method} {path} ({media_type}) has no example"
            for example in examples:
                errors = [e.message for e in _validator(document, schema).iter_errors(example)]
                assert not errors, f"{method} {path}: example {example} does not fit: {errors}"
            bodies += 1
    assert bodies >= 8  # token, merchants, clients, connections (create, update), shipment, cancel, webhook


def test_every_operation_documents_its_problem_answers_as_problem_json(document):
    for method, path, op in _operations(document):
        route = next(r for r in ROUTES if r.method == method and r.template == path)
        statuses = set(op["responses"])
        expected = {"429", "500"} | (set() if route.public else {"401"}) | ({"403"} if route.scope else set())
        assert expected <= statuses, f"{op['operationId']} lacks {expected - statuses}"
        oauth_errors = {"400", "401"} if op["operationId"] == "createToken" else set()  # RFC 6749 JSON
        for status, response in op["responses"].items():
            if int(status) >= 400 and status not in oauth_errors:
                assert response["content"][PROBLEM_JSON]["schema"] == {"$ref": PROBLEM_REF}, (op["operationId"], status)
    assert document["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status", "detail"]
    assert not {"HTTPValidationError", "ValidationError"} & set(document["components"]["schemas"])


async def test_the_problems_routes_really_give_are_the_documented_ones(gateway, document):
    """Provoke real error answers through the gateway: each status is documented and fits `Problem`."""
    tenant = await new_tenant(gateway, ["orders:read", "orders:write", "fulfilment:write", "connections:read",
                                        "connections:write"])
    reader = await new_tenant(gateway, ["connections:read"])
    tenant_auth, admin = bearer(tenant["token"]), bearer(await admin_token(gateway))
    unknown = uuid.uuid4()
    shipment = {"carrier": "DPD", "tracking_number": "0000123456789X"}
    calls = [
        ("getOrder", "GET", f"/v1/orders/{unknown}", {}, tenant_auth, 404),
        ("getOrder", "GET", "/v1/orders/not-a-uuid", {}, tenant_auth, 422),
        ("getOrder", "GET", f"/v1/orders/{unknown}", {}, {}, 401),
        ("listOrders", "GET", "/v1/orders", {}, bearer(reader["token"]), 403),
        ("createShipment", "POST", f"/v1/orders/{unknown}/shipments", {"json": shipment}, tenant_auth, 404),
        ("createShipment", "POST", f"/v1/orders/{unknown}/shipments", {"json": {"carrier": " "}}, tenant_auth, 422),
        ("cancelOrder", "POST", f"/v1/orders/{unknown}/cancel", {"json": {}}, tenant_auth, 404),
        ("getShipment", "GET", f"/v1/shipments/{unknown}", {}, tenant_auth, 404),
        ("getConnection", "GET", f"/v1/connections/{unknown}", {}, tenant_auth, 404),
        ("updateConnection", "PATCH", f"/v1/connections/{unknown}", {"json": {"settings": {}}}, tenant_auth, 404),
        ("syncConnection", "POST", f"/v1/connections/{unknown}/sync", {}, tenant_auth, 404),
        ("handleOAuthCallback", "GET", "/v1/connections/oauth/callback", {"params": {"state": "bogus", "code": "x"}},
         {}, 400),
        ("createConnection", "POST", "/v1/connections", {"json": {"marketplace": "etsy", "merchant_id": "x"}},
         tenant_auth, 422),
        ("deleteClient", "DELETE", f"/v1/clients/{unknown}", {}, admin, 404),
        ("getMerchant", "GET", f"/v1/merchants/{unknown}", {}, tenant_auth, 404),
        ("receiveBigCommerceWebhook", "POST", f"/v1/webhooks/bigcommerce/{unknown}", {"json": {}}, {}, 404),
    ]
    by_id = {op["operationId"]: op for _m, _p, op in _operations(document)}
    problem = _validator(document, {"$ref": PROBLEM_REF})
    for operation_id, method, url, kwargs, headers, status in calls:
        response = await gateway.request(method, url, headers=headers, **kwargs)
        assert response.status_code == status, (operation_id, response.text)
        assert response.headers["content-type"] == PROBLEM_JSON, operation_id
        assert str(status) in by_id[operation_id]["responses"], f"{operation_id} answers {status} undocumented"
        assert not list(problem.iter_errors(response.json())), (operation_id, response.text)
