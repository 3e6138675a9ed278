"""Parse one raw message into an envelope, a plain-text body and attachments.

``parse_message`` never raises: broken mail is the normal case (wrong charset
labels, raw 8-bit headers, missing boundaries, forwarded messages inside
forwarded messages). What could not be read is listed in ``problems``.

Container convention (shared with :mod:`intake.documents`): ``container`` is
the file name of the *top-level* attachment a file came out of — for
attachments of a forwarded message, the forwarded message's name (its
``.eml`` file name, or its decoded subject + ``.eml`` for a message/rfc822
part without one); ``None`` for files attached to the mail itself. A forwarded
message is listed itself too (content type ``message/rfc822``) and its
attachments follow it. The contents of ``winmail.dat`` (TNEF) replace it.
"""

from __future__ import annotations

import email
import email.utils
import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32

from mailparser.dates import parse_mail_date

from intake.charsets import decode_bytes, decode_header, header_params
from intake.documents.htmltext import html_to_text
from intake.documents.sniff import looks_like_message
from intake.documents.tnef import TnefError, expand_tnef
from intake.model import Envelope

MAX_PARTS = 500  # MIME leaves per message, forwarded ones included
MAX_DEPTH = 5  # forwarded-message nesting
MAX_MULTIPART_NESTING = 40  # multipart inside multipart

# Parts that carry machinery, not documents a person attached.
_SKIPPED_TYPES = {
    "application/pkcs7-signature",
    "application/x-pkcs7-signature",
    "application/pgp-signature",
    "application/pgp-encrypted",
    "message/delivery-status",
    "message/global-delivery-status",
    "message/disposition-notification",
    "message/feedback-report",
    "text/rfc822-headers",
}
_MESSAGE_TYPES = {"message/rfc822", "message/global"}
_TNEF_TYPES = {"application/ms-tnef", "application/vnd.ms-tnef"}
_CID_REF = re.compile(r"cid:([^\"'\s>)]+)", re.I)
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


@dataclass
class Attachment:
    """One file as the sender attached it (bytes already transfer-decoded)."""

    name: str
    data: bytes
    content_type: str
    container: str | None = None
    inline: bool = False  # an image shown inside the HTML body (cid:), not a document


@dataclass
class ParsedMail:
    envelope: Envelope
    headers: Message  # the top-level message (compat32): raw header values
    text: str  # the body as plain text (text/plain preferred)
    html: str = ""  # the raw HTML body, when there was one (links, cloud attachments)
    attachments: list[Attachment] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def parse_message(
    raw: bytes, *, max_parts: int = MAX_PARTS, max_depth: int = MAX_DEPTH
) -> ParsedMail:
    """Parse ``raw`` RFC 5322 bytes. Never raises."""
    problems: list[str] = []
    msg = _parse_bytes(bytes(raw or b""), problems)
    walker = _Walker(max_parts, max_depth, problems)
    try:
        walker.message(msg, container=None, depth=0)
    except RecursionError:
        problems.append("message structure nested too deeply; stopped reading parts")
    return ParsedMail(
        envelope=envelope_of(msg),
        headers=msg,
        text=walker.body_text(),
        html="\n".join(walker.html),
        attachments=walker.attachments,
        problems=problems,
    )


def _parse_bytes(raw: bytes, problems: list[str]) -> Message:
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):  # whole message saved as UTF-16
        raw = raw.decode("utf-16", "replace").encode("utf-8")
    raw = raw.lstrip(b"\r\n")  # a leading blank line would end the headers at once
    try:
        msg = email.message_from_bytes(raw, policy=compat32)
    except RecursionError:
        problems.append("MIME nesting too deep to parse; read headers only")
        msg = BytesHeaderParser(policy=compat32).parsebytes(raw)
    for defect in msg.defects:
        problems.append(f"MIME defect: {type(defect).__name__}")
    return msg


# -- envelope ----------------------------------------------------------------


def raw_header(msg: Message, name: str) -> str | None:
    """The first raw value of header ``name`` (8-bit bytes as surrogate escapes)."""
    name = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == name:
            return str(value)
    return None


def envelope_of(msg: Message) -> Envelope:
    """Header facts: sender, subject, dates and threading ids."""
    return Envelope(
        message_id=_first_msgid(raw_header(msg, "Message-ID")),
        from_addr=_bare_address(raw_header(msg, "From")),
        subject=decode_header(raw_header(msg, "Subject")),
        date=parse_mail_datetime(raw_header(msg, "Date")),
        received_at=_received_at(msg),
        in_reply_to=_first_msgid(raw_header(msg, "In-Reply-To")),
        references=_msgids(raw_header(msg, "References")),
    )


