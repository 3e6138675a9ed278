"""What the intake pipeline needs to know about the round (built from config by tracker)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class CityBureau:
    name: str  # "济南市"
    bureau_emails: tuple[str, ...] = ()
    contact: str = ""
    phone: str = ""


@dataclass(frozen=True)
class RoundPolicy:
    """The round's rules as intake sees them; immutable, no I/O."""

    code: str = "JB2025"
    timezone: str = "Asia/Shanghai"
    # keys: "direct", "city_applicant", "city_bureau"
    deadlines: dict[str, date] = field(default_factory=dict)
    cities: dict[str, CityBureau] = field(default_factory=dict)
    own_addresses: frozenset[str] = frozenset()
    role: str = "province"
    city: str | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def deadline_end(self, key: str) -> datetime | None:
        """The last instant of a deadline day (23:59:59.999999 local time), or None."""
        day = self.deadlines.get(key)
        if day is None:
            return None
        return datetime.combine(day, time.max, tzinfo=self.tz)

    def deadline_key(self, channel: str | None) -> str:
        """Which deadline applies: a city's own instance has one; the province has two."""
        if self.role == "city":
            return "city_applicant"
        return "city_bureau" if channel == "via_city" else "direct"

    def city_for_sender(self, address: str) -> str | None:
        address = address.strip().lower()
        for name, bureau in self.cities.items():
            if address in (e.lower() for e in bureau.bureau_emails):
                return name
        return None
