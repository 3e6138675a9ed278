"""No mail loops: who we never write to, and which incoming mail we never answer.

Pure functions over strings and plain mappings — notifier never parses mail; the
tracker hands over the incoming message's headers as a ``{name: value}`` mapping.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

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


def headers_forbid_reply(headers: Mapping[str, str]) -> str | None:
    """Why an incoming message must not get an automatic answer, or None (RFC 3834 §2)."""
    h = {str(k).strip().lower(): str(v or "").strip() for k, v in headers.items()}
    auto = h.get("auto-submitted", "").lower()
    if auto and auto.split(";", 1)[0].strip() != "no":
        return f"Auto-Submitted: {auto}"
    precedence = h.get("precedence", "").lower()
    if precedence in ("bulk", "junk", "list", "auto_reply", "auto-reply"):
        return f"Precedence: {precedence}"
    for name in ("list-id", "list-unsubscribe", "list-post", "x-autoreply", "x-autorespond",
                 "x-auto-reply", "x-loop", "feedback-type"):
        if name in h:
            return f"{name} header present"
    suppress = h.get("x-auto-response-suppress", "").lower()
    if any(word in suppress for word in ("all", "autoreply", "oof")):
        return f"X-Auto-Response-Suppress: {suppress}"
    if "return-path" in h and h["return-path"].strip("<> ") == "":
        return "empty Return-Path (a bounce)"
    if h.get("content-type", "").lower().startswith("multipart/report"):
        return "delivery or disposition report"
    return None
