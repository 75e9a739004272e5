"""Etsy payload translation with spec-shaped receipts: pure functions, no HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from sandbox.etsy.state import DEFAULT_CARRIERS
from shared.marketplaces.etsy.mapper import (
    carrier_for_etsy,
    parse_receipts,
    receipt_to_order,
    recorded_shipment,
    tracking_form,
)
from tests.marketplaces.etsy_receipts import CREATED, PAID, UPDATED, money, receipt, spec_violations, transaction
from tests.sandbox.etsy_contract import SPEC_PATH

# --------------------------------------------------------------------------- the fixtures match the spec


def test_fixture_receipt_has_every_shop_receipt_property_and_validates() -> None:
    spec = json.loads(SPEC_PATH.read_text())["components"]["schemas"]
    assert set(receipt()) == set(spec["ShopReceipt"]["properties"])
    assert set(transaction()) == set(spec["ShopReceiptTransaction"]["properties"])
    assert spec_violations(receipt()) == []
    assert spec_violations(receipt(divisor=1000, currency="EUR")) == []


# --------------------------------------------------------------------------- receipts → orders


def test_paid_receipt_becomes_a_paid_order_with_exact_money_buyer_address_and_lines() -> None:
    order = receipt_to_order(receipt())

    assert order.external_id == "2900000001"
    assert order.state == "paid"
    assert order.marketplace_status == "paid"
    assert order.total == Decimal("29.99")
    assert order.currency == "USD"
    assert order.buyer.name == "Ada Lovelace"
    assert order.buyer.email == "buyer@example.com"
    assert order.buyer.external_id == "70000002"
    address = order.shipping_address
    assert (address.name, address.line1, address.line2) == ("Ada Lovelace", "12 Analytical Row", "Flat 3")
    assert (address.city, address.region, address.postal_code, address.country_code) == (
        "Springfield",
        "IL",
        "62701",
        "US",
    )
    [line] = order.lines
    assert line.external_id == "3500000001"
    assert line.title == "Hand-thrown mug"
    assert line.sku == "MUG-BLUE-350"
    assert line.quantity == 2
    assert line.unit_price == Decimal("12.50")
    assert line.variations == {"Colour": "Blue", "Personalisation": "For Zoë"}
    assert order.placed_at == datetime.fromtimestamp(CREATED, UTC)
    assert order.updated_at == datetime.fromtimestamp(UPDATED, UTC)
    assert order.paid_at == datetime.fromtimestamp(PAID, UTC)
    assert order.placed_at.tzinfo is UTC


def test_billing_address_is_a_copy_of_shipping_because_etsy_has_none() -> None:
    order = receipt_to_order(receipt())
    assert order.billing_copied_from_shipping is True
    assert order.billing_address == order.shipping_address


def test_divisor_1000_money_is_exact_decimal() -> None:
    order = receipt_to_order(receipt(divisor=1000, currency="KWD"))
    assert order.total == Decimal("29.990")
    assert order.total == Decimal("29.99")
    assert order.currency == "KWD"
    assert order.lines[0].unit_price == Decimal("12.500")

    odd = receipt(grandtotal=money(1_234_567, 1000, "USD"))
    assert receipt_to_order(odd).total == Decimal("1234.567")


def test_null_buyer_email_and_address_lines_stay_absent() -> None:
    payload = receipt(
        buyer_email=None,
        first_line=None,
        second_line=None,
        city=None,
        state=None,
        zip=None,
        country_iso=None,
        formatted_address=None,
    )
    assert spec_violations(payload) == []
    order = receipt_to_order(payload)
    assert order.buyer.email is None
    assert order.shipping_address.name == "Ada Lovelace"
    assert order.shipping_address.line1 is None and order.shipping_address.country_code is None
    assert order.billing_address.line1 is None


def test_blank_strings_read_as_absent_and_null_sku_is_kept_null() -> None:
    payload = receipt(second_line="", transactions=[transaction(sku=None, title=None)])
    order = receipt_to_order(payload)
    assert order.shipping_address.line2 is None
    assert order.lines[0].sku is None
    assert order.lines[0].title == "Etsy listing 1500000001"


def test_unicode_names_and_a_huge_buyer_message_survive() -> None:
    name = "Zoë Ætherington 山田"
    payload = receipt(name=name, city="Zürich", message_from_buyer="ß" * 100_000)
    payload["transactions"][0]["title"] = "Tasse « Ædel » 茶碗"
    order = receipt_to_order(payload)
    assert order.buyer.name == name
    assert order.shipping_address.name == name
    assert order.shipping_address.city == "Zürich"
    assert order.lines[0].title == "Tasse « Ædel » 茶碗"


@pytest.mark.parametrize(
    ("status", "is_paid", "is_shipped", "expected"),
    [
        ("paid", True, False, "paid"),
        ("completed", True, True, "shipped"),
        ("open", False, False, "unpaid"),
        ("payment processing", False, False, "unpaid"),
        ("canceled", True, False, "cancelled"),
        ("fully refunded", True, True, "cancelled"),
        ("partially refunded", True, False, "paid"),
    ],
)
def test_status_and_flags_decide_the_state(status: str, is_paid: bool, is_shipped: bool, expected: str) -> None:
    order = receipt_to_order(receipt(status=status, is_paid=is_paid, is_shipped=is_shipped))
    assert order.state == expected
    assert order.marketplace_status == status


def test_unknown_status_is_decided_from_flags_and_kept_raw() -> None:
    order = receipt_to_order(receipt(status="awaiting pickup", is_paid=True, is_shipped=False))
    assert order.state == "paid"
    assert order.marketplace_status == "awaiting pickup"


def test_paid_at_is_the_earliest_transaction_payment_and_none_without_one() -> None:
    payload = receipt(
        transactions=[
            transaction(3_500_000_001, paid_timestamp=PAID + 60),
            transaction(3_500_000_002, paid_timestamp=PAID),
            transaction(3_500_000_003, paid_timestamp=None),
        ]
    )
    order = receipt_to_order(payload)
    assert order.paid_at == datetime.fromtimestamp(PAID, UTC)
    assert [line.external_id for line in order.lines] == ["3500000001", "3500000002", "3500000003"]

    unpaid = receipt(is_paid=False, status="open", transactions=[transaction(paid_timestamp=None)])
    assert receipt_to_order(unpaid).paid_at is None


def test_two_personalisation_fields_with_one_label_keep_both_answers() -> None:
    variations = [
        {"property_id": 54, "value_id": None, "formatted_name": "Name", "formatted_value": "Zoë"},
        {"property_id": 54, "value_id": None, "formatted_name": "Name", "formatted_value": "山田"},
    ]
    order = receipt_to_order(receipt(transactions=[transaction(variations=variations)]))
    assert order.lines[0].variations == {"Name": "Zoë; 山田"}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (receipt(receipt_id=None), "receipt_id"),
        (receipt(receipt_id="2900000001"), "receipt_id"),
        (receipt(grandtotal=None), "grandtotal"),
        (receipt(grandtotal=money(100, 0)), "grandtotal.divisor"),
        (receipt(grandtotal={"amount": "1.00", "divisor": 100, "currency_code": "USD"}), "grandtotal.amount"),
        (receipt(is_paid=None), "is_paid"),
        (receipt(transactions=[]), "transactions"),
        (receipt(transactions=[transaction(quantity=0)]), "transactions[0].quantity"),
        (receipt(transactions=[transaction(transaction_id=None)]), "transactions[0].transaction_id"),
        (receipt(transactions=[transaction(currency="EUR")]), "transactions[0].price.currency_code"),
        (receipt(transactions=[transaction(), transaction(price=None)]), "transactions[1].price"),
        (
            receipt(update_timestamp=None, updated_timestamp=None, create_timestamp=None, created_timestamp=None),
            "updated_timestamp",
        ),
    ],
)
def test_unacceptable_receipt_raises_value_error_naming_the_field(payload: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field.replace("[", r"\[").replace("]", r"\]")):
        receipt_to_order(payload)


def test_one_bad_receipt_is_rejected_while_the_rest_of_the_page_parses() -> None:
    page = parse_receipts(
        [
            receipt(2_900_000_001),
            receipt(receipt_id=None),
            receipt(2_900_000_003, transactions=[transaction(quantity=0)]),
            "not even an object",
            receipt(2_900_000_005, name="Zoë Ætherington 山田"),
        ]
    )
    assert [o.external_id for o in page.orders] == ["2900000001", "2900000005"]
    assert [(r.external_id, r.reason) for r in page.rejected] == [
        ("results[1]", "receipt_id is missing"),
        ("2900000003", "transactions[0].quantity must be at least 1, got 0"),
        ("results[3]", "receipt must be an object, got str"),
    ]


# --------------------------------------------------------------------------- carriers and tracking


@pytest.mark.parametrize(
    ("ours", "etsy"),
    [
        ("UPS", "ups"),
        ("usps", "usps"),
        ("United States Postal Service", "usps"),
        ("FedEx", "fedex"),
        ("Federal Express", "fedex"),
        ("DHL", "dhl"),
        ("DHL Express", "dhl-express"),
        ("dhl_express", "dhl-express"),
        ("DHL eCommerce", "dhl-ecommerce"),
        ("Royal Mail", "royal-mail"),
        ("  royal   mail ", "royal-mail"),
        ("Canada Post", "canada-post"),
        ("Australia Post", "australia-post"),
        ("AusPost", "australia-post"),
        ("Deutsche Post", "deutsche-post"),
        ("DPD", "dpd"),
        ("GLS", "gls"),
        ("Hermes", "hermes"),
        ("Evri", "evri"),
        ("Hermes UK", "evri"),
        ("La Poste", "la-poste"),
        ("Colissimo", "colissimo"),
        ("Poste Italiane", "poste-italiane"),
        ("Correos", "correos"),
        ("PostNL", "postnl"),
        ("InPost", "inpost"),
        ("China Post", "china-post"),
        ("Japan Post", "japan-post"),
        ("NZ Post", "new-zealand-post"),
        ("Poczta Polska", "poczta-polska"),
        ("other", "other"),
    ],
)
def test_common_carrier_names_map_to_etsy_carrier_names(ours: str, etsy: str) -> None:
    assert carrier_for_etsy(ours) == (etsy, None)


def test_unknown_carrier_goes_as_other_with_its_name_in_a_note() -> None:
    assert carrier_for_etsy("Speedy Llama Couriers") == ("other", "Carrier: Speedy Llama Couriers")
    assert carrier_for_etsy(" Ünïcode Post ") == ("other", "Carrier: Ünïcode Post")


def test_every_carrier_we_send_is_one_the_sandbox_accepts() -> None:
    from shared.marketplaces.etsy import mapper

    accepted = set(DEFAULT_CARRIERS)
    assert set(mapper._CARRIERS_BY_KEY.values()) <= accepted
    for name in DEFAULT_CARRIERS:  # and every sandbox name maps to itself
        assert carrier_for_etsy(name) == (name, None)


def test_tracking_form_puts_the_carrier_note_before_our_note() -> None:
    assert tracking_form(" 1Z999AA1 ", "UPS") == {"tracking_code": "1Z999AA1", "carrier_name": "ups"}
    assert tracking_form("LL123", "Llama Post", "Fragile") == {
        "tracking_code": "LL123",
        "carrier_name": "other",
        "note_to_buyer": "Carrier: Llama Post\nFragile",
    }


def test_recorded_shipment_finds_the_latest_with_that_tracking_code() -> None:
    shipments = [
        {
            "receipt_shipping_id": 1,
            "shipment_notification_timestamp": CREATED,
            "carrier_name": "ups",
            "tracking_code": "AB123",
        },
        {
            "receipt_shipping_id": 2,
            "shipment_notification_timestamp": CREATED,
            "carrier_name": "ups",
            "tracking_code": "ab123",
        },
    ]
    assert recorded_shipment(receipt(shipments=shipments), "AB123")["receipt_shipping_id"] == 2
    assert recorded_shipment(receipt(), "AB123") is None
