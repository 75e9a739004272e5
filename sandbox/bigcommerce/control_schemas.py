"""Request bodies of the control API, strict so a typo in a test fixture fails loudly.

Money is given as decimal strings (stored as `Decimal`), dates as unix seconds, statuses by their
fixed V2 ids. Defaults describe a typical paid US order so a test only spells out what it checks.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sandbox.bigcommerce.errors import BigCommerceError
from sandbox.bigcommerce.order_statuses import ORDER_STATUSES
from sandbox.bigcommerce.scopes import KNOWN_SCOPES
from sandbox.bigcommerce.state import Address


def control_error(status: int, message: str) -> BigCommerceError:
    return BigCommerceError(status, message, shape="v3")


def to_decimal(raw: str, name: str) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise control_error(422, f"{name} must be a decimal string, got {raw!r}") from None
    if value < 0:
        raise control_error(422, f"{name} must not be negative")
    return value


def _known_status(value: int) -> int:
    if value not in ORDER_STATUSES:
        raise ValueError(f"status_id must be one of {sorted(ORDER_STATUSES)}")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StoreIn(_Strict):
    name: str = "Sandbox Store"
    store_hash: str | None = Field(None, pattern=r"^[a-z0-9]{5,16}$")
    domain: str | None = None
    first_name: str = "Jane"
    last_name: str = "Doe"
    admin_email: str = "merchant@sandbox.example"
    country: str = "United States"
    country_code: str = "US"
    currency: str = "USD"
    currency_symbol: str = "$"
    timezone_name: str = "America/Chicago"
    raw_offset: int = -21600
    weight_units: str = "Ounces"
    dimension_units: str = "Inches"
    plan_name: str = "Standard"
    plan_level: str = "Standard"


class ApiAccountIn(_Strict):
    name: str = "ChannelBridge"
    scopes: list[str] = Field(
        default_factory=lambda: ["store_v2_orders", "store_v2_products", "store_inventory", "store_v2_information_read_only"]
    )

    @field_validator("scopes")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - KNOWN_SCOPES)
        if unknown:
            raise ValueError(f"unknown scopes: {unknown}")
        return value


class AddressIn(_Strict):
    first_name: str = "Jane"
    last_name: str = "Doe"
    company: str = ""
    street_1: str = "455 Main Street"
    street_2: str = ""
    city: str = "Austin"
    state: str = "Texas"
    zip: str = "78751"
    country: str = "United States"
    country_iso2: str = "US"
    phone: str = ""
    email: str = "janedoe@example.com"

    def to_address(self) -> Address:
        return Address(**self.model_dump(include=set(Address.__dataclass_fields__)))


class ShippingAddressIn(AddressIn):
    shipping_method: str = "Flat Rate"
    cost_ex_tax: str = "0"
    cost_inc_tax: str | None = None


class OptionIn(_Strict):
    display_name: str
    display_value: str
    value: str | None = None
    type: Literal[
        "Checkbox",
        "Date field",
        "File Upload",
        "Multi-line text field",
        "Multiple choice",
        "Product Pick List",
        "Swatch",
        "Text field",
    ] = "Multiple choice"
    name: str | None = None


class ProductIn(_Strict):
    name: str = "Sandbox T-Shirt"
    sku: str = "TS-RED-M"
    quantity: int = Field(1, ge=1)
    price_ex_tax: str = "25.00"
    price_inc_tax: str | None = None
    product_id: int | None = None
    variant_id: int | None = None
    custom: bool = False  # custom products have product_id 0 and no variant_id
    type: Literal["physical", "digital", "giftcertificate"] = "physical"
    weight: str = "1"
    upc: str = ""
    options: list[OptionIn] = Field(default_factory=list)
    address_index: int = Field(0, ge=0)


class OrderIn(_Strict):
    count: int = Field(1, ge=1, le=1000)
    status_id: int = 11
    customer_id: int = 0
    date_created: int | None = None
    date_modified: int | None = None
    currency_code: str | None = None
    payment_method: str = "Credit Card"
    payment_status: str | None = None
    billing_address: AddressIn | None = Field(default_factory=AddressIn)
    shipping_addresses: list[ShippingAddressIn] = Field(default_factory=lambda: [ShippingAddressIn()])
    products: list[ProductIn] = Field(default_factory=lambda: [ProductIn()], min_length=1)
    shipping_cost_ex_tax: str = "0"
    shipping_cost_inc_tax: str | None = None
    discount_amount: str = "0"
    customer_message: str = ""
    staff_notes: str = ""
    channel_id: int = 1
    order_source: str = "www"
    external_source: str | None = None
    external_order_id: str = ""
    emit_webhooks: bool = True

    @field_validator("status_id")
    @classmethod
    def _status(cls, value: int) -> int:
        return _known_status(value)


class StatusIn(_Strict):
    status_id: int

    @field_validator("status_id")
    @classmethod
    def _status(cls, value: int) -> int:
        return _known_status(value)


class SettingsIn(_Strict):
    rate_limit_quota: int | None = Field(None, ge=1)
    rate_limit_window_ms: int | None = Field(None, ge=1)
    webhook_retry_delays_s: list[float] | None = None
    webhook_timeout_s: float | None = Field(None, gt=0)
    webhook_require_https: bool | None = None
    orders_max_limit: int | None = Field(None, ge=1)
    status_custom_labels: dict[int, str] | None = None
    public_origin: str | None = None


class FaultIn(_Strict):
    kind: Literal["rate_limit", "server_error", "slow", "revoke_token"]
    count: int = Field(1, ge=1)
    status: int | None = Field(None, ge=500, le=599)
    reset_ms: int = Field(1000, ge=1)
    with_quota_headers: bool = False
    delay_s: float = Field(1.0, ge=0, le=120)
    path_prefix: str = "/stores/"
    access_token: str | None = None


class ClockIn(_Strict):
    advance_s: float
