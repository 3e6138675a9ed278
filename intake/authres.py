"""Sender authentication as our own mail server saw it (Authentication-Results, RFC 8601).

Anyone can write an Authentication-Results header, so only one is believed: the
topmost whose authserv-id is configured as ours (``mailbox.trusted_authserv_ids``).
A receiving server adds its header on top of the message, above anything the sender
wrote (and a well-configured one removes foreign headers that claim its id). From that
header come the SPF, DKIM and DMARC verdicts, and whether SPF and DKIM are aligned with
the From domain (the domain people see).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# second-level labels under which organisations register (example.com.cn, sd.gov.cn)
_PUBLIC_SECOND = frozenset({"com", "net", "org", "gov", "edu", "ac", "co", "mil"})
_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"^\s*([a-z0-9_-]+)\s*=\s*([a-z]+)", re.I)
_PROPERTY = re.compile(r"([a-z0-9_-]+)\.([a-z0-9_-]+)\s*=\s*(\"[^\"]*\"|[^\s;]+)", re.I)
MAX_HEADER = 8192  # one header's worth of text: a longer one is not ours


@dataclass(frozen=True)
class SenderAuth:
    """The verdicts our server recorded for one message (None: not evaluated)."""

    trusted: bool = False  # a header from one of our servers was found
    spf: str | None = None  # pass | fail | softfail | neutral | none | temperror | permerror
    dkim: str | None = None  # the best DKIM result (pass beats the rest)
    dmarc: str | None = None
    spf_aligned: bool = False  # SPF passed for the From domain (or its organisation)
    dkim_aligned: bool = False  # a passing DKIM signature of the From domain (or its organisation)

    @property
    def verified(self) -> bool:
        """DMARC pass, or an aligned DKIM/SPF pass: the From domain really sent it."""
        return self.dmarc == "pass" or (self.dkim == "pass" and self.dkim_aligned) or (
            self.spf == "pass" and self.spf_aligned)

    @property
    def forged(self) -> bool:
        """Our server says the From is not who sent it: never answer automatically."""
        return self.spf == "fail" or self.dmarc == "fail"

    def summary(self) -> str:
        if not self.trusted:
            return "no trusted Authentication-Results"
        return f"spf={self.spf or '-'} dkim={self.dkim or '-'} dmarc={self.dmarc or '-'}"


def organisation(domain: str) -> str:
    """The registrable part of *domain*: mail.dsj.jinan.gov.cn → jinan.gov.cn (approximate)."""
    labels = [p for p in domain.lower().strip(".").split(".") if p]
    if len(labels) >= 3 and labels[-2] in _PUBLIC_SECOND and len(labels[-1]) == 2:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def aligned(domain: str | None, from_domain: str) -> bool:
    """Relaxed alignment (DMARC): the same organisational domain."""
    return bool(domain) and organisation(domain or "") == organisation(from_domain)


def _authserv_id(value: str) -> str:
    head = _COMMENT.sub(" ", value.split(";", 1)[0]).strip()
    return head.split()[0].lower() if head else ""


def _domain_of(value: str) -> str:
    value = value.strip().strip('"').lower()
    return value.rsplit("@", 1)[-1]


def parse(values: Iterable[str], trusted_ids: Iterable[str], from_addr: str | None) -> SenderAuth:
    """Verdicts from the topmost Authentication-Results header of a trusted server.

    *values* are the header values in the order they appear (topmost first).
    """
    trusted = {t.lower() for t in trusted_ids}
    if not trusted:
        return SenderAuth()
    for value in values:
        value = " ".join(value[:MAX_HEADER].split())
        if _authserv_id(value) in trusted:
            return _verdicts(value, _domain_of(from_addr or ""))
    return SenderAuth()


def _verdicts(value: str, from_domain: str) -> SenderAuth:
    spf = dkim = dmarc = None
    spf_aligned = dkim_aligned = False
    for resinfo in _COMMENT.sub(" ", value).split(";")[1:]:
        m = _RESULT.match(resinfo)
        if not m:
            continue
        method, result = m.group(1).lower(), m.group(2).lower()
        props = {f"{t.lower()}.{p.lower()}": _domain_of(v) for t, p, v in _PROPERTY.findall(resinfo[m.end():])}
        if method == "spf" and spf is None:
            spf = result
            domain = props.get("smtp.mailfrom") or props.get("smtp.helo")
            spf_aligned = result == "pass" and aligned(domain, from_domain)
        elif method == "dkim":
            d = props.get("header.d") or props.get("header.i")
            if result == "pass" and aligned(d, from_domain):
                dkim, dkim_aligned = "pass", True
            elif dkim != "pass":
                dkim = "pass" if result == "pass" else (dkim or result)
        elif method == "dmarc" and dmarc is None:
            header_from = props.get("header.from")
            # a DMARC verdict about another domain says nothing about this From
            if header_from is None or organisation(header_from) == organisation(from_domain):
                dmarc = result
    return SenderAuth(True, spf, dkim, dmarc, spf_aligned, dkim_aligned)
