"""Bodies of the control API. Strict (unknown fields → 422) so a typo in a fixture fails loudly.

Order parts use Allegro's own field names (camelCase, `Price` amounts as decimal strings, the
currency set once per form), so a test reads like the checkout form it will get back.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sandbox.allegro.state import FULFILLMENT_STATUSES, PAYMENT_PROVIDERS, PAYMENT_TYPES

FulfillmentStatus = Literal[FULFILLMENT_STATUSES]  # type: ignore[valid-type]
PaymentType = Literal[PAYMENT_TYPES]  # type: ignore[valid-type]
PaymentProvider = Literal[PAYMENT_PROVIDERS]  # type: ignore[valid-type]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def shaped(self) -> dict[str, Any]:
        """As Allegro renders it: aliases, no unset optional fields."""
        return self.model_dump(by_alias=True, exclude_none=True)


def decimal_string(value: str) -> str:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"must be a decimal amount, got {value!r}") from None
    if amount != amount.quantize(Decimal("0.01")) or amount < 0:
        raise ValueError(f"must be a non-negative amount with at most 2 decimal places, got {value!r}")
    return f"{amount:.2f}"


class AppIn(Strict):
    client_id: str | None = None
    client_secret: str | None = None
    redirect_uris: list[str] = Field(default_factory=list)
    scopes: list[str] | None = None


class UserIn(Strict):
    id: str | None = None
    login: str | None = None
    email: str | None = None
    firstName: str | None = "Jan"
    lastName: str | None = "Sprzedawca"
    companyName: str | None = None
    taxId: str | None = None
    baseMarketplace: str = "allegro-pl"
    features: list[str] = Field(default_factory=list)


class TokenIn(Strict):
    user_id: str
    client_id: str | None = None
    scopes: list[str] | None = None


class BuyerAddressIn(Strict):
    street: str = "Solna 12"
    city: str = "Poznań"
    postCode: str = "60-166"
    countryCode: str = "PL"


class BuyerIn(Strict):
    id: str | None = None
    email: str | None = None
    login: str | None = None
    firstName: str | None = "Anna"
    lastName: str | None = "Kowalska"
    companyName: str | None = None
    guest: bool = False
    phoneNumber: str | None = "+48 600 100 200"
    address: BuyerAddressIn | None = Field(default_factory=BuyerAddressIn)
    language: str = "pl-PL"


class OfferExternalIn(Strict):
    id: str


class OfferIn(Strict):
    id: str | None = None
    name: str = "Koszulka bawełniana czerwona M"
    external: OfferExternalIn | None = None


class LineItemIn(Strict):
    offer: OfferIn = Field(default_factory=OfferIn)
    quantity: int = Field(1, ge=1)
    price: str = "49.99"
    originalPrice: str | None = None
    boughtAt: str | None = None

    _amounts = field_validator("price", "originalPrice")(lambda v: None if v is None else decimal_string(v))


class DeliveryAddressIn(Strict):
    firstName: str = "Anna"
    lastName: str = "Kowalska"
    street: str = "Grunwaldzka 182"
    city: str = "Poznań"
    zipCode: str = "60-166"
    countryCode: str = "PL"
    companyName: str | None = None
    phoneNumber: str | None = "600100200"


class DeliveryMethodIn(Strict):
    id: str = "7203cb90-864c-4cda-bf08-dc883f0c78ad"
    name: str = "Kurier DPD"


class PickupPointAddressIn(Strict):
    street: str = "Grunwaldzka 108"
    zipCode: str = "60-166"
    city: str = "Poznań"
    countryCode: str = "PL"


class PickupPointIn(Strict):
    id: str = "POZ08A"
    name: str = "Paczkomat POZ08A"
    description: str | None = "Stacja paliw BP"
    address: PickupPointAddressIn = Field(default_factory=PickupPointAddressIn)


class DeliveryIn(Strict):
    address: DeliveryAddressIn | None = Field(default_factory=DeliveryAddressIn)
    method: DeliveryMethodIn = Field(default_factory=DeliveryMethodIn)
    pickupPoint: PickupPointIn | None = None
    cost: str = "12.99"
    time: dict[str, Any] | None = None
    smart: bool = False
    calculatedNumberOfPackages: int = Field(1, ge=0)

    _cost = field_validator("cost")(decimal_string)


class CompanyIdIn(Strict):
    type: Literal["PL_NIP", "CZ_ICO", "CZ_DIC", "HU_ADOSZAM", "SK_ICO", "SK_IC_DPH", "VAT_EU", "OTHER"] = "PL_NIP"
    value: str


class InvoiceCompanyIn(Strict):
    name: str
    ids: list[CompanyIdIn] | None = None
    vatPayerStatus: Literal["ACTIVE", "NON_ACTIVE", "NOT_APPLICABLE"] = "NOT_APPLICABLE"
    taxId: str | None = None


class NaturalPersonIn(Strict):
    firstName: str
    lastName: str


class InvoiceAddressIn(Strict):
    street: str
    city: str
    zipCode: str
    countryCode: str = "PL"
    company: InvoiceCompanyIn | None = None
    naturalPerson: NaturalPersonIn | None = None


class InvoiceIn(Strict):
    required: bool = True
    address: InvoiceAddressIn | None = None
    dueDate: str | None = None
    features: list[str] | None = None


class PaymentIn(Strict):
    type: PaymentType = "ONLINE"
    provider: PaymentProvider | None = "P24"


class CancellationIn(Strict):
    type: Literal["BUYER_CANCELLED", "AUTO_CANCELLED"] = "BUYER_CANCELLED"
    afterPayment: bool = False


class CheckoutFormIn(Strict):
    """One (or `count`) orders, walked through the journal events of a real purchase up to `status`."""

    count: int = Field(1, ge=1, le=1000)
    id: str | None = None
    status: Literal["BOUGHT", "FILLED_IN", "READY_FOR_PROCESSING", "CANCELLED"] = "READY_FOR_PROCESSING"
    cancellation: CancellationIn | None = None
    fulfillmentStatus: FulfillmentStatus = "NEW"
    buyer: BuyerIn = Field(default_factory=BuyerIn)
    lineItems: list[LineItemIn] = Field(default_factory=lambda: [LineItemIn()], min_length=1)
    currency: str = "PLN"
    delivery: DeliveryIn | None = Field(default_factory=DeliveryIn)
    invoice: InvoiceIn | None = None
    payment: PaymentIn = Field(default_factory=PaymentIn)
    messageToSeller: str | None = None
    note: str | None = None
    marketplaceId: str = "allegro-pl"
    emitEvents: bool = True
    duplicateReadyForProcessing: int = Field(0, ge=0, le=10)


class ModifyIn(Strict):
    """A buyer's edit of the form (BUYER_MODIFIED); `emitEvent: false` bumps the revision silently."""

    delivery: DeliveryIn | None = None
    invoice: InvoiceIn | None = None
    buyer: BuyerIn | None = None
    messageToSeller: str | None = None
    note: str | None = None
    emitEvent: bool = True


