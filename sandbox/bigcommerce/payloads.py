"""Resources rendered exactly as BigCommerce returns them (field names, types, formats).

Money is a decimal string with four places (`"12.5000"`), dates are RFC 2822 strings in UTC
(`"Tue, 05 Mar 2019 21:40:11 +0000"`), an unset `date_shipped` is `""`, and V2 orders point at
their products and shipping addresses with `{url, resource}` links instead of embedding them.
The links say `shippingaddresses` (no underscore) because BigCommerce's own do; the API serves
both spellings. A `consignments` key is sent only when asked for (`include=consignments` or
`consignments.line_items` with `consignment_structure=object`): the spec's examples omit it otherwise,
and its schema (`oneOf` link | consignment object) cannot tell a bare `{url, resource}` link apart.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from email.utils import format_datetime
from typing import Any

from sandbox.bigcommerce.order_statuses import ORDER_STATUSES
from sandbox.bigcommerce.state import (
    Address,
    ApiAccount,
    Hook,
    Order,
    OrderProduct,
    Settings,
    Shipment,
    ShippingAddress,
    Store,
)

SHIPPING_PROVIDER_NAMES = {
    "": "",
    "auspost": "Australia Post",
    "canadapost": "Canada Post",
    "endicia": "Endicia",
    "usps": "USPS",
    "fedex": "FedEx",
    "ups": "UPS",
    "upsready": "UPS Ready",
    "upsonline": "UPS Online",
    "shipperhq": "ShipperHQ",
    "royalmail": "Royal Mail",
}
_TRACKING_URLS = {
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={}",
    "ups": "https://www.ups.com/track?tracknum={}",
    "upsready": "https://www.ups.com/track?tracknum={}",
    "upsonline": "https://www.ups.com/track?tracknum={}",
    "royalmail": "https://www.royalmail.com/track-your-item#/tracking-results/{}",
    "auspost": "https://auspost.com.au/mypost/track/#/details/{}",
    "canadapost": "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor={}",
}


def money(value: Decimal) -> str:
    return f"{value:.4f}"


def rfc2822(ts: int | None) -> str:
    if ts is None:
        return ""
    return format_datetime(datetime.fromtimestamp(ts, tz=UTC)).replace("-0000", "+0000")


def _link(origin: str, store_hash: str, resource: str) -> dict[str, str]:
    return {"url": f"{origin}/stores/{store_hash}/v2{resource}", "resource": resource}


def address_payload(address: Address) -> dict[str, Any]:
    return {
        "first_name": address.first_name,
        "last_name": address.last_name,
        "company": address.company,
        "street_1": address.street_1,
        "street_2": address.street_2,
        "city": address.city,
        "state": address.state,
        "zip": address.zip,
        "country": address.country,
        "country_iso2": address.country_iso2,
        "phone": address.phone,
        "email": address.email,
    }


def status_label(settings: Settings, status_id: int) -> str:
    return settings.status_custom_labels.get(status_id, ORDER_STATUSES[status_id].name)


def order_payload(order: Order, store: Store, settings: Settings, origin: str,
                  include: frozenset[str] = frozenset()) -> dict[str, Any]:
    subtotal_ex = sum((p.price_ex_tax * p.quantity for p in order.products), Decimal(0))
    subtotal_inc = sum((p.price_inc_tax * p.quantity for p in order.products), Decimal(0))
    total_ex = subtotal_ex + order.shipping_cost_ex_tax - order.discount_amount
    total_inc = subtotal_inc + order.shipping_cost_inc_tax - order.discount_amount
    zero = money(Decimal(0))
    is_digital = all(p.type != "physical" for p in order.products)
    return {
        "id": order.id,
        "customer_id": order.customer_id,
        "date_created": rfc2822(order.date_created),
        "date_modified": rfc2822(order.date_modified),
        "date_shipped": rfc2822(order.date_shipped),
        "status_id": order.status_id,
        "status": ORDER_STATUSES[order.status_id].name,
        "custom_status": status_label(settings, order.status_id),
        "subtotal_ex_tax": money(subtotal_ex),
        "subtotal_inc_tax": money(subtotal_inc),
        "subtotal_tax": money(subtotal_inc - subtotal_ex),
        "base_shipping_cost": money(order.shipping_cost_ex_tax),
        "shipping_cost_ex_tax": money(order.shipping_cost_ex_tax),
        "shipping_cost_inc_tax": money(order.shipping_cost_inc_tax),
        "shipping_cost_tax": money(order.shipping_cost_inc_tax - order.shipping_cost_ex_tax),
        "shipping_cost_tax_class_id": 2,
        "base_handling_cost": zero,
        "handling_cost_ex_tax": zero,
        "handling_cost_inc_tax": zero,
        "handling_cost_tax": zero,
        "handling_cost_tax_class_id": 2,
        "base_wrapping_cost": zero,
        "wrapping_cost_ex_tax": zero,
        "wrapping_cost_inc_tax": zero,
        "wrapping_cost_tax": zero,
        "wrapping_cost_tax_class_id": 3,
        "total_ex_tax": money(total_ex),
        "total_inc_tax": money(total_inc),
        "total_tax": money(total_inc - total_ex),
        "is_tax_inclusive_pricing": False,
        "items_total": order.items_total,
        "items_shipped": order.items_shipped,
        "payment_method": order.payment_method,
        "payment_provider_id": "",
        "payment_status": order.payment_status,
        "refunded_amount": zero,
        "order_is_digital": is_digital,
        "store_credit_amount": zero,
        "gift_certificate_amount": zero,
        "ip_address": "",
        "ip_address_v6": "",
        "geoip_country": order.billing_address.country,
        "geoip_country_iso2": order.billing_address.country_iso2,
        "currency_id": 1,
        "currency_code": order.currency_code,
        "currency_exchange_rate": "1.0000000000",
        "default_currency_id": 1,
        "default_currency_code": order.currency_code,
        "store_default_currency_code": store.currency,
        "store_default_to_transactional_exchange_rate": "1.0000000000",
        "staff_notes": order.staff_notes,
        "customer_message": order.customer_message,
        "discount_amount": money(order.discount_amount),
        "coupon_discount": zero,
        "shipping_address_count": len(order.shipping_addresses),
        "is_deleted": order.is_deleted,
        "ebay_order_id": "0",
        "cart_id": order.cart_id,
        "billing_address": {**address_payload(order.billing_address), "form_fields": []},
        "is_email_opt_in": False,
        "credit_card_type": None,
        "order_source": order.order_source,
        "channel_id": order.channel_id,
        "external_source": order.external_source,
        "products": _link(origin, order.store_hash, f"/orders/{order.id}/products"),
        "shipping_addresses": _link(origin, order.store_hash, f"/orders/{order.id}/shippingaddresses"),
        "coupons": _link(origin, order.store_hash, f"/orders/{order.id}/coupons"),
        "external_id": None,
        "external_merchant_id": None,
        "tax_provider_id": "",
        "customer_locale": "en",
        "external_order_id": order.external_order_id,
        **({"consignments": consignments_payload(order, origin, line_items="consignments.line_items" in include)}
           if include & CONSIGNMENT_INCLUDES else {}),
    }


def order_product_payload(product: OrderProduct) -> dict[str, Any]:
    zero = money(Decimal(0))
    total_ex = product.price_ex_tax * product.quantity
    total_inc = product.price_inc_tax * product.quantity
    payload: dict[str, Any] = {
        "id": product.id,
        "order_id": product.order_id,
        "product_id": product.product_id,
        "order_pickup_method_id": 0,
        "order_address_id": product.order_address_id,
        "name": product.name,
        "name_customer": product.name,
        "name_merchant": product.name,
        "sku": product.sku,
        "upc": product.upc,
        "type": product.type,
        "base_price": money(product.price_ex_tax),
        "price_ex_tax": money(product.price_ex_tax),
        "price_inc_tax": money(product.price_inc_tax),
        "price_tax": money(product.price_inc_tax - product.price_ex_tax),
        "base_total": money(total_ex),
        "total_ex_tax": money(total_ex),
        "total_inc_tax": money(total_inc),
        "total_tax": money(total_inc - total_ex),
        "weight": money(product.weight),
        "width": zero,
        "height": zero,
        "depth": zero,
        "quantity": product.quantity,
        "base_cost_price": zero,
        "cost_price_inc_tax": zero,
        "cost_price_ex_tax": zero,
        "cost_price_tax": zero,
        "is_refunded": False,
        "quantity_refunded": 0,
        "refund_amount": zero,
        "return_id": 0,
        "wrapping_id": 0,
        "wrapping_name": "",
        "base_wrapping_cost": zero,
        "wrapping_cost_ex_tax": zero,
        "wrapping_cost_inc_tax": zero,
        "wrapping_cost_tax": zero,
        "wrapping_message": "",
        "quantity_shipped": product.quantity_shipped,
        "event_name": None,
        "event_date": None,
        "fixed_shipping_cost": zero,
        "ebay_item_id": "",
        "ebay_transaction_id": "",
        "option_set_id": None,
        "parent_order_product_id": None,
        "is_bundled_product": False,
        "bin_picking_number": "",
        "external_id": None,
        "brand": "",
        "applied_discounts": [],
        "product_options": [
            {
                "id": o.id,
                "option_id": o.option_id,
                "order_product_id": product.id,
                "product_option_id": o.product_option_id,
                "display_name": o.display_name,
                "display_name_customer": o.display_name,
                "display_name_merchant": o.display_name,
                "display_value": o.display_value,
                "display_value_customer": o.display_value,
                "display_value_merchant": o.display_value,
                "value": o.value,
                "type": o.type,
                "name": o.name,
                "display_style": "",
            }
            for o in product.options
        ],
        "configurable_fields": [],
        "gift_certificate_id": None,
        "discounted_total_inc_tax": money(total_inc),
    }
    if product.variant_id is not None:  # custom products have no variant
        payload["variant_id"] = product.variant_id
    return payload


def shipping_address_payload(address: ShippingAddress, order: Order, origin: str) -> dict[str, Any]:
    zero = money(Decimal(0))
    on_address = [p for p in order.products if p.order_address_id == address.id]
    resource = f"/orders/{order.id}/shippingaddresses/{address.id}/shippingquotes"
    return {
        "id": address.id,
        "order_id": order.id,
        **address_payload(address.address),
        "items_total": sum(p.quantity for p in on_address),
        "items_shipped": sum(p.quantity_shipped for p in on_address),
        "shipping_method": address.shipping_method,
        "base_cost": money(address.cost_ex_tax),
        "cost_ex_tax": money(address.cost_ex_tax),
        "cost_inc_tax": money(address.cost_inc_tax),
        "cost_tax": money(address.cost_inc_tax - address.cost_ex_tax),
        "cost_tax_class_id": 2,
        "base_handling_cost": zero,
        "handling_cost_ex_tax": zero,
        "handling_cost_inc_tax": zero,
        "handling_cost_tax": zero,
        "handling_cost_tax_class_id": 2,
        "shipping_zone_id": 1,
        "shipping_zone_name": address.address.country or "Default",
        "shipping_quotes": _link(origin, order.store_hash, resource),
        "form_fields": [],
    }


CONSIGNMENT_INCLUDES = frozenset({"consignments", "consignments.line_items"})


def consignments_payload(order: Order, origin: str, *, line_items: bool) -> dict[str, Any]:
    """`orderConsignment_Get`: where each product goes. Physical products ship to their shipping address
    (one shipping consignment per address, its id the address id) or, without one, are picked up;
    digital ones are downloads, gift certificates go by e-mail. `line_items` are the products
    themselves (`include=consignments.line_items`) or links to them (`include=consignments`)."""

    def items(products: list[OrderProduct]) -> list[dict[str, Any]]:
        if line_items:
            return [order_product_payload(p) for p in products]
        return [_link(origin, order.store_hash, f"/orders/{order.id}/products/{p.id}") for p in products]

    address_ids = {a.id for a in order.shipping_addresses}
    physical = [p for p in order.products if p.type == "physical"]
    picked_up = [p for p in physical if p.order_address_id not in address_ids]
    digital = [p for p in order.products if p.type == "digital"]
    certificates = [p for p in order.products if p.type == "giftcertificate"]
    email = order.billing_address.email
    return {
        "pickups": [{
            "id": order.id,
            "pickup_method_id": 1,
            "pickup_method_display_name": "Pick Up",
            "collection_instructions": "Bring your ID",
            "collection_time_description": "9am - 6pm",
            "location": {"id": 1, "name": "Store", "code": "STORE-1", "address_line_1": "", "address_line_2": "",
                         "city": "", "state": "", "postal_code": "", "country_alpha2": "", "email": "", "phone": ""},
            "line_items": items(picked_up),
        }] if picked_up else [],
        "shipping": [_shipping_consignment(a, order, origin, items([p for p in physical if p.order_address_id == a.id]))
                     for a in order.shipping_addresses],
        "downloads": [{"recipient_email": email, "line_items": items(digital)}] if digital else [],
        "email": {"gift_certificates": [{"recipient_email": email, "line_items": items(certificates)}]
                  if certificates else []},
    }


def _shipping_consignment(address: ShippingAddress, order: Order, origin: str,
                          line_items: list[dict[str, Any]]) -> dict[str, Any]:
    """`shippingConsignment_Get`: the shipping address's fields, but costs as numbers, not strings."""
    on_address = [p for p in order.products if p.order_address_id == address.id]
    resource = f"/orders/{order.id}/consignments/shipping/{address.id}/shipping_quotes"
    return {
        "id": address.id,
        **address_payload(address.address),
        "form_fields": [],
        "shipping_method": address.shipping_method,
        "line_items": line_items,
        "items_total": sum(p.quantity for p in on_address),
        "items_shipped": sum(p.quantity_shipped for p in on_address),
        "base_cost": float(address.cost_ex_tax),
        "cost_ex_tax": float(address.cost_ex_tax),
        "cost_inc_tax": float(address.cost_inc_tax),
        "cost_tax": float(address.cost_inc_tax - address.cost_ex_tax),
        "cost_tax_class_id": 2,
        "base_handling_cost": 0.0,
        "handling_cost_ex_tax": 0.0,
        "handling_cost_inc_tax": 0.0,
        "handling_cost_tax": 0.0,
        "handling_cost_tax_class_id": 2,
        "shipping_zone_id": 1,
        "shipping_zone_name": address.address.country or "Default",
        "shipping_quotes": _link(origin, order.store_hash, resource),
    }


