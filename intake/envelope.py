"""Header facts read cheaply from raw bytes (no body parsing), and the dedupe key.

Used at the moment of storing a message, on headers anyone on the internet wrote, so
nothing here raises and nothing takes more than bounded work: every value is cut to a
fixed length before it is parsed, and every fact is read on its own, so one poisoned
header costs that one fact (a bad Date never loses the From).
"""

from __future__ import annotations

import email.header
import email.utils
import hashlib
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any, TypeVar

from mailparser.dates import parse_mail_date

from intake.charsets import codec_for, decode_header, split_params
from intake.model import Envelope

log = logging.getLogger("jiebang.intake")

# Far beyond any real value; what lies past them is never parsed.
MAX_HEADER = 8 * 1024  # From, Date, Message-ID, In-Reply-To, the Received tail
MAX_SUBJECT = 64 * 1024  # a longer Subject is cut and ends in "…"
MAX_REFERENCES_TEXT = 64 * 1024
MAX_REFERENCES = 50
# The columns the tracker stores them in (and RFC 5322's line limit, RFC 3696's address).
MAX_MESSAGE_ID = 998
MAX_ADDRESS = 320
# email.utils parses comments and groups by recursion; past this it is not asked at all.
MAX_ADDRESS_NESTING = 32
# Dates outside these cannot be real mail and would poison deadlines and the database.
EARLIEST_YEAR, LATEST_YEAR = 1970, 2100
MAX_UTC_OFFSET = timedelta(hours=14)
# MIME parameters: the stdlib parser would read every one of them on every lookup.
MAX_PARAM_HEADER = 16 * 1024
MAX_PARAMS = 64

# Headers a delivery path adds or rewrites; two copies of one message that differ
# only here are the same message (re-delivery, copy in another folder, pipe + IMAP).
TRACE_HEADERS = frozenset(
    h.lower()
    for h in (
        "Received", "Return-Path", "Delivered-To", "X-Original-To", "X-Delivered-To",
        "Envelope-To", "X-Envelope-To", "Status", "X-Status", "X-Keywords", "X-UID",
        "X-Mozilla-Status", "X-Mozilla-Status2", "Content-Length", "Lines",
        "X-Spam-Status", "X-Spam-Score", "X-Spam-Level", "X-Spam-Flag", "X-Spam-Checker-Version",
        "X-Virus-Scanned", "Authentication-Results", "ARC-Authentication-Results",
        "ARC-Message-Signature", "ARC-Seal", "Received-SPF", "X-Jiebang-Received",
    )
)
_HEADER_NAME = re.compile(rb"^([!-9;-~]+):")


class BoundedMessage(Message):
    """A compat32 message whose MIME parameters are read in linear time and never raise.

    The stdlib's parameter reader is quadratic in the semicolons inside a quoted value
    (64 KiB of them: 2 s per lookup), and its RFC 2231 step raises on continuations it
    cannot order (``name*`` beside ``name*0``), number (an index of 5,000 digits) or
    decode (``charset*=undefined''x``). The parser itself asks for the boundary, so one
    such Content-Type used to stop the whole message.
    """

    def _get_params_preserve(self, failobj: Any, header: str) -> Any:
        missing = object()
        value = self.get(header, missing)
        if value is missing:
            return failobj
        params = [_name_value(p) for p in split_params(str(value)[:MAX_PARAM_HEADER])]
        params = params[:MAX_PARAMS]
        try:
            decoded = email.utils.decode_params(params)
        except Exception:  # continuations the stdlib cannot join: keep the plain ones
            return [params[0]] + [(k, v) for k, v in params[1:] if "*" not in k]
        return [(k, _known_charset(v)) for k, v in decoded]


def _name_value(item: str) -> tuple[str, str]:
    name, sep, value = item.partition("=")
    if not sep:
        return item.strip(), ""
    return name.strip().lower(), value.strip()


def _known_charset(value: Any) -> Any:
    # RFC 2231 values come as (charset, language, text); the stdlib decodes them later
    # with that charset and only forgives LookupError, so a codec that raises otherwise
    # (idna, undefined) must not get that far.
    if isinstance(value, tuple) and value[0] and codec_for(value[0]) is None:
        return ("", value[1], value[2])
    return value


def split_head(raw: bytes) -> tuple[bytes, bytes]:
    for sep in (b"\r\n\r\n", b"\n\n"):
        idx = raw.find(sep)
        if idx >= 0:
            return raw[: idx + len(sep)], raw[idx + len(sep):]
    return raw, b""


def content_key(raw: bytes) -> str:
    """sha256 of the message without its trace headers, line endings normalised."""
    head, body = split_head(raw)
    kept: list[bytes] = []
    skipping = False
    for line in head.translate(None, b"\r").split(b"\n"):
        if line[:1] in (b" ", b"\t") and kept is not None:
            if not skipping:
                kept.append(line)
            continue
        m = _HEADER_NAME.match(line)
        skipping = bool(m and m.group(1).decode("ascii", "replace").lower() in TRACE_HEADERS)
        if not skipping:
            kept.append(line)
    h = hashlib.sha256()
    h.update(b"\n".join(kept))
    h.update(body.translate(None, b"\r"))  # CRLF vs LF copies of one message: one key
    return "c1:" + h.hexdigest()