class CancelIn(Strict):
    type: Literal["BUYER_CANCELLED", "AUTO_CANCELLED"] = "BUYER_CANCELLED"
    force: bool = False
    fulfillmentStatus: FulfillmentStatus | None = None


class PayIn(Strict):
    duplicateReadyForProcessing: int = Field(0, ge=0, le=10)


class FulfillmentIn(Strict):
    status: FulfillmentStatus


class EventsIn(Strict):
    """Re-emit events for a form, e.g. a duplicate READY_FOR_PROCESSING."""

    type: Literal[
        "BOUGHT",
        "FILLED_IN",
        "READY_FOR_PROCESSING",
        "BUYER_CANCELLED",
        "FULFILLMENT_STATUS_CHANGED",
        "BUYER_MODIFIED",
        "AUTO_CANCELLED",
    ] = "READY_FOR_PROCESSING"
    count: int = Field(1, ge=1, le=100)


class FaultIn(Strict):
    kind: Literal[
        "rate_limit",
        "server_error",
        "slow",
        "token_server_error",
        "expire_tokens",
        "revoke_grant",
        "stale_revision",
        "offer_conflict",
    ]
    count: int = Field(1, ge=1)
    status: int | None = Field(None, ge=500, le=599)
    retry_after: int = Field(1, ge=0)
    delay_s: float = Field(1.0, ge=0, le=120)
    path_prefix: str | None = None
    user_id: str | None = None
    checkout_form_id: str | None = None


class SettingsIn(Strict):
    access_token_ttl_s: int | None = Field(None, ge=1)
    refresh_token_ttl_s: int | None = Field(None, ge=1)
    refresh_grace_s: int | None = Field(None, ge=0)
    auth_code_ttl_s: int | None = Field(None, ge=1)
    rate_per_minute: int | None = Field(None, ge=1)
    retry_after_header: bool | None = None
    event_retention_s: int | None = Field(None, ge=1)
    approving_user_id: str | None = None
    deny_consent: bool | None = None
    require_vendor_accept: bool | None = None
    auto_sent_on_tracking: bool | None = None
    duplicate_ready_for_processing: bool | None = None
    waybill_max_orders: int | None = Field(None, ge=1)
    carriers: list[dict[str, str]] | None = None


class ClockIn(Strict):
    advance_s: float
