"""Request and response bodies of the connections API. Tokens never appear in any of them but one: the
internal access-token answer."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.auth.connections.settings import ConnectionSettings, SettingsPatch
from shared.events.payloads import Marketplace
from shared.statuses import ConnectionStatus


class ApiCredentials(BaseModel):
    """A BigCommerce store-level API account, as the merchant copies it from the control panel."""

    model_config = ConfigDict(extra="forbid")

    api_path: str = Field(min_length=1, max_length=500, examples=["https://api.bigcommerce.com/stores/abc123/v3/"])
    client_id: str = Field(min_length=1, max_length=200)
    client_secret: str = Field(min_length=1, max_length=200, repr=False,
                               description="stored sealed: it keys the signatures on BigCommerce's webhook deliveries")
    access_token: str = Field(min_length=1, max_length=500, repr=False)


class ConnectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"marketplace": "etsy", "merchant_id": "6f1c2b9e-8a4d-4e3f-9b7a-2c5d8e1f4a60"},
        {"marketplace": "bigcommerce", "merchant_id": "6f1c2b9e-8a4d-4e3f-9b7a-2c5d8e1f4a60",
         "credentials": {"api_path": "https://api.bigcommerce.com/stores/abc123/v3/",
                         "client_id": "5kxw0q1c9j3m8n2p7r4t6v", "client_secret": "b1f0c3e2d5a4978665f4e3d2c1b0a9f8",
                         "access_token": "q8w7e6r5t4y3u2i1o0p9a8s7d6f5g4h"}},
    ]})

    marketplace: Marketplace
    merchant_id: uuid.UUID = Field(description="the tenant; a tenant client may only name its own merchant")
    credentials: ApiCredentials | None = Field(None, description="required for bigcommerce; OAuth marketplaces take none")


class ConnectionOut(BaseModel):
    id: uuid.UUID
    merchant_id: uuid.UUID
    marketplace: str
    status: ConnectionStatus
    status_reason: str | None
    shop_id: str | None
    shop_name: str | None
    created_at: datetime
    updated_at: datetime
    connected_at: datetime | None
    disconnected_at: datetime | None
    settings: ConnectionSettings
    granted_scopes: list[str] | None = Field(None, description="API-credential connections only")
    missing_scopes: list[str] | None = Field(None, description="what to add to the API account (needs_attention)")


class ConnectionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"settings": {"auto_import_orders": True, "send_order_confirmation": False,
                      "location": {"city": "Kraków", "postal_code": "30-001", "region": "Małopolskie"}}},
        {"settings": {"import_archived_orders_since": "2026-01-01", "register_buyers_as_customers": False}},
    ]})

    settings: SettingsPatch


class SettingsChange(BaseModel):
    changed_by: str
    changed_at: datetime
    setting: str
    old_value: object
    new_value: object


class ConnectionStarted(BaseModel):
    id: uuid.UUID
    merchant_id: uuid.UUID
    marketplace: str
    status: ConnectionStatus
    authorization_url: str = Field(description="send the merchant here to approve the connection")
    authorization_expires_at: datetime
    created_at: datetime


class ConnectionPage(BaseModel):
    items: list[ConnectionOut]
    next_cursor: str | None


class ConnectionAuthorized(BaseModel):
    """What the merchant's browser sees after approving at the marketplace."""

    id: uuid.UUID
    status: ConnectionStatus
    shop_id: str | None
    shop_name: str | None


class InternalConnection(BaseModel):
    id: uuid.UUID
    merchant_id: uuid.UUID
    marketplace: str
    status: ConnectionStatus
    shop_id: str | None
    shop_name: str | None
    settings: ConnectionSettings


class AccessTokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    force_refresh: bool = Field(False, description="refresh even if the token looks valid (after a 401)")


class AccessTokenOut(BaseModel):
    access_token: str
    expires_at: datetime | None = Field(description="null: API credentials that never expire")


class SigningSecretOut(BaseModel):
    signing_secret: str | None
