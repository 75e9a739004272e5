"""The Allegro mapper on checkout forms shaped like the spec's `CheckoutForm` (pure; no HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from shared.marketplaces.allegro.carriers import CarrierDirectory
from shared.marketplaces.allegro.mapper import (
    checkout_form_ids,
    checkout_form_to_order,
    earliest_event_time,
    last_event_id,
    parse_checkout_forms,
    sent_line_ids,
    shipment_body,
)
from tests.marketplaces.allegro_checkout_forms import (
    FORM_ID,
    LINE_ID,
    SECOND_LINE_ID,
    checkout_form,
    company_invoice,
    line_item,
    order_event,
    person_invoice,
    pickup_point,
    price,
    spec_violations,
)


def with_delivery(**changes: object) -> dict:
    return {**checkout_form()["delivery"], **changes}


def test_the_baseline_payloads_conform_to_the_spec() -> None:
    assert spec_violations(checkout_form()) == []
    assert spec_violations(checkout_form(invoice=company_invoice(), delivery=with_delivery(pickupPoint=pickup_point()))) == []
    assert spec_violations(order_event("1001"), "OrderEvent") == []


def test_a_paid_courier_order_maps_every_field() -> None:
    order = checkout_form_to_order(checkout_form())

    assert order.external_id == FORM_ID
    assert order.state == "paid"
    assert order.marketplace_status == "READY_FOR_PROCESSING/NEW"
    assert order.buyer.name == "Anna Kowalska"
    assert order.buyer.email == "8awgqyk6a5+cub31c122@allegromail.pl"
    assert order.buyer.external_id == "23123123"
    assert order.shipping_address.name == "Anna Kowalska"
    assert order.shipping_address.line1 == "Grunwaldzka 182"
    assert order.shipping_address.postal_code == "60-166"
    assert order.shipping_address.country_code == "PL"
    assert order.shipping_address.phone == "600100200"
    assert order.shipping_address.pickup_point_id is None
    (line,) = order.lines
    assert line.external_id == LINE_ID
    assert line.title == "Koszulka bawełniana czerwona M"
    assert line.sku == "TS-RED-M"
    assert line.quantity == 2
    assert line.unit_price == Decimal("49.99")
    assert line.variations == {}
    assert order.total == Decimal("112.97") and order.currency == "PLN"
    assert order.placed_at == datetime(2026, 3, 1, 9, 15, 30, 123000, tzinfo=UTC)
    assert order.paid_at == datetime(2026, 3, 1, 9, 17, 2, tzinfo=UTC)
    assert order.updated_at == datetime(2026, 3, 1, 9, 17, 5, 456000, tzinfo=UTC)


def test_without_an_invoice_the_billing_address_is_a_copy_of_the_delivery_address() -> None:
    order = checkout_form_to_order(checkout_form())
    assert order.billing_copied_from_shipping is True
    assert order.billing_address == order.shipping_address


def test_a_company_invoice_address_is_the_billing_address() -> None:
    order = checkout_form_to_order(checkout_form(invoice=company_invoice()))
    assert order.billing_copied_from_shipping is False
    assert order.billing_address.company == "Ceramika Sp. z o.o."
    assert order.billing_address.name is None
    assert order.billing_address.line1 == "ul. Marszałkowska 1/2"
    assert order.billing_address.city == "Warszawa"
    assert order.billing_address.postal_code == "00-001"
    assert order.shipping_address.line1 == "Grunwaldzka 182"


def test_a_natural_person_invoice_names_the_person() -> None:
    order = checkout_form_to_order(checkout_form(invoice=person_invoice()))
    assert order.billing_copied_from_shipping is False
    assert order.billing_address.name == "Józef Wiśniewski"
    assert order.billing_address.company is None


def test_a_pickup_point_order_keeps_the_point_and_the_recipient() -> None:
    order = checkout_form_to_order(checkout_form(delivery=with_delivery(pickupPoint=pickup_point())))
    address = order.shipping_address
    assert address.pickup_point_id == "POZ08A"
    assert address.line1 == "Grunwaldzka 108"
    assert address.line2 == "Paczkomat POZ08A"
    assert address.name == "Anna Kowalska"  # who collects the parcel
    assert address.phone == "600100200" and address.email == order.buyer.email
    assert order.billing_copied_from_shipping is True


def test_a_pickup_point_without_an_address_keeps_the_delivery_address_and_the_point_id() -> None:
    point = pickup_point()
    del point["address"]
    address = checkout_form_to_order(checkout_form(delivery=with_delivery(pickupPoint=point))).shipping_address
    assert address.pickup_point_id == "POZ08A"
    assert address.line1 == "Grunwaldzka 182"


def test_money_strings_are_read_exactly_and_in_their_currency() -> None:
    form = checkout_form(
        lineItems=[line_item(price=price("1234.10", "CZK"), originalPrice=price("1234.10", "CZK"))],
        summary={"totalToPay": price("0.30", "czk")},
    )
    form["lineItems"][0].pop("reconciliation")
    order = checkout_form_to_order(form)
    assert order.lines[0].unit_price == Decimal("1234.10")
    assert str(order.lines[0].unit_price) == "1234.10"
    assert order.total == Decimal("0.30") and order.currency == "CZK"


@pytest.mark.parametrize(
    ("amount", "reason"),
    [(12.5, "lineItems[0].price.amount must be a decimal string"), ("12,50", "lineItems[0].price.amount is not a decimal")],
)
def test_an_unreadable_amount_is_rejected_naming_the_field(amount: object, reason: str) -> None:
    page = parse_checkout_forms([checkout_form(lineItems=[line_item(price={"amount": amount, "currency": "PLN"})])])
    assert page.orders == ()
    assert reason in page.rejected[0].reason


def test_a_line_in_another_currency_than_the_total_is_rejected() -> None:
    page = parse_checkout_forms([checkout_form(lineItems=[line_item(price=price("10.00", "EUR"))])])
    assert "lineItems[0].price.currency EUR" in page.rejected[0].reason


def test_unicode_names_survive() -> None:
    form = checkout_form()
    form["buyer"] |= {"firstName": "Zoë", "lastName": "Łukasiewicz-Żółć"}
    form["delivery"]["address"] |= {"firstName": "Zoë", "lastName": "Łukasiewicz-Żółć", "city": "Łódź"}
    form["lineItems"][0]["offer"]["name"] = "Kubek « Ædel » 茶碗 ☕"
    order = checkout_form_to_order(form)
    assert order.buyer.name == "Zoë Łukasiewicz-Żółć"
    assert order.shipping_address.city == "Łódź"
    assert order.lines[0].title == "Kubek « Ædel » 茶碗 ☕"


def test_a_buyer_without_names_is_known_by_login() -> None:
    form = checkout_form()
    del form["buyer"]["firstName"], form["buyer"]["lastName"]
    assert checkout_form_to_order(form).buyer.name == "anna_k"


def test_an_offer_without_external_id_has_no_sku() -> None:
    item = line_item()
    del item["offer"]["external"]
    assert checkout_form_to_order(checkout_form(lineItems=[item])).lines[0].sku is None


def test_placed_at_is_the_earliest_purchase_and_unpaid_orders_have_no_paid_at() -> None:
    form = checkout_form(
        status="FILLED_IN",
        lineItems=[line_item(boughtAt="2026-03-01T10:00:00Z"), line_item(SECOND_LINE_ID, boughtAt="2026-02-28T23:59:59+01:00")],
    )
    del form["payment"]
    order = checkout_form_to_order(form)
    assert order.placed_at == datetime(2026, 2, 28, 22, 59, 59, tzinfo=UTC)
    assert order.paid_at is None
    assert order.state == "unpaid"


@pytest.mark.parametrize(
    ("status", "fulfillment", "lines_sent", "expected"),
    [
        ("READY_FOR_PROCESSING", "NEW", "NONE", "paid"),
        ("READY_FOR_PROCESSING", "PROCESSING", "NONE", "paid"),
        ("READY_FOR_PROCESSING", "READY_FOR_SHIPMENT", "SOME", "paid"),
        ("READY_FOR_PROCESSING", "SENT", "ALL", "shipped"),
        ("READY_FOR_PROCESSING", "PICKED_UP", "ALL", "shipped"),
        ("READY_FOR_PROCESSING", "NEW", "ALL", "shipped"),  # every line has a tracking number
        ("READY_FOR_PROCESSING", "CANCELLED", "NONE", "cancelled"),
        ("CANCELLED", "NEW", "NONE", "cancelled"),
        ("BOUGHT", "NEW", "NONE", "unpaid"),
        ("FILLED_IN", "NEW", "NONE", "unpaid"),
        ("READY_FOR_PROCESSING", "WAITING_FOR_COURIER", "NONE", "paid"),  # a seller status newer than our spec
    ],
)
def test_both_status_axes_decide_the_state(status: str, fulfillment: str, lines_sent: str, expected: str) -> None:
    form = checkout_form(status=status, fulfillment={"status": fulfillment, "shipmentSummary": {"lineItemsSent": lines_sent}})
    order = checkout_form_to_order(form)
    assert order.state == expected
    assert order.marketplace_status == f"{status}/{fulfillment}"


def test_an_unknown_checkout_form_status_is_rejected_not_guessed() -> None:
    page = parse_checkout_forms([checkout_form(status="PAID_MAYBE")])
    assert page.rejected[0].external_id == FORM_ID
    assert "status: unknown checkout form status 'PAID_MAYBE'" in page.rejected[0].reason


def test_missing_required_ids_are_rejected_naming_them_without_blocking_the_others() -> None:
    no_id = checkout_form()
    del no_id["id"]
    no_line_id = checkout_form(id="5e0b4bd0-0000-4000-8000-000000000002", lineItems=[line_item()])
    del no_line_id["lineItems"][0]["id"]
    good = checkout_form(id="5e0b4bd0-0000-4000-8000-000000000003")

    page = parse_checkout_forms([no_id, no_line_id, good], cursor="1001")

    assert [o.external_id for o in page.orders] == ["5e0b4bd0-0000-4000-8000-000000000003"]
    assert [(r.external_id, r.reason) for r in page.rejected] == [
        ("checkoutForms[0]", "id is missing"),
        ("5e0b4bd0-0000-4000-8000-000000000002", "lineItems[0].id is missing"),
    ]
    assert page.cursor == "1001"


def test_a_missing_total_or_buyer_is_rejected_naming_the_field() -> None:
    no_summary = checkout_form()
    del no_summary["summary"]
    no_buyer = checkout_form()
    del no_buyer["buyer"]
    page = parse_checkout_forms([no_summary, no_buyer])
    assert [r.reason for r in page.rejected] == ["summary is missing", "buyer is missing"]


def test_events_collapse_to_distinct_checkout_forms_in_order_and_report_events_without_one() -> None:
    other = "5e0b4bd0-0000-4000-8000-000000000009"
    broken = order_event("1003")
    del broken["order"]["checkoutForm"]
    events = [
        order_event("1001"),
        order_event("1002", form_id=other),
        broken,
        order_event("1004"),  # the duplicate READY_FOR_PROCESSING Allegro sends
        order_event("1005", "BUYER_MODIFIED", revision="aa11bb22"),
    ]
    ids, rejected = checkout_form_ids(events)
    assert ids == [FORM_ID, other]
    assert [(r.external_id, r.reason) for r in rejected] == [("event 1003", "order.checkoutForm.id is missing")]
    assert last_event_id(events) == "1005"


def test_the_oldest_event_time_bounds_the_forms_a_batch_needs() -> None:
    early, late, timeless = order_event("1001"), order_event("1002"), order_event("1003")
    early["occurredAt"], late["occurredAt"] = "2026-03-01T10:15:30.123Z", "2026-03-01T11:00:00Z"
    del timeless["occurredAt"]
    assert earliest_event_time([late, timeless, early]) == datetime(2026, 3, 1, 10, 15, 30, 123000, tzinfo=UTC)
    assert earliest_event_time([timeless]) is None


def test_shipment_body_and_sent_lines() -> None:
    assert shipment_body("OTHER", "Kurier Zenek", "ZZ-1", [LINE_ID]) == {
        "carrierId": "OTHER",
        "waybill": "ZZ-1",
        "carrierName": "Kurier Zenek",
        "lineItems": [{"id": LINE_ID}],
    }
    assert shipment_body("DPD", None, "123", []) == {"carrierId": "DPD", "waybill": "123"}
    everything = {LINE_ID, SECOND_LINE_ID}
    assert sent_line_ids([{"waybill": "A", "lineItems": [{"id": LINE_ID}]}], everything) == {LINE_ID}
    assert sent_line_ids([{"waybill": "A", "lineItems": []}], everything) == everything


def test_shipment_bodies_conform_to_the_spec() -> None:
    assert spec_violations(shipment_body("OTHER", "Kurier Zenek", "ZZ-1", [LINE_ID]), "CheckoutFormAddWaybillRequest") == []


@pytest.mark.parametrize(
    ("ours", "carrier_id", "carrier_name"),
    [
        ("DPD", "DPD", None),
        ("dpd", "DPD", None),
        ("poczta polska", "POCZTA_POLSKA", None),
        ("Poczta-Polska", "POCZTA_POLSKA", None),
        ("POCZTA_POLSKA", "POCZTA_POLSKA", None),
        ("yun express", "YUN_EXPRESS", None),
        ("Kurier Zenek", "OTHER", "Kurier Zenek"),
        ("other", "OTHER", "other"),
        ("Przesyłki Ekspresowe Wielkopolska Sp. z o.o.", "OTHER", "Przesyłki Ekspresowe Wielkopols"[:30].rstrip()),
    ],
)
def test_carriers_match_ids_and_names_case_insensitively_else_other_with_a_name(
    ours: str, carrier_id: str, carrier_name: str | None
) -> None:
    directory = CarrierDirectory.from_response(
        {
            "carriers": [
                {"id": "POCZTA_POLSKA", "name": "Poczta Polska"},
                {"id": "DPD", "name": "DPD"},
                {"id": "YUN_EXPRESS", "name": "Yun Express"},
                {"id": "OTHER"},
            ]
        }
    )
    choice = directory.choose(ours)
    assert (choice.carrier_id, choice.carrier_name) == (carrier_id, carrier_name)
    assert choice.carrier_name is None or len(choice.carrier_name) <= 30


def test_a_blank_carrier_is_refused() -> None:
    with pytest.raises(ValueError, match="carrier is empty"):
        CarrierDirectory([{"id": "OTHER"}]).choose("  ")