def read_headers(raw: bytes) -> Message:
    """The top-level headers only (the body is not parsed); an empty message if none."""
    try:
        head, _ = split_head(bytes(raw or b"").lstrip(b"\r\n"))
        return BytesHeaderParser(BoundedMessage, policy=compat32).parsebytes(head)
    except Exception:  # nothing in the headers may stop a message from being stored
        log.warning("headers could not be parsed; storing the message without them", exc_info=True)
        return BoundedMessage(policy=compat32)


def read_envelope(raw: bytes) -> Envelope:
    """Header facts only (the body is not parsed), the same way the full parser reads them."""
    return envelope_of(read_headers(raw))


# -- header facts -------------------------------------------------------------------


def raw_header(msg: Message, name: str) -> str | None:
    """The first raw value of header ``name`` (8-bit bytes as surrogate escapes)."""
    name = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == name:
            return str(value)
    return None


_WANTED = ("message-id", "from", "subject", "date", "received", "in-reply-to", "references")
_T = TypeVar("_T")


def envelope_of(msg: Message) -> Envelope:
    """Header facts: sender, subject, dates and threading ids. Never raises."""
    first: dict[str, str] = {}
    try:
        for key, value in msg.raw_items():
            first.setdefault(str(key).strip().lower(), str(value))
    except Exception:
        log.warning("header list unreadable", exc_info=True)
    values = {name: first.get(name) for name in _WANTED}
    if _count(msg, "from") > 1:
        values["from"] = None  # two From fields: no one sender (RFC 5322 allows exactly one)
    return Envelope(
        message_id=_fact("Message-ID", _first_msgid, values["message-id"], None),
        from_addr=_fact("From", _bare_address, values["from"], None),
        subject=_fact("Subject", subject_text, values["subject"], ""),
        date=_fact("Date", parse_mail_datetime, values["date"], None),
        received_at=_fact("Received", _received_at, values["received"], None),
        in_reply_to=_fact("In-Reply-To", _first_msgid, values["in-reply-to"], None),
        references=_fact("References", _reference_ids, values["references"], []),
    )


def _count(msg: Message, name: str) -> int:
    try:
        return sum(1 for key, _ in msg.raw_items() if str(key).strip().lower() == name)
    except Exception:
        return 0


def _fact(header: str, read: Callable[[str | None], _T], value: str | None, default: _T) -> _T:
    try:
        return read(value)
    except Exception:  # RecursionError, OverflowError, …: this fact is lost, not the others
        log.warning("unreadable %s header (%d chars) ignored", header, len(value or ""),
                    exc_info=True)
        return default


# Control characters (NUL above all: PostgreSQL refuses it in text) never reach a column.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f]+")


