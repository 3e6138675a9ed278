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
import logging
import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from email.policy import compat32

from intake.charsets import decode_bytes, header_params
from intake.documents.htmltext import html_to_text
from intake.documents.sniff import looks_like_message
from intake.documents.tnef import TnefError, expand_tnef
from intake.envelope import (
    BoundedMessage,
    envelope_of,
    raw_header,
    read_headers,
    subject_text,
)
from intake.model import Envelope

__all__ = ["Attachment", "ParsedMail", "envelope_of", "parse_message", "raw_header"]

log = logging.getLogger("jiebang.intake")

MAX_PARTS = 500  # MIME leaves per message, forwarded ones included
MAX_WALKED = 1000  # parts looked at, multipart containers included
MAX_DEPTH = 5  # forwarded-message nesting
MAX_MULTIPART_NESTING = 10  # multipart inside multipart (real mail: 4 at most)
# The stdlib parser tests every line against every open boundary, so n nested multiparts
# cost n × lines (500 of them: 3 s for 330 KB). Past this many declarations the rest are
# read as opaque leaves, never parsed.
MAX_MULTIPARTS = 100
MAX_NAME = 255  # characters of an attachment's file name

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
_CONTROLS = re.compile(r"[\x00-\x1f\x7f]+")
# at a line start, bare CR line ends included (the stdlib parser honours them too)
_MULTIPART_DECLARATION = re.compile(
    rb"(?:^|(?<=\r))(content-type:[ \t]*(?:(?:\r\n|\r|\n)[ \t]+)?)multipart/", re.I | re.M
)
_UNPARSED = "x-unparsed-"  # what a multipart past MAX_MULTIPARTS is renamed to


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
    """Parse ``raw`` RFC 5322 bytes. Never raises; what was given up on is in ``problems``."""
    problems: list[str] = []
    msg = _parse_bytes(bytes(raw or b""), problems)
    walker = _Walker(max_parts, max_depth, problems)
    try:
        walker.message(msg, container=None, depth=0)
    except Exception as exc:  # keep the envelope and whatever parts came before
        log.warning("stopped reading parts", exc_info=True)
        walker.note(f"parts unreadable ({type(exc).__name__}); stopped reading them")
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
    msg = _parse_raw(raw, problems)
    if msg is None:
        msg = read_headers(raw)
    for defect in msg.defects:
        problems.append(f"MIME defect: {type(defect).__name__}")
    return msg


def _parse_raw(raw: bytes, problems: list[str]) -> Message | None:
    """The whole MIME tree, or None when the stdlib parser gives up on it."""
    raw = _unparsed_beyond_limit(raw, problems)
    try:
        return email.message_from_bytes(raw, BoundedMessage, policy=compat32)
    except RecursionError:
        problems.append("MIME nesting too deep to parse; read headers only")
    except Exception as exc:
        log.warning("MIME structure unreadable; reading headers only", exc_info=True)
        problems.append(f"MIME structure unreadable ({type(exc).__name__}); read headers only")
    return None


