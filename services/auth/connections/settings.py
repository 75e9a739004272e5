"""Per-connection settings: defaults, the one rule that combines them, and an audit of every change.

Only values a merchant changed are stored; reading merges them over the defaults, so a new setting
with a default needs no data migration.
"""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field, StrictBool
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth.connections import repository as repo
from shared.web.identity import Identity
from shared.web.iso_time import IsoDate


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid")

    city: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    region: str | None = Field(None, max_length=100)


class ConnectionSettings(BaseModel):
    """What a connection does with what it downloads."""

    model_config = ConfigDict(extra="forbid")

    auto_import_orders: bool = Field(True, description="sync orders on the schedule (a manual sync always runs)")
    import_archived_orders_since: IsoDate | None = Field(
        None, description="also import orders placed since this date, as history (`order.imported`)")
    update_stock_after_sale: bool = Field(True, description="carried on `order.paid` as `update_stock`")
    send_order_confirmation: bool = Field(False, description="emit `order.confirmation_requested` for new orders")
    register_buyers_as_customers: bool = Field(False, description="emit `customer.registered` once per buyer e-mail")
    location: Location | None = None


class SettingsPatch(BaseModel):
    """Only the fields present change; `null` resets a nullable one (a switch is true or false, never null).

    Switches are strict booleans: "yes" or 1 is a 422, not a guess.
    """

    model_config = ConfigDict(extra="forbid")

    auto_import_orders: StrictBool = None
    import_archived_orders_since: IsoDate | None = None
    update_stock_after_sale: StrictBool = None
    send_order_confirmation: StrictBool = None
    register_buyers_as_customers: StrictBool = None
    location: Location | None = None


class SettingsConflict(Exception):
    """A combination of settings we refuse, with the reason in the merchant's terms."""


def effective(stored: dict) -> ConnectionSettings:
    return ConnectionSettings.model_validate(stored or {})


def _check(settings: ConnectionSettings) -> None:
    if settings.import_archived_orders_since is not None and settings.send_order_confirmation:
        raise SettingsConflict(
            "an archive import together with order confirmations would e-mail buyers of old orders: "
            "turn off send_order_confirmation, or remove import_archived_orders_since")


async def change_settings(session: AsyncSession, identity: Identity, connection_id: uuid.UUID,
                          patch: SettingsPatch) -> ConnectionSettings:
    """Apply `patch`, refuse forbidden combinations, and audit each changed value (who, when, old → new).

    The row is locked while merging, so two concurrent changes cannot overwrite each other's fields.
    """
    connection = await repo.get_connection(session, connection_id, for_update=True)
    current = effective(connection["settings"])
    changes = patch.model_dump(mode="json", exclude_unset=True)
    updated = ConnectionSettings.model_validate({**current.model_dump(mode="json"), **changes})
    try:
        _check(updated)
    except SettingsConflict:
        await session.rollback()
        raise
    before, after = current.model_dump(mode="json"), updated.model_dump(mode="json")
    changed = {name: (before[name], after[name]) for name in changes if before[name] != after[name]}
    if changed:
        stored = updated.model_dump(mode="json", exclude_defaults=True)
        await repo.update_connection(session, connection["id"], settings=stored)
        await repo.add_settings_audit(session, connection["id"], identity.client_id, changed)
    await session.commit()
    return updated


async def audit_trail(session: AsyncSession, connection_id: uuid.UUID) -> list[dict]:
    return [dict(row) for row in await repo.settings_audit(session, connection_id)]
