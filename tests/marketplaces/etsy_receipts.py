"""Receipts shaped exactly like the spec's `ShopReceipt` (every property, nulls only where nullable).

Literal dicts rather than the sandbox's builder so mapper tests can use what the sandbox never emits
(divisor 1000, other currencies, odd statuses). `spec_violations` proves the baseline matches the spec.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.sandbox.etsy_contract import SPEC_PATH

CREATED = 1_767_225_600  # 2026-01-01T00:00:00Z
PAID = CREATED + 120
UPDATED = CREATED + 3_600


def money(amount: int, divisor: int = 100, currency: str = "USD") -> dict[str, Any]:
    return {"amount": amount, "divisor": divisor, "currency_code": currency}


def transaction(transaction_id: int = 3_500_000_001, **overrides: Any) -> dict[str, Any]:
    currency = overrides.pop("currency", "USD")
    divisor = overrides.pop("divisor", 100)
    body: dict[str, Any] = {
        "transaction_id": transaction_id,
        "title": "Hand-thrown mug",
        "description": "Stoneware, 350 ml",
        "seller_user_id": 70_000_001,
        "buyer_user_id": 70_000_002,
        "create_timestamp": CREATED,
        "created_timestamp": CREATED,
        "paid_timestamp": PAID,
        "shipped_timestamp": None,
        "quantity": 2,
        "listing_image_id": None,
        "receipt_id": 2_900_000_001,
        "is_digital": False,
        "file_data": "",
        "listing_id": 1_500_000_001,
        "transaction_type": "listing",
        "product_id": 9_001,
        "sku": "MUG-BLUE-350",
        "price": money(1_250 * divisor // 100, divisor, currency),
        "shipping_cost": money(0, divisor, currency),
        "variations": [
            {"property_id": 513, "value_id": 1_001, "formatted_name": "Colour", "formatted_value": "Blue"},
            {"property_id": 54, "value_id": None, "formatted_name": "Personalisation", "formatted_value": "For Zoë"},
        ],
        "product_data": [],
        "shipping_profile_id": None,
        "min_processing_days": None,
        "max_processing_days": None,
        "shipping_method": None,
        "shipping_upgrade": None,
        "expected_ship_date": CREATED + 3 * 86_400,
        "buyer_coupon": 0.0,
        "shop_coupon": 0.0,
    }
    body.update(overrides)
    return body


def receipt(receipt_id: int | None = 2_900_000_001, **overrides: Any) -> dict[str, Any]:
    """A paid, unshipped US receipt: 2 x 12.50 + 4.99 shipping = 29.99 USD."""
    currency = overrides.pop("currency", "USD")
    divisor = overrides.pop("divisor", 100)

    def m(cents: int) -> dict[str, Any]:
        return money(cents * divisor // 100, divisor, currency)

    body: dict[str, Any] = {
        "receipt_id": receipt_id,
        "receipt_type": 0,
        "seller_user_id": 70_000_001,
        "seller_email": "seller@example.com",
        "buyer_user_id": 70_000_002,
        "buyer_email": "buyer@example.com",
        "name": "Ada Lovelace",
        "first_line": "12 Analytical Row",
        "second_line": "Flat 3",
        "city": "Springfield",
        "state": "IL",
        "zip": "62701",
        "status": "paid",
        "formatted_address": "Ada Lovelace\n12 Analytical Row\nFlat 3\nSpringfield IL 62701\nUS",
        "country_iso": "US",
        "payment_method": "cc",
        "payment_email": None,
        "message_from_seller": None,
        "message_from_buyer": "Please gift wrap",
        "message_from_payment": None,
        "is_paid": True,
        "is_shipped": False,
        "create_timestamp": CREATED,
        "created_timestamp": CREATED,
        "update_timestamp": UPDATED,
        "updated_timestamp": UPDATED,
        "is_gift": False,
        "gift_message": "",
        "gift_sender": "",
        "grandtotal": m(2_999),
        "subtotal": m(2_500),
        "total_price": m(2_500),
        "total_shipping_cost": m(499),
        "total_tax_cost": m(0),
        "total_vat_cost": m(0),
        "discount_amt": m(0),
        "gift_wrap_price": m(0),
        "shipments": [],
        "transactions": [transaction(currency=currency, divisor=divisor)],
        "refunds": [],
    }
    if receipt_id is None:
        del body["receipt_id"]
    body.update(overrides)
    return copy.deepcopy(body)


def spec_violations(payload: dict[str, Any], schema: str = "ShopReceipt") -> list[str]:
    raw = json.loads(SPEC_PATH.read_text())
    registry = Registry().with_resource("urn:etsy", Resource.from_contents(raw, default_specification=DRAFT4))
    validator = OAS30Validator({"$ref": f"urn:etsy#/components/schemas/{schema}"}, registry=registry)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(payload)]
