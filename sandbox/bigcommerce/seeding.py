"""Turning a control-API order body into an `Order` with ids that look like BigCommerce's.

Each order gets its own shipping addresses (order_address ids), order products (the ids a
shipment names) and option rows; physical products must point at an existing address.
"""

from __future__ import annotations

import uuid

from sandbox.bigcommerce.control_schemas import OrderIn, control_error, to_decimal
from sandbox.bigcommerce.order_statuses import DEFAULT_PAYMENT_STATUS, PAYMENT_STATUS_BY_STATUS
from sandbox.bigcommerce.state import Address, BigCommerceState, Order, OrderProduct, ProductOption, ShippingAddress, Store


def build_order(state: BigCommerceState, store: Store, body: OrderIn, created: int, modified: int) -> Order:
    order_id = state.next_id("order")
    addresses = [
        ShippingAddress(
            id=state.next_id("order_address"),
            order_id=order_id,
            address=a.to_address(),
            shipping_method=a.shipping_method,
            cost_ex_tax=to_decimal(a.cost_ex_tax, "cost_ex_tax"),
            cost_inc_tax=to_decimal(a.cost_inc_tax or a.cost_ex_tax, "cost_inc_tax"),
        )
        for a in body.shipping_addresses
    ]
    products = []
    for p in body.products:
        if p.type == "physical" and p.address_index >= len(addresses):
            raise control_error(422, f"physical product {p.name!r} needs shipping address #{p.address_index}")
        product_id = 0 if p.custom else p.product_id or state.next_id("catalog_product")
        op_id = state.next_id("order_product")
        products.append(
            OrderProduct(
                id=op_id,
                order_id=order_id,
                product_id=product_id,
                variant_id=None if p.custom else p.variant_id or state.next_id("variant"),
                order_address_id=addresses[p.address_index].id if p.address_index < len(addresses) else 0,
                name=p.name,
                sku=p.sku,
                upc=p.upc,
                type=p.type,
                quantity=p.quantity,
                price_ex_tax=to_decimal(p.price_ex_tax, "price_ex_tax"),
                price_inc_tax=to_decimal(p.price_inc_tax or p.price_ex_tax, "price_inc_tax"),
                weight=to_decimal(p.weight, "weight"),
                options=[
                    ProductOption(
                        id=state.next_id("product_option"),
                        option_id=state.next_id("option"),
                        product_option_id=state.next_id("option"),
                        display_name=o.display_name,
                        display_value=o.display_value,
                        value=o.value if o.value is not None else o.display_value,
                        type=o.type,
                        name=o.name or o.display_name,
                    )
                    for o in p.options
                ],
            )
        )
    billing = body.billing_address.to_address() if body.billing_address is not None else Address()
    return Order(
        id=order_id,
        store_hash=store.store_hash,
        customer_id=body.customer_id,
        status_id=body.status_id,
        date_created=created,
        date_modified=modified,
        date_shipped=modified if body.status_id == 2 else None,
        billing_address=billing,
        shipping_addresses=addresses,
        products=products,
        currency_code=body.currency_code or store.currency,
        payment_method=body.payment_method,
        payment_status=body.payment_status
        if body.payment_status is not None
        else PAYMENT_STATUS_BY_STATUS.get(body.status_id, DEFAULT_PAYMENT_STATUS),
        shipping_cost_ex_tax=to_decimal(body.shipping_cost_ex_tax, "shipping_cost_ex_tax"),
        shipping_cost_inc_tax=to_decimal(body.shipping_cost_inc_tax or body.shipping_cost_ex_tax, "shipping_cost_inc_tax"),
        discount_amount=to_decimal(body.discount_amount, "discount_amount"),
        customer_message=body.customer_message,
        staff_notes=body.staff_notes,
        channel_id=body.channel_id,
        order_source=body.order_source,
        external_source=body.external_source,
        external_order_id=body.external_order_id,
        cart_id=str(uuid.uuid4()),
    )