def generated_tracking_link(shipment: Shipment) -> str:
    """BigCommerce links a provider's tracking page, or AfterShip for a tracking_carrier slug."""
    if shipment.tracking_link or not shipment.tracking_number:
        return ""
    template = _TRACKING_URLS.get(shipment.shipping_provider)
    if template:
        return template.format(shipment.tracking_number)
    if shipment.tracking_carrier:
        return f"https://track.aftership.com/{shipment.tracking_carrier}/{shipment.tracking_number}"
    return ""


def shipment_payload(shipment: Shipment) -> dict[str, Any]:
    provider = shipment.shipping_provider
    return {
        "id": shipment.id,
        "order_id": shipment.order_id,
        "customer_id": shipment.customer_id,
        "order_address_id": shipment.order_address_id,
        "date_created": rfc2822(shipment.date_created),
        "tracking_number": shipment.tracking_number,
        "merchant_shipping_cost": money(shipment.merchant_shipping_cost),
        "shipping_method": shipment.shipping_method,
        "comments": shipment.comments,
        "shipping_provider": provider,
        "tracking_carrier": shipment.tracking_carrier,
        "tracking_link": shipment.tracking_link,
        "billing_address": address_payload(shipment.billing_address),
        "shipping_address": address_payload(shipment.shipping_address),
        "items": [
            {"order_product_id": i.order_product_id, "product_id": i.product_id, "quantity": i.quantity} for i in shipment.items
        ],
        "shipping_provider_display_name": SHIPPING_PROVIDER_NAMES.get(provider, provider),
        "generated_tracking_link": generated_tracking_link(shipment),
    }