def _valid_text(text: str) -> str:
    """``text`` as valid Unicode: raw 8-bit bytes (surrogate escapes) read as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            raw = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # a lone surrogate a lying charset decoded to
            raw = text.encode("utf-8", "surrogatepass")
        text = raw.decode("utf-8", "replace")
    return text


def subject_text(value: str | None) -> str:
    if not value:
        return ""
    text = _CONTROLS.sub(" ", _valid_text(decode_header(value[:MAX_SUBJECT]))).strip()
    return text[:MAX_SUBJECT] + "…" if len(value) > MAX_SUBJECT else text


# -- dates ----------------------------------------------------------------------------

_CHINA = timezone(timedelta(hours=8))
_BARE_CST = re.compile(r"(\d{1,2}:\d{2}(?::\d{2})?)\s+CST\b", re.I)


def _received_at(value: str | None) -> datetime | None:
    # Only the topmost header (the caller passes the first): it was written by our own
    # server. Lower ones come from the sender's side and could be forged to dodge a
    # deadline. Its date is at the end, so the end is what is kept of a long one.
    top = (value or "")[-MAX_HEADER:]
    if ";" not in top:
        return None
    return parse_mail_datetime(top.rsplit(";", 1)[1])


def parse_mail_datetime(value: str | None) -> datetime | None:
    """An RFC 5322 date as a tz-aware datetime, keeping the sender's offset.

    None when unreadable or implausible: a year outside 1970–2100 or an offset beyond
    ±14 h is a forgery or garbage, never a date to judge a deadline by.
    """
    text = " ".join((value or "")[:MAX_HEADER].split())
    if not text:
        return None
    # RFC 5322 reads a bare "CST" as US Central (-0600); on Chinese servers it
    # means China Standard Time, and a 14-hour error would misjudge deadlines.
    text = _BARE_CST.sub(r"\1 +0800", text)
    parts = email.utils.parsedate_tz(text)
    if parts is not None:
        if parts[9] is not None and abs(parts[9]) > MAX_UTC_OFFSET.total_seconds():
            return None
        if not EARLIEST_YEAR <= parts[0] <= LATEST_YEAR:
            return None
        try:
            naive = datetime(*parts[:6])
        except (ValueError, OverflowError):
            naive = None
        if naive is not None:
            if parts[9] is not None:
                return naive.replace(tzinfo=timezone(timedelta(seconds=parts[9])))
            # "-0000" is UTC with unknown local time; no zone at all is local time.
            return naive.replace(tzinfo=UTC if "-0000" in text else _CHINA)
    recovered: datetime | None = parse_mail_date(text).value  # obsolete syntax, comments; UTC
    if recovered is not None:
        return _plausible(recovered)
    try:
        iso = datetime.fromisoformat(text)
    except ValueError:
        return None
    return _plausible(iso if iso.tzinfo else iso.replace(tzinfo=_CHINA))


def _plausible(when: datetime) -> datetime | None:
    offset = when.utcoffset()
    if offset is None or abs(offset) > MAX_UTC_OFFSET:
        return None
    return when if EARLIEST_YEAR <= when.year <= LATEST_YEAR else None


# -- addresses and ids ------------------------------------------------------------------

# Bounded parts (RFC 5321: 64-octet local part, 63-octet labels) with a token boundary in
# front, so a search never picks the tail of an over-long local part as an address.
_ADDRESS = re.compile(
    r"(?<![A-Za-z0-9._%+\-='])[A-Za-z0-9._%+\-=']{1,64}"
    r"@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63})+(?![A-Za-z0-9\-])"
)


def _bare_address(value: str | None) -> str | None:
    """The sender's addr-spec, lower-cased, as RFC 5322 reads the From field; None when the
    field names no sender that fits a column, or more than one.

    Whose mail is it, when the field names two mailboxes, or a display name that is itself
    another address (``victim@163.com <x@evil.example>``, ``"victim@163.com"@evil.example``)?
    DMARC credits the domain of the real addr-spec; a reader sees the other one. Such a mail
    has no sender for the records (it can only be a claim for staff).
    """
    if not value:
        return None
    value = value[:MAX_HEADER]
    if not _too_nested(value):
        try:
            pairs = email.utils.getaddresses([value])
        except RecursionError:  # nesting this check did not foresee: use the regex below
            pairs = []
        addresses = {addr.strip().lower() for _, addr in pairs if addr.strip()}
        if len(addresses) > 1:
            return None  # several mailboxes
        if addresses:
            (addr,) = addresses
            if not (len(addr) <= MAX_ADDRESS and _ADDRESS.fullmatch(addr)):
                return None  # a quoted or over-long local part, a broken domain
            if any(found.group(0).lower() != addr for name, _ in pairs
                   for found in _ADDRESS.finditer(_display_text(name))):
                return None  # a display name that is another address
            return addr
    if '"' in value:
        return None  # quoted text the parser could not read: no guessing inside it
    found = {m.group(0).lower() for m in _ADDRESS.finditer(value) if len(m.group(0)) <= MAX_ADDRESS}
    return found.pop() if len(found) == 1 else None


def _display_text(name: str) -> str:
    """A display name with its encoded words decoded (what the reader sees)."""
    if "=?" not in name:
        return name
    try:
        return str(email.header.make_header(email.header.decode_header(name)))
    except Exception:  # an undecodable word: the raw text is all there is
        return name


def _too_nested(value: str) -> bool:
    """Would email.utils recurse deeper than MAX_ADDRESS_NESTING (groups, comments)?"""
    if value.count(":") > MAX_ADDRESS_NESTING:
        return True
    if value.count("(") <= MAX_ADDRESS_NESTING:
        return False
    depth = 0
    for char in value:
        if char == "(":
            depth += 1
            if depth > MAX_ADDRESS_NESTING:
                return True
        elif char == ")" and depth:
            depth -= 1
    return False


# An id longer than its column is dropped whole: a cut id would match nothing, or the
# wrong thread.
_MSGID = re.compile(rf"<[^<>\s\x00-\x1f\x7f]{{1,{MAX_MESSAGE_ID - 2}}}>")


def _clean_id(value: str | None) -> str:
    # raw 8-bit header bytes come back as lone surrogates, which no database or JSON
    # encoder accepts: decode them as UTF-8 (or replace) once, here
    return _valid_text(value or "")


def _reference_ids(value: str | None) -> list[str]:
    """The References ids: the thread's root (first) and its latest (last) ones."""
    text = value or ""
    if len(text) > MAX_REFERENCES_TEXT:  # the newest ids are at the end: keep both ends
        text = text[:4096] + " " + text[-(MAX_REFERENCES_TEXT - 4096):]
    ids = list(dict.fromkeys(_MSGID.findall(_clean_id(text))))
    if len(ids) > MAX_REFERENCES:
        ids = ids[:1] + ids[-(MAX_REFERENCES - 1):]
    return ids


def _first_msgid(value: str | None) -> str | None:
    text = _clean_id((value or "")[:MAX_HEADER])
    found = _MSGID.search(text)
    if found:
        return found.group(0)
    text = _CONTROLS.sub(" ", text).strip()
    return text if 0 < len(text) <= MAX_MESSAGE_ID else None
