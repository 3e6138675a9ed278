"""The one answer to "is this host loopback?" — where plain IMAP or SMTP is allowed.

Both ``intake`` (the IMAP source) and ``notifier`` (the SMTP transport) ask it, so it
lives here, below both: a password or an applicant's mail crosses no network in clear
text, and the two directions never disagree about what "loopback" means.
"""

from __future__ import annotations

import ipaddress

__all__ = ["is_loopback"]

_NAMES = frozenset({"localhost", "localhost.localdomain"})


def is_loopback(host: str) -> bool:
    """True for ``localhost``, any address in 127.0.0.0/8, ``::1`` and ``[::1]`` (as a URL writes it).

    Names other than ``localhost`` are not resolved: a name that happens to point at
    127.0.0.1 today is not trusted with a password in clear text.
    """
    name = host.strip().lower().rstrip(".")
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if name in _NAMES:
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback  # ::ffff:127.0.0.1
    return address.is_loopback
