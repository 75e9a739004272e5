"""Our free-text carrier names → Allegro carrier ids (`GET /order/carriers`). Pure; the client caches the list.

Allegro can follow a parcel only when the shipment names one of its carrier ids, so a name that matches
an id or a display name (ignoring case, spaces, underscores and dashes: "poczta polska" = "POCZTA_POLSKA")
uses it. Anything else goes as `OTHER` with our name in `carrierName`, which Allegro shows the buyer
and caps at 30 characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

OTHER = "OTHER"
CARRIER_NAME_MAX_CHARS = 30  # `CheckoutFormAddWaybillRequest.carrierName.maxLength`


@dataclass(frozen=True)
class CarrierChoice:
    """What a shipment sends: `carrier_id`, plus `carrier_name` only with OTHER."""

    carrier_id: str
    carrier_name: str | None = None

    @property
    def label(self) -> str:
        """How we report what was sent: the id, or the free-text name Allegro shows for OTHER."""
        return f"{OTHER} ({self.carrier_name})" if self.carrier_id == OTHER and self.carrier_name else self.carrier_id


def carrier_key(name: str) -> str:
    return re.sub(r"[\s_.\-]+", " ", name.strip().casefold()).strip()


class CarrierDirectory:
    """The carriers of one `GET /order/carriers` answer, looked up by id or name."""

    def __init__(self, carriers: Iterable[Mapping[str, Any]]) -> None:
        entries = [
            (carrier["id"], carrier.get("name"))
            for carrier in carriers
            if isinstance(carrier.get("id"), str) and carrier["id"].strip()
        ]
        self._by_key: dict[str, str] = {}
        # Ids first, so a display name that happens to equal another carrier's id never shadows it.
        for carrier_id, _ in entries:
            self._by_key.setdefault(carrier_key(carrier_id), carrier_id)
        for carrier_id, name in entries:
            if isinstance(name, str) and name.strip():
                self._by_key.setdefault(carrier_key(name), carrier_id)

    @classmethod
    def from_response(cls, body: Mapping[str, Any]) -> CarrierDirectory:
        """From `OrdersShippingCarriersResponse`; entries without an id are skipped."""
        carriers = body.get("carriers")
        return cls([c for c in carriers if isinstance(c, Mapping)] if isinstance(carriers, list) else [])

    def __len__(self) -> int:
        return len(set(self._by_key.values()))

    def choose(self, carrier: str) -> CarrierChoice:
        """Our carrier name → Allegro's id, or OTHER + the name (trimmed to Allegro's 30 characters).

        Raises ValueError for a blank name: OTHER without a name tells the buyer nothing.
        """
        name = " ".join(carrier.split())
        if not name:
            raise ValueError("carrier is empty: Allegro needs a carrier id or, for OTHER, a carrier name")
        known = self._by_key.get(carrier_key(name))
        if known is not None and known != OTHER:
            return CarrierChoice(known)
        return CarrierChoice(OTHER, name[:CARRIER_NAME_MAX_CHARS].rstrip())
