"""An outbox row → the RFC 5322 message that goes on the wire.

Structure (only the parts that are needed)::

    multipart/mixed                      when there are attachments
      multipart/alternative
        text/plain; charset=utf-8
        multipart/related                when there are inline images
          text/html; charset=utf-8
          image/png  Content-ID: <chart>
      application/…  filename*=utf-8''申报书.pdf   (RFC 2231)

Everything but the Date and the MIME boundaries comes from the row, so a re-send
after a crash is the same mail with the same Message-ID.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any, cast

from campaign.clock import utcnow, zone
from notifier.headers import clean_filename, clean_header
from notifier.models import OutboxMail

DEFAULT_SENDER_NAME = "山东省大数据局"

BlobLoader = Callable[[str], bytes]


class ComposeError(Exception):
    """The row cannot become a message (missing attachment bytes, bad address)."""


def _address(addr: str, display_name: str = "") -> Address:
    local, _, domain = addr.strip().rpartition("@")
    if not local or not domain:
        raise ComposeError(f"not an address: {addr!r}")
    return Address(display_name=clean_header(display_name, 100), username=local, domain=domain)


def _blob(load: BlobLoader | None, item: dict[str, Any]) -> bytes:
    if load is None:
        raise ComposeError(f"attachment {item.get('name')!r} needs a blob loader")
    try:
        return load(item["sha256"])
    except Exception as exc:  # the store's own errors (missing file, I/O) all mean: cannot build
        raise ComposeError(f"attachment {item.get('name')!r} ({item['sha256'][:12]}…): {exc}") from exc


def _split_type(content_type: str) -> tuple[str, str]:
    maintype, _, subtype = content_type.partition("/")
    return (maintype, subtype) if subtype else ("application", "octet-stream")


def build_message(
    row: OutboxMail,
    *,
    sender: str,
    sender_name: str = DEFAULT_SENDER_NAME,
    load: BlobLoader | None,
    now: datetime | None = None,
) -> EmailMessage:
    """The message for *row*; raises ComposeError if an attachment cannot be loaded."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = _address(sender, sender_name)
    msg["To"] = [_address(a) for a in row.to_addrs]
    msg["Subject"] = clean_header(row.subject)
    msg["Date"] = format_datetime((now or utcnow()).astimezone(zone()))
    msg["Message-ID"] = row.message_id
    if row.in_reply_to:
        msg["In-Reply-To"] = row.in_reply_to
    if row.references:
        msg["References"] = " ".join(row.references)
    msg["Auto-Submitted"] = row.auto_submitted
    msg["X-Auto-Response-Suppress"] = "All"  # asks Exchange/Outlook not to auto-answer us
    msg["Content-Language"] = "zh-CN"

    msg.set_content(row.text_body, charset="utf-8")
    msg.add_alternative(row.html_body, subtype="html", charset="utf-8")
    inline = [a for a in row.attachments if a.get("cid")]
    files = [a for a in row.attachments if not a.get("cid")]
    # multipart/alternative now: [text/plain, text/html], both EmailMessage (SMTP policy)
    html_part = cast(list[EmailMessage], msg.get_payload())[1]
    for item in inline:
        maintype, subtype = _split_type(item["content_type"])
        html_part.add_related(_blob(load, item), maintype=maintype, subtype=subtype,
                              cid=f"<{item['cid']}>", filename=clean_filename(item["name"]),
                              disposition="inline")
    for item in files:
        maintype, subtype = _split_type(item["content_type"])
        msg.add_attachment(_blob(load, item), maintype=maintype, subtype=subtype,
                           filename=clean_filename(item["name"]))
    return msg
