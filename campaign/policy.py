"""The round as one deployment sees it: the catalogue plus who we are and who the cities are."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from campaign.catalogue import SHANDONG_2025, Catalogue


@dataclass(frozen=True)
class CityBureau:
    name: str  # "济南市"
    bureau_emails: tuple[str, ...] = ()
    contact: str = ""
    phone: str = ""


@dataclass(frozen=True)
class RoundPolicy:
    """The round's rules for this deployment; immutable, no I/O."""

    catalogue: Catalogue = SHANDONG_2025
    cities: dict[str, CityBureau] = field(default_factory=dict)
    own_addresses: frozenset[str] = frozenset()
    role: str = "province"
    city: str | None = None
    # Authentication-Results from these servers are believed (mailbox.trusted_authserv_ids)
    trusted_authserv_ids: frozenset[str] = frozenset()

    # the round's facts, read through from the catalogue
    @property
    def code(self) -> str:
        return self.catalogue.code

    @property
    def timezone(self) -> str:
        return self.catalogue.timezone

    @property
    def deadlines(self) -> Mapping[str, date]:
        return self.catalogue.deadlines

    @property
    def tz(self) -> ZoneInfo:
        return self.catalogue.tz

    def deadline_end(self, key: str) -> datetime | None:
        return self.catalogue.deadline_end(key)

    def deadline_key(self, channel: str | None) -> str:
        """Which deadline applies: a city's own instance has one; the province has two."""
        if self.role == "city":
            return "city_applicant"
        return "city_bureau" if channel == "via_city" else "direct"

    def deadline_for(self, channel: str | None) -> date | None:
        return self.deadlines.get(self.deadline_key(channel))

    def is_late(self, received_at: datetime | None, channel: str | None) -> bool:
        """Arrived after the end of the deadline day that applies to *channel*."""
        if received_at is None or channel is None:
            return False
        end = self.deadline_end(self.deadline_key(channel))
        received = received_at if received_at.tzinfo else received_at.replace(tzinfo=UTC)
        return end is not None and received > end

    def city_for_sender(self, address: str) -> str | None:
        address = address.strip().lower()
        for name, bureau in self.cities.items():
            if address in (e.lower() for e in bureau.bureau_emails):
                return name
        return None