def _received_at(msg: Message) -> datetime | None:
    # Only the topmost header: it was written by our own server. Lower ones
    # come from the sender's side and could be forged to dodge a deadline.
    top = raw_header(msg, "Received")
    if not top or ";" not in top:
        return None
    return parse_mail_datetime(top.rsplit(";", 1)[1])


_CHINA = timezone(timedelta(hours=8))
_BARE_CST = re.compile(r"(\d{1,2}:\d{2}(?::\d{2})?)\s+CST\b", re.I)


def parse_mail_datetime(value: str | None) -> datetime | None:
    """An RFC 5322 date as a tz-aware datetime, keeping the sender's offset."""
    text = " ".join((value or "").split())
    if not text:
        return None
    # RFC 5322 reads a bare "CST" as US Central (-0600); on Chinese servers it
    # means China Standard Time, and a 14-hour error would misjudge deadlines.
    text = _BARE_CST.sub(r"\1 +0800", text)
    parts = email.utils.parsedate_tz(text)
    if parts is not None:
        try:
            naive = datetime(*parts[:6])
        except ValueError:
            naive = None
        if naive is not None:
            if parts[9] is not None:
                return naive.replace(tzinfo=timezone(timedelta(seconds=parts[9])))
            # "-0000" is UTC with unknown local time; no zone at all is local time.
            return naive.replace(tzinfo=UTC if "-0000" in text else _CHINA)
    recovered: datetime | None = parse_mail_date(text).value  # obsolete syntax, comments; UTC
    if recovered is not None:
        return recovered
    try:
        iso = datetime.fromisoformat(text)
    except ValueError:
        return None
    return iso if iso.tzinfo else iso.replace(tzinfo=_CHINA)


_MSGID = re.compile(r"<[^<>\s]+>")
_ADDRESS = re.compile(r"[A-Za-z0-9._%+\-=']+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")


def _clean_id(value: str | None) -> str:
    # raw 8-bit header bytes come back as lone surrogates, which no database or JSON
    # encoder accepts: decode them as UTF-8 (or replace) once, here
    text = value or ""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text


def _msgids(value: str | None) -> list[str]:
    return _MSGID.findall(_clean_id(value))


def _first_msgid(value: str | None) -> str | None:
    ids = _msgids(value)
    if ids:
        return ids[0]
    value = _clean_id(value).strip()
    return value or None


def _bare_address(value: str | None) -> str | None:
    if not value:
        return None
    pairs = email.utils.getaddresses([value])
    for _, addr in pairs:
        if "@" in addr and _ADDRESS.fullmatch(addr.strip()):
            return addr.strip().lower()
    found = _ADDRESS.search(value)
    return found.group(0).lower() if found else None


# -- parts ---------------------------------------------------------------------


@dataclass
class _Leaf:
    part: Message
    in_related: bool
    name: str | None  # decoded file name, if the part has one

    @property
    def is_body(self) -> bool:
        """Text shown as the message itself rather than a file attached to it."""
        if self.name or self.part.get_content_type() not in ("text/plain", "text/html"):
            return False
        disposition = raw_header(self.part, "Content-Disposition") or ""
        return disposition.split(";")[0].strip().lower() != "attachment"


