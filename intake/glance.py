"""What a message's headers alone tell, before it is understood: enough to say "received".

A deadline-day mail may wait minutes behind scans for its full answer; the receipt that
bridges the wait must obey the same reply guard as every answer (no auto-replies,
bounces, lists, robots, ourselves, nor a From our own server says is forged), and it
must be cheap: only the header block is parsed, never an attachment.
"""

from __future__ import annotations

import re
from datetime import datetime
from email.message import Message

from campaign import RoundPolicy
from intake import authres
from intake.classify import reply_guard
from intake.envelope import envelope_of, read_headers
from intake.model import Envelope, Understanding

MAX_HEAD = 256 * 1024  # a header block larger than this is not a deadline-day applicant's


def answer_facts(result: Understanding, headers: Message | None, env: Envelope, policy: RoundPolicy,
                 intent: str | None) -> None:
    """What every answer to the mail depends on, from its headers, into *result*: the
    thread it continues, why no automatic answer may go (the one reply guard; *intent*
    None: not understood yet) and our server's verdicts on its sender."""
    result.thread_ids = list(dict.fromkeys(x for x in (env.in_reply_to, *env.references) if x))
    result.no_reply_reason = reply_guard(intent, headers, env, frozenset(policy.own_addresses))
    try:
        values = [str(v) for v in (headers.get_all("Authentication-Results") or [])] if headers is not None else []
    except Exception:  # a hostile header: as if there were none
        values = []
    result.sender_auth = authres.parse(values, policy.trusted_authserv_ids, env.from_addr)


def glance(head: bytes, policy: RoundPolicy, received_at: datetime | None = None) -> Understanding:
    """The sender, threading ids, reply guard and sender authentication of a message
    whose first bytes are *head* (its header block; at most :data:`MAX_HEAD` is read).

    The intent stays unknown (``other``): nothing here decides what the mail is.
    """
    headers = read_headers(head[:MAX_HEAD])
    env = envelope_of(headers)
    result = Understanding(message_id=env.message_id, from_addr=env.from_addr, subject=env.subject or "",
                           received_at=received_at or env.received_at or env.date)
    answer_facts(result, headers, env, policy, intent=None)
    return result


# what the parts' own headers say they are: enough to count the OCR queue before any
# worker opens a mail (a photo is read by OCR; a PDF is, if it is a scan). A name's
# extension is in its last RFC 2231 section (filename*1*=…%89.pdf) or plain
_PART_TYPE = re.compile(rb"(?im)^content-type:[ \t]*(image|application/pdf)\b")
_PART_NAME = re.compile(rb'(?i)name(?:\*\d+)?\*?=[ \t]*"?[^"\r\n;]*?\.(jpe?g|png|heic|heif|tiff?|bmp|webp|pdf)"?[ \t]*(?:;|\r?\n)')
# a signature's logo is an image part too, but a mail with a photo or scan of a page is
# larger than this: below it, images are not counted as pictures to read
PICTURES_FROM = 256 * 1024


def ocr_hint(raw: bytes) -> str | None:
    """``pictures`` when the mail carries images (OCR certain), ``pdf`` when it carries a
    PDF (OCR if it is a scan: known only once read), else ``None``. Part headers only,
    one pass over the bytes: an estimate for the 今日 page, never a decision."""
    found: set[bytes] = set()
    for head in _part_heads(raw):
        found |= {m.group(1).lower() for m in _PART_TYPE.finditer(head)}
        found |= {b"application/pdf" if m.group(1).lower() == b"pdf" else b"image" for m in _PART_NAME.finditer(head)}
    if b"image" in found and len(raw) >= PICTURES_FROM:
        return "pictures"
    return "pdf" if b"application/pdf" in found else None


def _part_heads(raw: bytes, size: int = 2048) -> list[bytes]:
    """The header block of the mail and the first bytes after each boundary line: where
    parts say what they are. Found with ``bytes.find`` (memchr speed), so a 10 MB scan
    costs next to nothing; the regular expressions see a few KB."""
    heads = [raw[:size * 8]]
    at = raw.find(b"\n--")
    while at >= 0 and len(heads) < 512:
        heads.append(raw[at:at + size])
        at = raw.find(b"\n--", at + 3)
    return heads
