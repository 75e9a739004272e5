"""BigCommerce Orders V2 payloads shaped exactly like the spec's `order_Resp`, `orderProducts` and
`orderShippingAddress` (field names, string money, RFC 2822 dates, "" for blanks).

Literal dicts rather than the sandbox's renderer so mapper tests can use what the sandbox never emits
(other currencies, odd statuses, broken fields). `spec_violations` proves the baseline matches the spec.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import yaml
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.specs import SPEC_DIR as VENDORED_SPEC_DIR

SPEC_DIR = VENDORED_SPEC_DIR
ORDERS_SPEC = SPEC_DIR / "bigcommerce-orders.v2.oas2.yml"

CREATED = "Thu, 01 Jan 2026 10:00:00 +0000"
MODIFIED = "Thu, 01 Jan 2026 11:30:00 +0000"


def address_fields(**overrides: Any) -> dict[str, Any]:
    body = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company": "",
        "street_1": "12 Analytical Row",
        "street_2": "Flat 3",
        "city": "Austin",
        "state": "Texas",
        "zip": "78751",
        "country": "United States",
        "country_iso2": "US",
        "phone": "5551234567",
        "email": "ada@example.com",
    }
    body.update(overrides)
    return body


def order(order_id: int = 218, **overrides: Any) -> dict[str, Any]:
    """An Awaiting Fulfillment (11) USD order: 2 x 12.50 + 5.00 shipping = 30.00."""
    body: dict[str, Any] = {
        "id": order_id,
        "customer_id": 11,
        "date_created": CREATED,
        "date_modified": MODIFIED,
        "date_shipped": "",
        "status_id": 11,
        "status": "Awaiting Fulfillment",
        "subtotal_ex_tax": "25.0000",
        "subtotal_inc_tax": "25.0000",
        "subtotal_tax": "0.0000",
        "base_shipping_cost": "5.0000",
        "shipping_cost_ex_tax": "5.0000",
        "shipping_cost_inc_tax": "5.0000",
        "shipping_cost_tax": "0.0000",
        "shipping_cost_tax_class_id": 0,
        "base_handling_cost": "0.0000",
        "handling_cost_ex_tax": "0.0000",
        "handling_cost_inc_tax": "0.0000",
        "handling_cost_tax": "0.0000",
        "handling_cost_tax_class_id": 0,
        "base_wrapping_cost": "0.0000",
        "wrapping_cost_ex_tax": "0.0000",
        "wrapping_cost_inc_tax": "0.0000",
        "wrapping_cost_tax": "0.0000",
        "wrapping_cost_tax_class_id": 0,
        "total_ex_tax": "30.0000",
        "total_inc_tax": "30.0000",
        "total_tax": "0.0000",
        "is_tax_inclusive_pricing": False,
        "items_total": 2,
        "items_shipped": 0,
        "payment_method": "Credit Card",
        "payment_provider_id": "",
        "payment_status": "captured",
        "refunded_amount": "0.0000",
        "order_is_digital": False,
        "store_credit_amount": "0.0000",
        "gift_certificate_amount": "0.0000",
        "ip_address": "",
        "ip_address_v6": "",
        "geoip_country": "United States",
        "geoip_country_iso2": "US",
        "currency_id": 1,
        "currency_code": "USD",
        "currency_exchange_rate": "1.0000000000",
        "default_currency_id": 1,
        "default_currency_code": "USD",
        "store_default_currency_code": "USD",
        "store_default_to_transactional_exchange_rate": "1.0000000000",
        "staff_notes": "",
        "customer_message": "Please gift wrap",
        "discount_amount": "0.0000",
        "coupon_discount": "0.0000",
        "shipping_address_count": 1,
        "is_deleted": False,
        "ebay_order_id": "0",
        "cart_id": "7e48f7ef-2e88-4817-aea4-b0ed01490114",
        "billing_address": {**address_fields(first_name="Charles", last_name="Babbage", street_1="1 Engine Lane",
                                             street_2="", city="London", state="", zip="SW1A 1AA",
                                             country="United Kingdom", country_iso2="GB",
                                             email="charles@example.com"), "form_fields": []},
        "is_email_opt_in": False,
        "order_source": "www",
        "channel_id": 1,
        "external_source": None,
        "products": {"url": f"https://api.bigcommerce.com/stores/abc123/v2/orders/{order_id}/products",
                     "resource": f"/orders/{order_id}/products"},
        "shipping_addresses": {"url": f"https://api.bigcommerce.com/stores/abc123/v2/orders/{order_id}/shippingaddresses",
                               "resource": f"/orders/{order_id}/shippingaddresses"},
        "coupons": {"url": f"https://api.bigcommerce.com/stores/abc123/v2/orders/{order_id}/coupons",
                    "resource": f"/orders/{order_id}/coupons"},
        "external_id": None,
        "external_merchant_id": None,
        "tax_provider_id": "BasicTaxProvider",
        "customer_locale": "en",
        "external_order_id": "",
    }
    body.update(overrides)
    return copy.deepcopy(body)


def product(product_line_id: int = 5001, order_id: int = 218, **overrides: Any) -> dict[str, Any]:
    """A physical T-shirt line, 2 x 12.50, size M in blue."""
    body: dict[str, Any] = {
        "id": product_line_id,
        "order_id": order_id,
        "product_id": 77,
        "variant_id": 301,
        "order_address_id": 9001,
        "name": "Logo T-shirt",
        "name_customer": "Logo T-shirt",
        "name_merchant": "Logo T-shirt",
        "sku": "TS-BLUE-M",
        "upc": "",
        "type": "physical",
        "base_price": "12.5000",
        "price_ex_tax": "12.5000",
        "price_inc_tax": "12.5000",
        "price_tax": "0.0000",
        "base_total": "25.0000",
        "total_ex_tax": "25.0000",
        "total_inc_tax": "25.0000",
        "total_tax": "0.0000",
        "weight": "0.5000",
        "quantity": 2,
        "quantity_shipped": 0,
        "is_refunded": False,
        "quantity_refunded": 0,
        "applied_discounts": [],
        "product_options": [
            {"id": 1, "option_id": 10, "order_product_id": product_line_id, "product_option_id": 100,
             "display_name": "Size", "display_name_customer": "Size", "display_name_merchant": "Size",
             "display_value": "M", "display_value_customer": "M", "display_value_merchant": "M",
             "value": "57", "type": "Multiple choice", "name": "size", "display_style": "Rectangle"},
            {"id": 2, "option_id": 11, "order_product_id": product_line_id, "product_option_id": 101,
             "display_name": "Colour", "display_name_customer": "Colour", "display_name_merchant": "Colour",
             "display_value": "Blue", "display_value_customer": "Blue", "display_value_merchant": "Blue",
             "value": "61", "type": "Swatch", "name": "colour", "display_style": "Swatch"},
        ],
        "configurable_fields": [],
        "discounted_total_inc_tax": "25.0000",
    }
    body.update(overrides)
    return copy.deepcopy(body)


def shipping_address(address_id: int = 9001, order_id: int = 218, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": address_id,
        "order_id": order_id,
        **address_fields(),
        "items_total": 2,
        "items_shipped": 0,
        "shipping_method": "Flat Rate",
        "base_cost": "5.0000",
        "cost_ex_tax": "5.0000",
        "cost_inc_tax": "5.0000",
        "cost_tax": "0.0000",
        "cost_tax_class_id": 2,
        "base_handling_cost": "0.0000",
        "handling_cost_ex_tax": "0.0000",
        "handling_cost_inc_tax": "0.0000",
        "handling_cost_tax": "0.0000",
        "handling_cost_tax_class_id": 2,
        "shipping_zone_id": 1,
        "shipping_zone_name": "United States",
        "form_fields": [],
    }
    body.update(overrides)
    return copy.deepcopy(body)


def shipping_consignment(address_id: int = 9001, line_items: list[dict[str, Any]] | None = None,
                         **overrides: Any) -> dict[str, Any]:
    """`shippingConsignment_Get` as `include=consignments.line_items` embeds it: the address fields, costs
    as numbers (not the strings of `orderShippingAddress`), and the products shipping there."""
    body: dict[str, Any] = {
        "id": address_id,
        **address_fields(),
        "form_fields": [],
        "shipping_method": "Flat Rate",
        "line_items": [product()] if line_items is None else line_items,
        "items_total": 2,
        "items_shipped": 0,
        "base_cost": 5.0,
        "cost_ex_tax": 5.0,
        "cost_inc_tax": 5.0,
        "cost_tax": 0.0,
        "cost_tax_class_id": 2,
        "base_handling_cost": 0.0,
        "handling_cost_ex_tax": 0.0,
        "handling_cost_inc_tax": 0.0,
        "handling_cost_tax": 0.0,
        "handling_cost_tax_class_id": 2,
        "shipping_zone_id": 1,
        "shipping_zone_name": "United States",
        "shipping_quotes": {
            "url": f"https://api.bigcommerce.com/stores/abc123/v2/orders/218/consignments/shipping/{address_id}/shipping_quotes",
            "resource": f"/orders/218/consignments/shipping/{address_id}/shipping_quotes",
        },
    }
    body.update(overrides)
    return copy.deepcopy(body)


def consignments(shipping: list[dict[str, Any]] | None = None, downloads: list[dict[str, Any]] | None = None,
                 gift_certificates: list[dict[str, Any]] | None = None,
                 pickups: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """`orderConsignment_Get` (`consignment_structure=object`)."""
    return copy.deepcopy({
        "pickups": pickups or [],
        "shipping": [shipping_consignment()] if shipping is None else shipping,
        "downloads": downloads or [],
        "email": {"gift_certificates": gift_certificates or []},
    })


@cache
def _orders_spec() -> dict[str, Any]:
    """The spec, with the `{url, resource}` link schemas requiring their two fields (as every example has):
    otherwise an embedded object also matches the link and every `oneOf` of the two fails."""
    spec = yaml.safe_load(ORDERS_SPEC.read_text())
    for link in ("orderConsignments_Resource", "products_Resource"):
        spec["components"]["schemas"][link]["required"] = ["url", "resource"]
    return spec


def spec_violations(payload: dict[str, Any], schema: str) -> list[str]:
    """Validation errors of `payload` against a schema of the Orders V2 spec (e.g. `order_Resp`)."""
    registry = Registry().with_resource("urn:bc", Resource.from_contents(_orders_spec(), default_specification=DRAFT4))
    validator = OAS30Validator({"$ref": f"urn:bc#/components/schemas/{schema}"}, registry=registry)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(payload)]