def _unparsed_beyond_limit(raw: bytes, problems: list[str]) -> bytes:
    """``raw`` with multipart declarations past MAX_MULTIPARTS renamed to opaque types."""
    # most mail declares a handful: a case-blind count of the bare word (C speed) is an
    # upper bound of the declarations, so the regex pass runs only on suspicious mail
    if raw.lower().count(b"multipart/") <= MAX_MULTIPARTS:
        return raw
    seen = 0

    def rename(match: re.Match[bytes]) -> bytes:
        nonlocal seen
        seen += 1
        if seen <= MAX_MULTIPARTS:
            return match.group(0)
        return match.group(1) + _UNPARSED.encode() + b"multipart/"

    renamed = _MULTIPART_DECLARATION.sub(rename, raw)
    if seen <= MAX_MULTIPARTS:
        return raw
    problem = f"{seen} multipart declarations; those past {MAX_MULTIPARTS} left unread"
    log.warning("%s", problem)
    problems.append(problem)
    return renamed


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
        self.parts_seen = 0  # leaves
        self.walked = 0  # leaves and containers
        self.plain: list[str] = []
        self.html: list[str] = []
        self.attachments: list[Attachment] = []

    def note(self, problem: str) -> None:
        """A limit reached or a part given up on: listed once, and logged."""
        if problem not in self.problems:
            self.problems.append(problem)
            log.warning("%s", problem)

    def body_text(self) -> str:
        plain = "\n".join(p for p in self.plain if p.strip())
        if plain.strip():
            return plain
        html = "\n".join(self.html)
        try:
            return html_to_text(html)
        except Exception:
            log.warning("HTML body unreadable; tags stripped instead", exc_info=True)
            return re.sub(r"<[^<>]*>", " ", html)

    def message(self, msg: Message, container: str | None, depth: int) -> None:
        leaves = list(self._leaves(msg, nest=0, in_related=False))
        cids = self._cids(leaves)
        for leaf in leaves:
            try:
                self._leaf(leaf, cids, container, depth)
            except Exception as exc:  # one hostile part costs that part, not the message
                log.debug("part unreadable", exc_info=True)
                self.note(f"a MIME part could not be read ({type(exc).__name__}); skipped")

    def _cids(self, leaves: list[_Leaf]) -> set[str]:
        """Content-IDs the HTML body shows inline (they are pictures, not documents)."""
        refs: set[str] = set()
        for leaf in leaves:
            try:
                if leaf.is_body and _subtype(leaf.part) == "html":
                    text = _part_text(leaf.part)
                    refs.update(ref.strip("<>").lower() for ref in _CID_REF.findall(text))
            except Exception:
                log.debug("HTML part unreadable while looking for cid: links", exc_info=True)
        return refs

    def _leaves(self, part: Message, nest: int, in_related: bool) -> Iterator[_Leaf]:
        self.walked += 1
        if self.walked > MAX_WALKED:
            self.note(f"more than {MAX_WALKED} MIME parts walked; the rest skipped")
            return
        ctype = part.get_content_type()
        if part.is_multipart() and ctype not in _MESSAGE_TYPES:
            if nest >= MAX_MULTIPART_NESTING:
                self.note(f"multipart nesting deeper than {MAX_MULTIPART_NESTING}; inner parts skipped")
                return
            related = in_related or ctype == "multipart/related"
            for sub in part.get_payload():
                if self.walked >= MAX_WALKED:
                    self.note(f"more than {MAX_WALKED} MIME parts walked; the rest skipped")
                    return
                if isinstance(sub, Message):
                    yield from self._leaves(sub, nest + 1, related)
            return
        self.parts_seen += 1
        if self.parts_seen > self.max_parts:
            self.note(f"more than {self.max_parts} MIME parts; the rest skipped")
            return
        yield _Leaf(part, in_related, _filename(part))

    def _leaf(self, leaf: _Leaf, cids: set[str], container: str | None, depth: int) -> None:
        part = leaf.part
        ctype = part.get_content_type()
        if ctype in _SKIPPED_TYPES or ctype.startswith(_UNPARSED):
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
        cid = (raw_header(part, "Content-ID") or "").strip().strip("<>").lower()
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
        inner = _inner_message(part, self.problems)
        subject = subject_text(raw_header(inner, "Subject")) if inner is not None else ""
        name = name or f"{_safe_name(subject) or 'forwarded-message'}.eml"
        data = _message_bytes(inner) if inner is not None else _payload_bytes(part)
        self.attachments.append(
            Attachment(name=name, data=data, content_type="message/rfc822", container=container)
        )
        if inner is None:
            return
        if depth + 1 > self.max_depth:
            self.note(f"forwarded messages nested deeper than {self.max_depth}")
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
        value = header_params(raw_header(part, header)).get(key, "")
        # NULs and line breaks hide the real extension ("a.pdf\x00.exe") or break logs
        value = _CONTROLS.sub("", value).strip()
        if value:
            # Some clients send a full Windows path; only the last segment is the name.
            return _shortened(re.split(r"[\\/]", value)[-1].strip()) or None
    return None


def _shortened(name: str) -> str:
    """``name`` within MAX_NAME characters, its extension kept."""
    if len(name) <= MAX_NAME:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or not 0 < len(ext) <= 16:
        return name[:MAX_NAME]
    return f"{stem[: MAX_NAME - len(ext) - 1]}.{ext}"


def _unnamed(part: Message, index: int) -> str:
    return f"attachment-{index}{mimetypes.guess_extension(part.get_content_type()) or ''}"


def _safe_name(text: str) -> str:
    return _UNSAFE_NAME.sub("_", " ".join(text.split()))[:120].strip(" ._")


def _payload_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # a transfer encoding that does not decode: keep the raw payload
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


def _inner_message(part: Message, problems: list[str]) -> Message | None:
    payload = part.get_payload()
    cte = (raw_header(part, "Content-Transfer-Encoding") or "").strip().lower()
    if isinstance(payload, list) and payload and cte not in ("base64", "quoted-printable"):
        inner = payload[0]
        return inner if isinstance(inner, Message) else None
    data = _payload_bytes(part)
    if not data.strip():
        return None
    return _parse_raw(data.lstrip(b"\r\n"), problems)


def _message_bytes(msg: Message) -> bytes:
    try:
        return msg.as_bytes(policy=compat32)
    except Exception:
        pass
    try:
        return msg.as_string(policy=compat32).encode("utf-8", "surrogateescape")
    except Exception:  # listed with no bytes rather than not at all
        log.warning("forwarded message could not be serialised", exc_info=True)
        return b""
