"""Header facts read cheaply from raw bytes (no body parsing), and the dedupe key.

Used at the moment of storing a message, so it must never raise.
"""

from __future__ import annotations

import hashlib
import re
from email.parser import BytesHeaderParser
from email.policy import compat32

from intake.mime import envelope_of
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


def read_envelope(raw: bytes) -> Envelope:
    """Header facts only (the body is not parsed), the same way the full parser reads them."""
    head, _ = split_head(raw.lstrip(b"\r\n"))
    try:
        msg = BytesHeaderParser(policy=compat32).parsebytes(head)
    except Exception:  # nothing in the headers may stop a message from being stored
        return Envelope(message_id=None, from_addr=None, subject="", date=None, received_at=None)
    return envelope_of(msg)
