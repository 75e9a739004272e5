"""Request and response bodies of the auth API (pydantic v2)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from services.auth.scopes import KNOWN_SCOPES, format_scopes

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class MerchantIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "Acme Crafts Ltd"}]})

    name: Name


class MerchantOut(BaseModel):
    id: uuid.UUID
    name: str
    created_at: datetime


class MerchantPage(BaseModel):
    items: list[MerchantOut]
    next_cursor: str | None


class ClientIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "Acme warehouse integration", "merchant_id": "6f1c2b9e-8a4d-4e3f-9b7a-2c5d8e1f4a60",
         "scopes": ["orders:read", "fulfilment:write"]},
        {"name": "ops console", "merchant_id": None, "scopes": ["admin"]},
    ]})

    name: Name
    merchant_id: uuid.UUID | None = Field(None, description="the tenant; null only for an admin client")
    scopes: list[str] = Field(min_length=1, description=f"any of: {format_scopes(KNOWN_SCOPES)}")

    @field_validator("scopes")
    @classmethod
    def _known_scopes(cls, scopes: list[str]) -> list[str]:
        unknown = sorted(set(scopes) - KNOWN_SCOPES)
        if unknown:
            raise ValueError(f"unknown scope(s) {', '.join(unknown)}; known: {format_scopes(KNOWN_SCOPES)}")
        return sorted(set(scopes))


class ClientOut(BaseModel):
    id: uuid.UUID
    client_id: str
    name: str
    merchant_id: uuid.UUID | None
    scopes: list[str]
    created_at: datetime
    disabled_at: datetime | None


class ClientCreated(BaseModel):
    """The only answer that ever carries the client secret."""

    id: uuid.UUID
    client_id: str
    client_secret: str
    name: str
    merchant_id: uuid.UUID | None
    scopes: list[str]
    created_at: datetime


class ClientPage(BaseModel):
    items: list[ClientOut]
    next_cursor: str | None


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    scope: str


class TokenError(BaseModel):
    error: str
    error_description: str


class Jwks(BaseModel):
    keys: list[dict]
