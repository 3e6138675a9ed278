"""Sender authentication as our own mail server saw it (Authentication-Results, RFC 8601).

Anyone can write an Authentication-Results header, so only those whose authserv-id is
configured as ours (``mailbox.trusted_authserv_ids``) are believed. A receiving server
adds its headers on top of the message, above anything the sender wrote, and removes
foreign headers that claim its id (RFC 8601 §5). Milters write one header each (SPF,
DKIM and DMARC separately), so every trusted header is read and their verdicts combined:
a fail anywhere wins over a pass elsewhere. From them come the SPF, DKIM and DMARC
verdicts, and whether SPF and DKIM passed for the From domain (the domain people see).

The header is read with a tokenizer of RFC 8601's grammar: comments (nested) are
skipped, quoted strings are values, never separators — a ``;`` inside
``smtp.mailfrom="x;dmarc=pass"@evil.example`` starts no new verdict.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# second-level labels under which organisations register (example.com.cn, sd.gov.cn)
_PUBLIC_SECOND = frozenset({"com", "net", "org", "gov", "edu", "ac", "co", "mil"})
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


_TSPECIALS = frozenset('()<>@,;:\\"/[]?=')
_SPACE = frozenset(" \t\r\n")


@dataclass(frozen=True)
class _Token:
    kind: str  # "word" | "quoted" | "special"
    text: str
    spaced: bool  # whitespace or a comment came before it


def _lex(value: str) -> list[_Token]:
    """RFC 8601 tokens: words (RFC 2045 tokens, dots included), quoted strings, specials.
    Comments are skipped (nested, with quoted-pairs); an unterminated one ends the header."""
    out: list[_Token] = []
    i, n, spaced = 0, len(value), True
    while i < n:
        c = value[i]
        if c in _SPACE:
            i, spaced = i + 1, True
        elif c == "(":
            depth = 0
            while i < n:
                ch = value[i]
                if ch == "\\":
                    i += 2
                    continue
                depth += ch == "("
                depth -= ch == ")"
                i += 1
                if depth == 0:
                    break
            spaced = True
        elif c == '"':
            j, text = i + 1, []
            while j < n and value[j] != '"':
                if value[j] == "\\" and j + 1 < n:
                    j += 1
                text.append(value[j])
                j += 1
            out.append(_Token("quoted", "".join(text), spaced))
            i, spaced = j + 1, False
        elif c in _TSPECIALS:
            out.append(_Token("special", c, spaced))
            i, spaced = i + 1, False
        else:
            j = i
            while j < n and value[j] not in _TSPECIALS and value[j] not in _SPACE:
                j += 1
            out.append(_Token("word", value[i:j], spaced))
            i, spaced = j, False
    return out


@dataclass(frozen=True)
class _Result:
    method: str
    result: str
    props: dict[str, str]  # "smtp.mailfrom" → the domain of its value


def _pvalue_domain(tokens: list[_Token]) -> str:
    """The domain of a property value: what follows its last unquoted ``@``, else all of it."""
    text = [t.text for t in tokens]
    ats = [k for k, t in enumerate(tokens) if t.kind == "special" and t.text == "@"]
    domain = "".join(text[ats[-1] + 1:]) if ats else "".join(text)
    return domain.strip().lower()


def _resinfo(tokens: list[_Token]) -> _Result | None:
    """``method[/version] = result [reason=…] ptype.property=value …``; None if malformed."""
    k, n = 0, len(tokens)
    if n < 3 or tokens[0].kind != "word":
        return None
    method = tokens[0].text.lower()
    k = 1
    if k + 1 < n and tokens[k].text == "/" and tokens[k + 1].kind == "word":
        k += 2  # a method version
    if k + 1 >= n or tokens[k].text != "=" or tokens[k + 1].kind != "word":
        return None
    result = tokens[k + 1].text.lower()
    k += 2
    props: dict[str, str] = {}
    while k < n:
        name = tokens[k]
        if name.kind != "word" or k + 2 >= n or tokens[k + 1].text != "=" or tokens[k + 1].kind != "special":
            k += 1
            continue
        k += 2
        value = [tokens[k]]
        k += 1
        while k < n and not tokens[k].spaced and not (tokens[k].kind == "special" and tokens[k].text == "="):
            value.append(tokens[k])
            k += 1
        key = name.text.lower()
        if "." in key:  # reason=… has no dot: it is not a property
            props.setdefault(key, _pvalue_domain(value))
    return _Result(method, result, props)


def _header(value: str) -> tuple[str, list[_Result]]:
    """(authserv-id, its results) of one header value."""
    segments: list[list[_Token]] = [[]]
    for token in _lex(value[:MAX_HEADER]):
        if token.kind == "special" and token.text == ";":
            segments.append([])
        else:
            segments[-1].append(token)
    head = segments[0]
    authserv = head[0].text.lower() if head and head[0].kind == "word" else ""
    return authserv, [r for seg in segments[1:] if (r := _resinfo(seg)) is not None]


def parse(values: Iterable[str], trusted_ids: Iterable[str], from_addr: str | None) -> SenderAuth:
    """Verdicts of every Authentication-Results header of a trusted server, combined.

    *values* are the header values in the order they appear (topmost first).
    """
    trusted = {t.lower() for t in trusted_ids}
    if not trusted:
        return SenderAuth()
    results: list[_Result] = []
    found = False
    for value in values:
        authserv, mine = _header(str(value))
        if authserv in trusted:
            found = True
            results.extend(mine)
    if not found:
        return SenderAuth()
    return _combined(results, _domain_of(from_addr or ""))


def _domain_of(value: str) -> str:
    value = value.strip().strip('"').lower()
    return value.rsplit("@", 1)[-1]


def _first_other(results: list[str]) -> str | None:
    return results[0] if results else None


def _combined(results: list[_Result], from_domain: str) -> SenderAuth:
    """Any fail wins; a pass counts only for the From domain (aligned, or DMARC about it)."""
    spf = [r for r in results if r.method == "spf"]
    dkim = [r for r in results if r.method == "dkim"]
    # a DMARC verdict about another domain says nothing about this From
    dmarc = [r for r in results if r.method == "dmarc" and (
        "header.from" not in r.props or organisation(r.props["header.from"]) == organisation(from_domain))]

    def verdict(rows: list[_Result], fails: tuple[str, ...]) -> str | None:
        words = [r.result for r in rows]
        for bad in fails:
            if bad in words:
                return bad
        return "pass" if "pass" in words else _first_other(words)

    spf_verdict = verdict(spf, ("fail", "softfail"))
    spf_aligned = spf_verdict == "pass" and any(
        r.result == "pass" and aligned(r.props.get("smtp.mailfrom") or r.props.get("smtp.helo"), from_domain)
        for r in spf)
    dkim_aligned = any(r.result == "pass" and aligned(r.props.get("header.d") or r.props.get("header.i"), from_domain)
                       for r in dkim)
    # DKIM: a broken signature is common and proves nothing; an aligned pass is evidence
    dkim_verdict = "pass" if any(r.result == "pass" for r in dkim) else _first_other([r.result for r in dkim])
    return SenderAuth(True, spf_verdict, dkim_verdict, verdict(dmarc, ("fail",)), spf_aligned, dkim_aligned)
