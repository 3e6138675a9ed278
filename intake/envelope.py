"""Header facts read cheaply from raw bytes (no body parsing), and the dedupe key.

Used at the moment of storing a message, so it must never raise.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.utils import getaddresses, parsedate_to_datetime

from intake.model import Envelope

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
    for line in head.replace(b"\r\n", b"\n").split(b"\n"):
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
    h.update(body.replace(b"\r\n", b"\n"))
    return "c1:" + h.hexdigest()


def decode_words(value: object) -> str:
    if value is None:
        return ""
    text = _undo_surrogates(str(value))
    try:
        return str(make_header(decode_header(text)))
    except Exception:  # malformed encoded words: keep the raw text
        return text


def _undo_surrogates(text: str) -> str:
    """Raw 8-bit header bytes (common from Chinese clients) come back as surrogates."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        data = text.encode("utf-8", "surrogateescape")
    for codec in ("utf-8", "gb18030"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", "replace")


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        dt = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return dt if dt and dt.tzinfo else None


def received_time(received_header: str | None) -> datetime | None:
    """The date after the last ';' of a Received: header."""
    if not received_header:
        return None
    return _when(str(received_header).rsplit(";", 1)[-1])


def _msgids(value: object) -> list[str]:
    return re.findall(r"<[^<>\s]+>", str(value or ""))


def read_envelope(raw: bytes) -> Envelope:
    head, _ = split_head(raw)
    msg = message_from_bytes(head, policy=policy.compat32)
    addrs = getaddresses([decode_words(v) for v in msg.get_all("From", [])])
    from_addr = next((a.strip().lower() for _, a in addrs if "@" in a), None)
    mid = _msgids(msg.get("Message-ID"))
    received = msg.get_all("Received") or []
    in_reply = _msgids(msg.get("In-Reply-To"))
    return Envelope(
        message_id=mid[0] if mid else None,
        from_addr=from_addr,
        subject=decode_words(msg.get("Subject")).replace("\r", "").replace("\n", ""),
        date=_when(msg.get("Date")),
        received_at=received_time(received[0]) if received else None,
        in_reply_to=in_reply[0] if in_reply else None,
        references=_msgids(msg.get("References")),
    )