class _Walker:
    """Collects the body and attachments of a message and of forwarded ones."""

    def __init__(self, max_parts: int, max_depth: int, problems: list[str]) -> None:
        self.max_parts = max_parts
        self.max_depth = max_depth
        self.problems = problems
        self.parts_seen = 0
        self.plain: list[str] = []
        self.html: list[str] = []
        self.attachments: list[Attachment] = []

    def body_text(self) -> str:
        plain = "\n".join(p for p in self.plain if p.strip())
        return plain if plain.strip() else html_to_text("\n".join(self.html))

    def message(self, msg: Message, container: str | None, depth: int) -> None:
        leaves = list(self._leaves(msg, nest=0, in_related=False))
        html_parts = [p for p in leaves if p.is_body and _subtype(p.part) == "html"]
        cids = {
            ref.strip("<>").lower()
            for leaf in html_parts
            for ref in _CID_REF.findall(_part_text(leaf.part))
        }
        for leaf in leaves:
            self._leaf(leaf, cids, container, depth)

    def _leaves(self, part: Message, nest: int, in_related: bool) -> Iterator[_Leaf]:
        ctype = part.get_content_type()
        if part.is_multipart() and ctype not in _MESSAGE_TYPES:
            if nest >= MAX_MULTIPART_NESTING:
                self.problems.append("multipart nesting too deep; inner parts skipped")
                return
            related = in_related or ctype == "multipart/related"
            for sub in part.get_payload():
                if isinstance(sub, Message):
                    yield from self._leaves(sub, nest + 1, related)
            return
        self.parts_seen += 1
        if self.parts_seen > self.max_parts:
            if self.parts_seen == self.max_parts + 1:
                self.problems.append(f"more than {self.max_parts} MIME parts; the rest skipped")
            return
        yield _Leaf(part, in_related, _filename(part))

    def _leaf(self, leaf: _Leaf, cids: set[str], container: str | None, depth: int) -> None:
        part = leaf.part
        ctype = part.get_content_type()
        if ctype in _SKIPPED_TYPES:
            return
        if leaf.is_body:
            if container is None:  # a forwarded message's body belongs to its .eml
                target = self.html if _subtype(part) == "html" else self.plain
                target.append(_part_text(part))
            return
        name = leaf.name
        if ctype in _MESSAGE_TYPES or (name or "").lower().endswith(".eml"):
            self._forwarded(part, name, container, depth)
            return
        data = _payload_bytes(part)
        if ctype in _TNEF_TYPES or (name or "").lower() == "winmail.dat":
            if self._tnef(data, name or "winmail.dat", container):
                return
        if not name and ctype == "application/octet-stream" and looks_like_message(data):
            self._forwarded(part, None, container, depth)
            return
        cid = (part.get("Content-ID") or "").strip().strip("<>").lower()
        inline = bool(cid and cid in cids) or (
            leaf.in_related and part.get_content_maintype() == "image" and not name
        )
        self.attachments.append(
            Attachment(
                name=name or _unnamed(part, len(self.attachments) + 1),
                data=data,
                content_type=ctype,
                container=container,
                inline=inline,
            )
        )

    def _forwarded(
        self, part: Message, name: str | None, container: str | None, depth: int
    ) -> None:
        inner = _inner_message(part)
        subject = decode_header(raw_header(inner, "Subject")) if inner is not None else ""
        name = name or f"{_safe_name(subject) or 'forwarded-message'}.eml"
        data = _message_bytes(inner) if inner is not None else _payload_bytes(part)
        self.attachments.append(
            Attachment(name=name, data=data, content_type="message/rfc822", container=container)
        )
        if inner is None:
            return
        if depth + 1 > self.max_depth:
            self.problems.append(f"forwarded messages nested deeper than {self.max_depth}")
            return
        self.message(inner, container=container or name, depth=depth + 1)

    def _tnef(self, data: bytes, name: str, container: str | None) -> bool:
        try:
            files = expand_tnef(data)
        except TnefError as exc:
            self.problems.append(f"{name}: {exc}")
            return False  # keep winmail.dat itself so it shows up as unreadable
        for file_name, content in files:
            self.attachments.append(
                Attachment(file_name, content, "application/octet-stream", container)
            )
        return True


def _subtype(part: Message) -> str:
    return part.get_content_subtype()


def _filename(part: Message) -> str | None:
    for header, key in (("Content-Disposition", "filename"), ("Content-Type", "name")):
        value = header_params(raw_header(part, header)).get(key, "").strip()
        if value:
            # Some clients send a full Windows path; only the last segment is the name.
            return re.split(r"[\\/]", value)[-1].strip() or None
    return None


def _unnamed(part: Message, index: int) -> str:
    return f"attachment-{index}{mimetypes.guess_extension(part.get_content_type()) or ''}"


def _safe_name(text: str) -> str:
    return _UNSAFE_NAME.sub("_", " ".join(text.split()))[:120].strip(" ._")


def _payload_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except (ValueError, TypeError, LookupError, UnicodeError):
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogateescape")
    return b""


def _part_text(part: Message) -> str:
    text = decode_bytes(_payload_bytes(part), part.get_content_charset())
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _inner_message(part: Message) -> Message | None:
    payload = part.get_payload()
    cte = (part.get("Content-Transfer-Encoding") or "").strip().lower()
    if isinstance(payload, list) and payload and cte not in ("base64", "quoted-printable"):
        inner = payload[0]
        return inner if isinstance(inner, Message) else None
    data = _payload_bytes(part)
    if not data.strip():
        return None
    try:
        return email.message_from_bytes(data.lstrip(b"\r\n"), policy=compat32)
    except RecursionError:
        return None


def _message_bytes(msg: Message) -> bytes:
    try:
        return msg.as_bytes(policy=compat32)
    except (ValueError, TypeError, LookupError, UnicodeError, AttributeError):
        return msg.as_string(policy=compat32).encode("utf-8", "surrogateescape")
