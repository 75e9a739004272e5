"""The fifteen fixed order statuses of Orders V2 (spec `GET /order_statuses`).

Ids never change; merchants may only rename the `custom_label`. `display_order` is the `order`
key BigCommerce returns (the control panel's sort position), copied from the spec's example.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OrderStatus:
    id: int
    name: str
    description: str
    display_order: int


ORDER_STATUSES: dict[int, OrderStatus] = {
    s.id: s
    for s in (
        OrderStatus(
            0,
            "Incomplete",
            "An incomplete order happens when a shopper reached the payment page, but did not complete the transaction.",
            0,
        ),
        OrderStatus(1, "Pending", "Customer started the checkout process, but did not complete it.", 1),
        OrderStatus(
            2, "Shipped", "Order has been shipped, but receipt has not been confirmed; seller has used the Ship Items action.", 8
        ),
        OrderStatus(
            3,
            "Partially Shipped",
            "Only some items in the order have been shipped, due to some products being pre-order only or other reasons.",
            6,
        ),
        OrderStatus(4, "Refunded", "Seller has used the Refund action.", 11),
        OrderStatus(5, "Cancelled", "Seller has cancelled an order, due to a stock inconsistency or other reasons.", 9),
        OrderStatus(6, "Declined", "Seller has marked the order as declined for lack of manual payment, or other reasons.", 10),
        OrderStatus(7, "Awaiting Payment", "Customer has completed checkout process, but payment has yet to be confirmed.", 2),
        OrderStatus(
            8, "Awaiting Pickup", "Order has been pulled, and is awaiting customer pickup from a seller-specified location.", 5
        ),
        OrderStatus(
            9, "Awaiting Shipment", "Order has been pulled and packaged, and is awaiting collection from a shipping provider.", 4
        ),
        OrderStatus(
            10, "Completed", "Client has paid for their digital product and their file(s) are available for download.", 7
        ),
        OrderStatus(11, "Awaiting Fulfillment", "Customer has completed the checkout process and payment has been confirmed.", 3),
        OrderStatus(12, "Manual Verification Required", "Order is on hold while some aspect needs to be manually confirmed.", 13),
        OrderStatus(
            13,
            "Disputed",
            "Customer has initiated a dispute resolution process for the PayPal transaction that paid for the order.",
            12,
        ),
        OrderStatus(14, "Partially Refunded", "Seller has partially refunded the order.", 14),
    )
}

SHIPPED = 2
PARTIALLY_SHIPPED = 3
CANCELLED = 5
INCOMPLETE = 0

# payment_status a freshly seeded order carries, by status (our reading of the status descriptions).
PAYMENT_STATUS_BY_STATUS = {
    0: "",
    1: "",
    4: "refunded",
    6: "declined",
    7: "pending",
    12: "held for review",
    14: "partially refunded",
}
DEFAULT_PAYMENT_STATUS = "captured"
