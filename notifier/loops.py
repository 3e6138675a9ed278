"""No mail loops: who we never write to.

Which incoming mail is never answered is decided once, from the mail itself, by intake's
reply guard (``intake.classify.reply_guard``); notifier never parses mail.
"""

from __future__ import annotations

import re

_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")

# local parts (separators removed, lower case) of robots that never read replies
_ROBOTS = {
    "mailerdaemon": "MAILER-DAEMON",
    "maildaemon": "MAILER-DAEMON",
    "postmaster": "postmaster",
    "noreply": "no-reply address",
    "noreplies": "no-reply address",
    "donotreply": "no-reply address",
    "dontreply": "no-reply address",
    "donotrespond": "no-reply address",
    "noresponse": "no-reply address",
    "bounce": "bounce address",
    "bounces": "bounce address",
    "listserv": "list address",
    "majordomo": "list address",
    "mailman": "list address",
}
_NOREPLY_PREFIX = ("noreply", "donotreply", "dontreply")
_LIST_SUFFIXES = ("-request", "-bounces", "-bounce", "-owner", "-admin", "-confirm", "-leave", "-unsubscribe")


def split_address(address: str) -> tuple[str, str] | None:
    """(local, domain) of a bare ASCII address, or None if it is not one."""
    if not address or len(address) > 254 or address.count("@") != 1:
        return None
    local, domain = address.split("@")
    if len(local) > 64 or not _LOCAL.match(local) or not _DOMAIN.match(domain):
        return None
    return local, domain


def allowed_recipient(address: str, own_addresses: frozenset[str]) -> tuple[bool, str]:
    """May an automatic mail go to *address*? ``(True, "ok")`` or ``(False, reason)``."""
    address = (address or "").strip()
    if not address:
        return False, "empty address"
    parts = split_address(address)
    if parts is None:
        return False, "malformed address"
    local, domain = parts[0].lower(), parts[1].lower()
    base = local.split("+", 1)[0]  # sub-addresses of our own box are still ours
    own = {a.strip().lower() for a in own_addresses}
    if f"{local}@{domain}" in own or f"{base}@{domain}" in own:
        return False, "our own address"
    squashed = re.sub(r"[-_.]", "", base)
    if squashed in _ROBOTS:
        return False, _ROBOTS[squashed]
    if squashed.startswith(_NOREPLY_PREFIX):
        return False, "no-reply address"
    if local.startswith("owner-") or local.endswith(_LIST_SUFFIXES) or "-bounces+" in local:
        return False, "list address"
    return True, "ok"