def order_status_payload(settings: Settings, status_id: int) -> dict[str, Any]:
    status = ORDER_STATUSES[status_id]
    return {
        "id": status.id,
        "name": status.name,
        "system_label": status.name,
        "custom_label": status_label(settings, status_id),
        "system_description": status.description,
        "order": status.display_order,
    }


def store_payload(store: Store) -> dict[str, Any]:
    return {
        "id": store.store_hash,
        "account_uuid": store.account_uuid,
        "domain": store.domain,
        "secure_url": f"https://{store.domain}",
        "control_panel_base_url": f"https://store-{store.store_hash}.mybigcommerce.com",
        "status": store.status,
        "name": store.name,
        "first_name": store.first_name,
        "last_name": store.last_name,
        "address": store.name,
        "country": store.country,
        "country_code": store.country_code,
        "phone": "",
        "admin_email": store.admin_email,
        "order_email": store.order_email,
        "favicon_url": "",
        "timezone": {
            "name": store.timezone_name,
            "raw_offset": store.raw_offset,
            "dst_offset": store.raw_offset,
            "dst_correction": False,
            "date_format": {"display": "jS M Y", "export": "M jS Y", "extended_display": "M jS Y @ g:i A"},
        },
        "language": "en",
        "currency": store.currency,
        "currency_symbol": store.currency_symbol,
        "decimal_separator": ".",
        "thousands_separator": ",",
        "decimal_places": 2,
        "currency_symbol_location": "left",
        "weight_units": store.weight_units,
        "dimension_units": store.dimension_units,
        "dimension_decimal_places": 2,
        "dimension_decimal_token": ".",
        "dimension_thousands_token": ",",
        "plan_name": store.plan_name,
        "plan_level": store.plan_level,
        "plan_is_trial": False,
        "industry": "",
        "logo": [],
        "is_price_entered_with_tax": False,
        "store_id": store.store_id,
        "default_channel_id": 1,
        "default_site_id": 1000,
        "active_comparison_modules": [],
        "features": {
            "stencil_enabled": True,
            "sitewidehttps_enabled": True,
            "facebook_catalog_id": "",
            "checkout_type": "optimized",
            "wishlists_enabled": False,
            "graphql_storefront_api_enabled": True,
            "shopper_consent_tracking_enabled": False,
            "multi_storefront_enabled": False,
            "storefront_limits": {"active": 1, "total_including_inactive": 1},
        },
    }


def hook_payload(hook: Hook) -> dict[str, Any]:
    return {
        "id": hook.id,
        "client_id": hook.client_id,
        "store_hash": hook.store_hash,
        "scope": hook.scope,
        "destination": hook.destination,
        "headers": hook.headers,
        "is_active": hook.is_active,
        "created_at": hook.created_at,
        "updated_at": hook.updated_at,
    }


def api_account_payload(account: ApiAccount, origin: str) -> dict[str, Any]:
    """What the control panel shows after creating a store-level API account."""
    return {
        "name": account.name,
        "client_id": account.client_id,
        "client_secret": account.client_secret,
        "access_token": account.access_token,
        "api_path": f"{origin}/stores/{account.store_hash}/v3/",
        "store_hash": account.store_hash,
        "scopes": sorted(account.scopes),
        "created_at": account.created_at,
    }
