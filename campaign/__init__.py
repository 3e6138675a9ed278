"""The round's catalogue: what the notice decides, as data. Imports nothing of ours.

Modules
    catalogue  directions (names, aliases), task types and outcomes, limits, deadlines,
               channels, cities; ``SHANDONG_2025`` is the default round
    codes      every deficiency code: severity, scope, title, fix (declared once)
    policy     ``RoundPolicy``: the catalogue plus this deployment's role, cities, addresses
    active     the catalogue in force (``current``; ``using`` scopes one piece of work)
    clock      the one clock and time formatter (UTC stored, the round's zone shown)
    labels     every Chinese label for our codes (states, kinds, channels, directions)

intake, notifier and tracker all read it; it reads none of them.
"""

from campaign.active import current, using
from campaign.catalogue import (
    CHANNELS,
    DEADLINE_KEYS,
    SHANDONG_2025,
    SHANDONG_CITIES,
    Catalogue,
    Direction,
    TaskType,
    cn_number,
)
from campaign.codes import CODES, DeficiencyCode, code, codes_in
from campaign.policy import CityBureau, RoundPolicy

__all__ = [
    "CHANNELS", "CODES", "DEADLINE_KEYS", "SHANDONG_2025", "SHANDONG_CITIES", "Catalogue", "CityBureau",
    "DeficiencyCode", "Direction", "RoundPolicy", "TaskType", "cn_number", "code", "codes_in",
    "current", "using",
]
