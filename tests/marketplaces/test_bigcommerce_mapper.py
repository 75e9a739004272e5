"""The BigCommerce mapper on spec-shaped payloads: statuses, money strings, dates, addresses, options,
and bad payloads rejected with the field named while the rest of the page parses."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from shared.marketplaces.bigcommerce import mapper
from tests.marketplaces.bigcommerce_orders import (
    consignments,
    order,
    product,
    shipping_address,
    shipping_consignment,
    spec_violations,
)


def test_builders_match_the_official_schemas() -> None:
    assert spec_violations(order(), "order_Resp") == []
    assert spec_violations(product(), "orderProducts") == []
    assert spec_violations(shipping_address(), "orderShippingAddress") == []
    assert spec_violations(order(consignments=consignments()), "order_Resp") == []


def test_an_order_with_embedded_consignments_maps_like_the_three_part_read() -> None:
    """`include=consignments.line_items` puts products and shipping addresses in the order: the same
    order results as from `GET …/products` + `GET …/shipping_addresses`, field for field."""
    lines = [product(5001), product(5002, sku="MUG", order_address_id=9002), product(5003, sku="E-BOOK", type="digital")]
    embedded = order(items_total=sum(p["quantity"] for p in lines), consignments=consignments(
        shipping=[shipping_consignment(9001, [lines[0]]),
                  shipping_consignment(9002, [lines[1]], first_name="Grace", last_name="Hopper")],
        downloads=[{"recipient_email": "charles@example.com", "line_items": [lines[2]]}]))
    three_part = mapper.to_order(order(items_total=sum(p["quantity"] for p in lines)), lines, [shipping_address(9001),
                                                 shipping_address(9002, first_name="Grace", last_name="Hopper")])

    products, addresses = mapper.consignment_parts(embedded)
    assert [p["id"] for p in products] == [5001, 5002, 5003]
    assert [a["id"] for a in addresses] == [9001, 9002]
    assert mapper.to_order(embedded, products, addresses) == three_part


def test_consignments_without_embedded_products_ask_for_the_sub_resources() -> None:
    link = {"url": "https://api.bigcommerce.com/stores/abc123/v2/orders/218/products/5001",
            "resource": "/orders/218/products/5001"}
    assert mapper.consignment_parts(order()) is None
    assert mapper.consignment_parts(order(consignments=consignments(shipping=[shipping_consignment(line_items=[link])]))) is None
    assert mapper.consignment_parts(order(consignments=consignments(shipping=[]))) is None
    # Fewer items embedded than the order holds (a consignment kind we do not read): the sub-resources decide.
    assert mapper.consignment_parts(order(items_total=5, consignments=consignments())) is None
    # Without consignment_structure=object BigCommerce answers an array of consignment objects.
    (products, addresses) = mapper.consignment_parts(order(consignments=[consignments()]))
    assert [p["id"] for p in products] == [5001] and [a["id"] for a in addresses] == [9001]


def test_awaiting_fulfillment_order_maps_money_dates_buyer_addresses_and_options() -> None:
    result = mapper.to_order(order(), [product()], [shipping_address()])

    assert result.external_id == "218"
    assert result.state == "paid"
    assert result.marketplace_status == "Awaiting Fulfillment"
    assert result.total == Decimal("30.0000") and result.currency == "USD"
    assert result.placed_at == datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    assert result.updated_at == datetime(2026, 1, 1, 11, 30, tzinfo=UTC)
    assert result.paid_at is None
    assert result.buyer.name == "Charles Babbage" and result.buyer.email == "charles@example.com"
    assert result.buyer.external_id == "11"
    assert result.billing_copied_from_shipping is False
    assert result.billing_address.line1 == "1 Engine Lane" and result.billing_address.country_code == "GB"
    assert result.billing_address.line2 is None  # "" means absent
    assert result.shipping_address.name == "Ada Lovelace"
    assert result.shipping_address.line2 == "Flat 3" and result.shipping_address.postal_code == "78751"
    (line,) = result.lines
    assert line.external_id == "5001" and line.sku == "TS-BLUE-M" and line.quantity == 2
    assert line.unit_price == Decimal("12.5000")
    assert line.variations == {"Size": "M", "Colour": "Blue"}


@pytest.mark.parametrize(
    ("status_id", "state"),
    [(11, "paid"), (9, "paid"), (3, "paid"), (2, "shipped"), (10, "shipped"), (5, "cancelled"), (4, "cancelled"),
     (6, "cancelled"), (7, "unpaid"), (12, "unpaid")],
)
def test_status_ids_map_to_states(status_id: int, state: str) -> None:
    assert mapper.to_order(order(status_id=status_id), [product()], [shipping_address()]).state == state


def test_partially_refunded_is_shipped_only_when_every_item_went_out() -> None:
    assert mapper.order_state(14, items_total=2, items_shipped=2) == "shipped"
    assert mapper.order_state(14, items_total=2, items_shipped=1) == "paid"


def test_partially_shipped_order_carries_only_what_is_left_to_ship() -> None:
    lines = [product(5001, quantity=3, quantity_shipped=1), product(5002, quantity=1, quantity_shipped=1)]
    result = mapper.to_order(order(status_id=3, items_total=4, items_shipped=2), lines, [shipping_address()])

    assert [(line.external_id, line.quantity) for line in result.lines] == [("5001", 2)]


def test_shipped_order_keeps_the_quantities_bought() -> None:
    result = mapper.to_order(order(status_id=2), [product(quantity=2, quantity_shipped=2)], [shipping_address()])
    assert result.lines[0].quantity == 2


@pytest.mark.parametrize("billing", [None, {}, {"first_name": "", "last_name": "", "street_1": "", "city": "",
                                             "zip": "", "country": "", "country_iso2": "", "email": "x@example.com"}])
def test_empty_billing_address_is_copied_from_shipping(billing: dict | None) -> None:
    result = mapper.to_order(order(billing_address=billing), [product()], [shipping_address()])

    assert result.billing_copied_from_shipping is True
    assert result.billing_address == result.shipping_address
    assert result.buyer.email in ("x@example.com", "ada@example.com")


def test_unicode_names_and_options_survive() -> None:
    billing = {"first_name": "Zoë", "last_name": "Łukasiewicz", "street_1": "ul. Żółta 5", "city": "Kraków",
               "zip": "30-001", "country": "Poland", "country_iso2": "pl", "email": "zoe@example.com"}
    options = [{"display_name": "Gravur", "display_value": "Für Jürgen ♥", "value": "x"},
               {"display_name": "Gravur", "display_value": "二行目", "value": "y"}]
    result = mapper.to_order(order(billing_address=billing, default_currency_code="PLN", currency_code="PLN"),
                             [product(name_customer="Kubek — żółty", product_options=options)], [shipping_address()])

    assert result.buyer.name == "Zoë Łukasiewicz"
    assert result.billing_address.country_code == "PL" and result.billing_address.city == "Kraków"
    assert result.currency == "PLN"
    assert result.lines[0].title == "Kubek — żółty"
    assert result.lines[0].variations == {"Gravur": "Für Jürgen ♥; 二行目"}


def test_missing_optional_fields_read_as_absent() -> None:
    bare = product(sku="", product_options=[], name_customer="")
    del bare["variant_id"]  # custom products have none
    guest = order(customer_id=0)
    del guest["status"]
    result = mapper.to_order(guest, [bare], [])  # digital-style: no shipping address

    assert result.buyer.external_id is None
    assert result.marketplace_status == "11"
    assert result.lines[0].sku is None and result.lines[0].variations == {}
    assert result.lines[0].title == "Logo T-shirt"
    assert result.shipping_address.line1 is None
    assert result.billing_copied_from_shipping is False


def test_money_strings_and_numbers_are_exact_decimals() -> None:
    assert mapper.money("12.3450", "x") == Decimal("12.3450")
    assert mapper.money(7, "x") == Decimal(7)
    for bad in ("", "abc", "NaN", None, True):
        with pytest.raises(ValueError, match="x"):
            mapper.money(bad, "x")


def test_rfc2822_dates_become_utc() -> None:
    assert mapper.rfc2822("Thu, 20 Apr 2017 11:32:00 -0400", "d") == datetime(2017, 4, 20, 15, 32, tzinfo=UTC)
    assert mapper.rfc2822("", "d") is None
    with pytest.raises(ValueError, match="date_created"):
        mapper.rfc2822("yesterday", "date_created")


@pytest.mark.parametrize(
    ("broken", "field"),
    [
        (order(total_inc_tax="twelve"), "total_inc_tax"),
        (order(status_id=99), "status_id"),
        (order(status_id="11"), "status_id"),
        (order(date_modified="not a date"), "date_modified"),
        (order(default_currency_code="Dollars"), "default_currency_code"),
        (order(billing_address={"street_1": "x", "country_iso2": "USA"}), "billing_address.country_iso2"),
    ],
)
def test_bad_order_is_rejected_naming_the_field_while_the_rest_of_the_page_parses(broken: dict, field: str) -> None:
    good = order(219)
    page = mapper.parse_orders([(good, [product()], [shipping_address()]), (broken, [product()], [shipping_address()])])

    assert [o.external_id for o in page.orders] == ["219"]
    (rejected,) = page.rejected
    assert rejected.external_id == "218" and field in rejected.reason


def test_bad_product_line_is_named_by_position() -> None:
    page = mapper.parse_orders([(order(), [product(), product(5002, price_inc_tax=None)], [shipping_address()])])
    assert page.rejected[0].reason == "products[1].price_inc_tax is missing"

    page = mapper.parse_orders([(order(), [product(quantity=0)], [shipping_address()])])
    assert "products[0].quantity" in page.rejected[0].reason


def test_order_without_id_is_rejected_by_position() -> None:
    nameless = order()
    del nameless["id"]
    page = mapper.parse_orders([(nameless, [product()], [shipping_address()]), ("junk", [], [])])
    assert [r.external_id for r in page.rejected] == ["orders[0]", "orders[1]"]
    assert page.rejected[0].reason == "id is missing"


# --- shipments ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("carrier", "fields"),
    [
        ("USPS", {"shipping_provider": "usps"}),
        ("Royal Mail", {"shipping_provider": "royalmail"}),
        ("FedEx Ground", {"shipping_provider": "fedex"}),
        ("InPost", {"tracking_carrier": "inpost-paczkomaty"}),
        ("DHL Express", {"tracking_carrier": "dhl"}),
        ("Llama Post", {"shipping_provider": "", "tracking_carrier": "", "shipping_method": "Llama Post"}),
    ],
)
def test_carrier_names_map_to_provider_tracking_carrier_or_free_text(carrier: str, fields: dict) -> None:
    assert mapper.carrier_fields(carrier) == fields


def test_whole_order_shipment_takes_every_physical_remainder() -> None:
    products = [product(5001, quantity=3, quantity_shipped=1), product(5002, quantity=1, quantity_shipped=1),
                product(5003, type="digital", quantity=1)]
    assert mapper.shipment_items(products, ()) == [{"order_product_id": 5001, "quantity": 2}]


def test_partial_shipment_refuses_more_than_is_left() -> None:
    products = [product(5001, quantity=3, quantity_shipped=1)]
    assert mapper.shipment_items(products, (("5001", 2),)) == [{"order_product_id": 5001, "quantity": 2}]
    with pytest.raises(ValueError, match="5001 has 2 left"):
        mapper.shipment_items(products, (("5001", 3),))
    with pytest.raises(ValueError, match="not a product"):
        mapper.shipment_items(products, (("42", 1),))


def test_shipment_goes_to_the_address_of_its_products() -> None:
    products = [product(5001, order_address_id=9001), product(5002, order_address_id=9002)]
    addresses = [shipping_address(9001), shipping_address(9002)]
    items = [{"order_product_id": 5002, "quantity": 1}]
    assert mapper.shipment_address_id(products, items, addresses) == 9002
    with pytest.raises(ValueError, match="several shipping addresses"):
        mapper.shipment_address_id(products, [{"order_product_id": 5001, "quantity": 1}, *items], addresses)


def test_shipment_body_enforces_the_tracking_number_limit() -> None:
    body = mapper.shipment_body(9001, [{"order_product_id": 5001, "quantity": 2}], " 1Z999 ", "UPS", "fragile")
    assert body == {"order_address_id": 9001, "items": [{"order_product_id": 5001, "quantity": 2}],
                    "tracking_number": "1Z999", "shipping_provider": "ups", "comments": "fragile"}
    with pytest.raises(ValueError, match="tracking_number"):
        mapper.shipment_body(9001, [], "X" * 51, "UPS")
