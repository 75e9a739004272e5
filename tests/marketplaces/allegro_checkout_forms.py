"""Checkout forms and order events shaped exactly like Allegro's spec (`CheckoutForm`, `OrderEvent`).

Literal dicts rather than the emulator's builder, so mapper tests can hold what the emulator never
emits (odd currencies, unknown enums, missing fields). `spec_violations` proves a payload matches the
spec; the spec is the vendored `specs/marketplaces/allegro-openapi.yaml`.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import yaml
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.specs import ALLEGRO_SPEC

SPEC_PATH = ALLEGRO_SPEC

FORM_ID = "29738e61-7f6a-11e8-ac45-09db60ede9d6"
LINE_ID = "62ae358b-8f65-4fc4-9c77-bedf604a2e2b"
SECOND_LINE_ID = "a9b5e0f2-4f4b-4c1e-9e53-2f5a3c1d7e11"
BOUGHT_AT = "2026-03-01T09:15:30.123Z"
PAID_AT = "2026-03-01T09:17:02.000Z"
UPDATED_AT = "2026-03-01T09:17:05.456Z"


def price(amount: str, currency: str = "PLN") -> dict[str, str]:
    return {"amount": amount, "currency": currency}


def line_item(line_id: str = LINE_ID, **overrides: Any) -> dict[str, Any]:
    currency = overrides.pop("currency", "PLN")
    item: dict[str, Any] = {
        "id": line_id,
        "offer": {
            "id": "14331232566",
            "name": "Koszulka bawełniana czerwona M",
            "external": {"id": "TS-RED-M"},
            "productSet": {"products": [{"id": "c9e39cae-9cb6-11e9-a2a3-2a2ae2dbcce4", "quantity": 1}]},
        },
        "quantity": 2,
        "originalPrice": price("59.99", currency),
        "price": price("49.99", currency),
        "reconciliation": {"value": price("5.00", currency), "type": "BILLING", "quantity": 2},
        "selectedAdditionalServices": [],
        "vouchers": [],
        "tax": {"rate": "23.00", "subject": "PRODUCT"},
        "boughtAt": BOUGHT_AT,
        "discounts": [],
    }
    item.update(overrides)
    return item


def checkout_form(**overrides: Any) -> dict[str, Any]:
    """A paid (READY_FOR_PROCESSING / NEW) courier order to a home address, no invoice requested."""
    form: dict[str, Any] = {
        "id": FORM_ID,
        "messageToSeller": "Proszę o szybką wysyłkę",
        "buyer": {
            "id": "23123123",
            "email": "8awgqyk6a5+cub31c122@allegromail.pl",
            "login": "anna_k",
            "firstName": "Anna",
            "lastName": "Kowalska",
            "companyName": None,
            "guest": False,
            "personalIdentity": None,
            "phoneNumber": "+48 600 100 200",
            "preferences": {"language": "pl-PL"},
            "address": {"street": "Solna 12", "city": "Poznań", "postCode": "60-166", "countryCode": "PL"},
        },
        "payment": {
            "id": "0f8f1d13-7e9e-11e8-9b00-c5b0dfb78ea6",
            "type": "ONLINE",
            "provider": "P24",
            "finishedAt": PAID_AT,
            "paidAmount": price("112.97"),
            "reconciliation": price("112.97"),
            "features": [],
        },
        "status": "READY_FOR_PROCESSING",
        "fulfillment": {"status": "NEW", "shipmentSummary": {"lineItemsSent": "NONE"}, "provider": {"id": "SELLER"}},
        "delivery": {
            "address": {
                "firstName": "Anna",
                "lastName": "Kowalska",
                "street": "Grunwaldzka 182",
                "city": "Poznań",
                "zipCode": "60-166",
                "countryCode": "PL",
                "companyName": None,
                "phoneNumber": "600100200",
                "modifiedAt": None,
            },
            "method": {"id": "7203cb90-864c-4cda-bf08-dc883f0c78ad", "name": "Kurier DPD"},
            "pickupPoint": None,
            "cost": price("12.99"),
            "time": {
                "from": "2026-03-03T00:00:00Z",
                "to": "2026-03-04T00:00:00Z",
                "dispatch": {"from": "2026-03-02T00:00:00Z", "to": "2026-03-02T00:00:00Z"},
            },
            "smart": False,
            "calculatedNumberOfPackages": 1,
        },
        "invoice": {"required": False, "address": None, "dueDate": None, "features": []},
        "lineItems": [line_item()],
        "surcharges": [],
        "note": {"text": "VIP"},
        "marketplace": {"id": "allegro-pl"},
        "summary": {"totalToPay": price("112.97")},
        "updatedAt": UPDATED_AT,
        "revision": "819b5836",
    }
    form.update(overrides)
    return without_nulls(form)


def pickup_point(**overrides: Any) -> dict[str, Any]:
    point: dict[str, Any] = {
        "id": "POZ08A",
        "name": "Paczkomat POZ08A",
        "description": "Stacja paliw BP",
        "address": {"street": "Grunwaldzka 108", "zipCode": "60-166", "city": "Poznań", "countryCode": "PL"},
    }
    point.update(overrides)
    return point


def company_invoice(**overrides: Any) -> dict[str, Any]:
    address: dict[str, Any] = {
        "street": "ul. Marszałkowska 1/2",
        "city": "Warszawa",
        "zipCode": "00-001",
        "countryCode": "PL",
        "company": {
            "name": "Ceramika Sp. z o.o.",
            "ids": [{"type": "PL_NIP", "value": "5260250274"}],
            "vatPayerStatus": "ACTIVE",
        },
    }
    address.update(overrides)
    return {"required": True, "address": address, "dueDate": "2026-03-15", "features": []}


def person_invoice() -> dict[str, Any]:
    return company_invoice(company=None, naturalPerson={"firstName": "Józef", "lastName": "Wiśniewski"})


def order_event(
    event_id: str, event_type: str = "READY_FOR_PROCESSING", form_id: str = FORM_ID, revision: str = "819b5836"
) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": event_type,
        "occurredAt": UPDATED_AT,
        "order": {
            "seller": {"id": "44556677"},
            "buyer": {"id": "23123123", "email": "8awgqyk6a5+cub31c122@allegromail.pl", "login": "anna_k", "guest": False},
            "lineItems": [
                {
                    "id": LINE_ID,
                    "offer": {"id": "14331232566", "name": "Koszulka bawełniana czerwona M", "external": {"id": "TS-RED-M"}},
                    "quantity": 2,
                    "originalPrice": price("59.99"),
                    "price": price("49.99"),
                    "boughtAt": BOUGHT_AT,
                }
            ],
            "checkoutForm": {"id": form_id, "revision": revision},
            "marketplace": {"id": "allegro-pl"},
        },
    }


def without_nulls(value: Any) -> Any:
    """Allegro omits unset optional fields; so do our payloads."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return copy.deepcopy(value)


@functools.cache
def _spec() -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with SPEC_PATH.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=loader)


def spec_violations(payload: Any, schema: str = "CheckoutForm") -> list[str]:
    """Where `payload` breaks the spec's `schema` (empty: it conforms)."""
    registry = Registry().with_resource("urn:allegro", Resource.from_contents(_spec(), default_specification=DRAFT4))
    validator = OAS30Validator({"$ref": f"urn:allegro#/components/schemas/{schema}"}, registry=registry)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(payload)]
