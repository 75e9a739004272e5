"""Shipment line checks: every line named exists, and per line the quantities fit in what is left to ship."""

from __future__ import annotations

from services.fulfilment.rules import line_error
from shared.events.payloads import ShipmentLine

ORDERED = {"L1": 3, "L2": 1}


def _lines(*pairs: tuple[str, int]) -> list[ShipmentLine]:
    return [ShipmentLine(order_line_external_id=line_id, quantity=quantity) for line_id, quantity in pairs]


def test_a_whole_order_shipment_is_not_checked_even_when_everything_has_shipped():
    assert line_error(ORDERED, [], {"L1": 3, "L2": 1}) is None


def test_lines_that_fit_what_is_left_pass():
    assert line_error(ORDERED, _lines(("L1", 2), ("L2", 1)), {"L1": 1}) is None


def test_an_unknown_line_is_named_by_its_position():
    assert line_error(ORDERED, _lines(("L1", 1), ("L9", 1)), {}) == (
        "lines.1.order_line_external_id", "no such line on this order")


def test_more_than_is_left_after_earlier_shipments_is_refused():
    assert line_error(ORDERED, _lines(("L1", 2)), {"L1": 2}) == ("lines.0.quantity", "only 1 left to ship of line L1")


def test_a_line_repeated_in_one_request_is_summed_and_the_message_says_so():
    assert line_error(ORDERED, _lines(("L1", 2), ("L2", 1), ("L1", 2)), {}) == (
        "lines.2.quantity", "only 3 left to ship of line L1, 2 of them already in earlier lines of this request")


def test_the_first_problem_is_reported():
    assert line_error(ORDERED, _lines(("L2", 2), ("L9", 1)), {})[0] == "lines.0.quantity"


def test_a_fully_shipped_line_takes_nothing_more():
    assert line_error(ORDERED, _lines(("L2", 1)), {"L2": 1}) == ("lines.0.quantity", "only 0 left to ship of line L2")
