"""Spec-shaped JSON built from state (schemas `ShopReceipt`, `Shop`, `Self`, `Money`, ...).

Every property the 2025 spec lists for these schemas is emitted, with `null` only where the
spec marks the field nullable, so clients meet the same shapes (and the same gaps, e.g. a
null `buyer_email` or `sku`) as in production.
"""

from __future__ import annotations

from typing import Any

from sandbox.etsy.state import Receipt, Refund, Shipment, Shop, Transaction, User

DIVISOR = 100


def money(amount: int, currency_code: str) -> dict[str, Any]:
    return {"amount": amount, "divisor": DIVISOR, "currency_code": currency_code}


def self_payload(user: User, shop: Shop | None) -> dict[str, Any]:
    body: dict[str, Any] = {"user_id": user.user_id}
    if shop is not None:
        body["shop_id"] = shop.shop_id
    return body


def shop_payload(shop: Shop, user: User, listing_count: int = 0, sold_count: int = 0) -> dict[str, Any]:
    return {
        "shop_id": shop.shop_id,
        "user_id": shop.user_id,
        "shop_name": shop.shop_name,
        "create_date": shop.created,
        "created_timestamp": shop.created,
        "title": shop.title,
        "announcement": None,
        "currency_code": shop.currency_code,
        "is_vacation": False,
        "vacation_message": None,
        "sale_message": None,
        "digital_sale_message": None,
        "update_date": shop.updated,
        "updated_timestamp": shop.updated,
        "listing_active_count": listing_count,
        "digital_listing_count": 0,
        "login_name": user.login_name,
        "accepts_custom_requests": False,
        "policy_welcome": None,
        "policy_payment": None,
        "policy_shipping": None,
        "policy_refunds": None,
        "policy_additional": None,
        "policy_seller_info": None,
        "policy_update_date": shop.created,
        "policy_has_private_receipt_info": False,
        "has_unstructured_policies": False,
        "policy_privacy": None,
        "vacation_autoreply": None,
        "url": f"https://www.etsy.com/shop/{shop.shop_name}",
        "image_url_760x100": None,
        "num_favorers": 0,
        "languages": ["en-US"],
        "icon_url_fullxfull": None,
        "is_using_structured_policies": True,
        "has_onboarded_structured_policies": True,
        "include_dispute_form_link": False,
        "is_direct_checkout_onboarded": True,
        "is_etsy_payments_onboarded": True,
        "is_calculated_eligible": True,
        "is_opted_in_to_buyer_promise": False,
        "is_shop_us_based": shop.country_iso == "US",
        "transaction_sold_count": sold_count,
        "shipping_from_country_iso": shop.country_iso,
        "shop_location_country_iso": shop.country_iso,
        "review_count": 0,
        "review_average": None,
    }


def shipment_payload(shipment: Shipment) -> dict[str, Any]:
    return {
        "receipt_shipping_id": shipment.receipt_shipping_id,
        "shipment_notification_timestamp": shipment.shipment_notification_timestamp,
        "carrier_name": shipment.carrier_name,
        "tracking_code": shipment.tracking_code,
    }


def refund_payload(refund: Refund, currency_code: str) -> dict[str, Any]:
    return {
        "amount": money(refund.amount, currency_code),
        "created_timestamp": refund.created_timestamp,
        "reason": refund.reason,
        "note_from_issuer": refund.note_from_issuer,
        "status": refund.status,
    }


def transaction_payload(tx: Transaction, receipt: Receipt) -> dict[str, Any]:
    return {
        "transaction_id": tx.transaction_id,
        "title": tx.title,
        "description": tx.description,
        "seller_user_id": receipt.seller_user_id,
        "buyer_user_id": receipt.buyer_user_id,
        "create_timestamp": receipt.created,
        "created_timestamp": receipt.created,
        "paid_timestamp": receipt.paid_timestamp,
        "shipped_timestamp": tx.shipped_timestamp,
        "quantity": tx.quantity,
        "listing_image_id": None,
        "receipt_id": receipt.receipt_id,
        "is_digital": tx.is_digital,
        "file_data": "",
        "listing_id": tx.listing_id,
        "transaction_type": "listing",
        "product_id": tx.product_id,
        "sku": tx.sku,
        "price": money(tx.price, receipt.currency_code),
        "shipping_cost": money(tx.shipping_cost, receipt.currency_code),
        "variations": [
            {
                "property_id": v.property_id,
                "value_id": v.value_id,
                "formatted_name": v.formatted_name,
                "formatted_value": v.formatted_value,
            }
            for v in tx.variations
        ],
        "product_data": [],
        "shipping_profile_id": None,
        "min_processing_days": None,
        "max_processing_days": None,
        "shipping_method": None,
        "shipping_upgrade": None,
        "expected_ship_date": receipt.created + 3 * 86_400,
        "buyer_coupon": 0.0,
        "shop_coupon": 0.0,
    }


def formatted_address(r: Receipt) -> str | None:
    if r.first_line is None:
        return None
    lines = [r.name, r.first_line, r.second_line, " ".join(p for p in (r.city, r.state, r.zip) if p)]
    lines.append(r.country_iso or "")
    return "\n".join(line for line in lines if line)


def receipt_payload(r: Receipt, seller: User) -> dict[str, Any]:
    cur = r.currency_code
    return {
        "receipt_id": r.receipt_id,
        "receipt_type": 0,
        "seller_user_id": r.seller_user_id,
        "seller_email": seller.primary_email,
        "buyer_user_id": r.buyer_user_id,
        "buyer_email": r.buyer_email,
        "name": r.name,
        "first_line": r.first_line,
        "second_line": r.second_line,
        "city": r.city,
        "state": r.state,
        "zip": r.zip,
        "status": r.status,
        "formatted_address": formatted_address(r),
        "country_iso": r.country_iso,
        "payment_method": r.payment_method,
        "payment_email": r.payment_email,
        "message_from_seller": r.message_from_seller,
        "message_from_buyer": r.message_from_buyer,
        "message_from_payment": None,
        "is_paid": r.is_paid,
        "is_shipped": r.is_shipped,
        "create_timestamp": r.created,
        "created_timestamp": r.created,
        "update_timestamp": r.updated,
        "updated_timestamp": r.updated,
        "is_gift": r.is_gift,
        "gift_message": r.gift_message,
        "gift_sender": r.gift_sender,
        "grandtotal": money(r.grandtotal, cur),
        "subtotal": money(r.total_price - r.discount_amt, cur),
        "total_price": money(r.total_price, cur),
        "total_shipping_cost": money(r.total_shipping_cost, cur),
        "total_tax_cost": money(r.total_tax_cost, cur),
        "total_vat_cost": money(r.total_vat_cost, cur),
        "discount_amt": money(r.discount_amt, cur),
        "gift_wrap_price": money(r.gift_wrap_price, cur),
        "shipments": [shipment_payload(s) for s in r.shipments],
        "transactions": [transaction_payload(t, r) for t in r.transactions],
        "refunds": [refund_payload(f, cur) for f in r.refunds],
    }
