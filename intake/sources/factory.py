"""Build the configured Mailbox from a URL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from intake.sources.base import Mailbox, SourceConfigError
from intake.sources.imap import ImapMailbox
from intake.sources.maildir import MaildirMailbox


def open_mailbox(
    url: str,
    *,
    base_dir: Path,
    secret: Callable[[], str | None] = lambda: None,
    **options: Any,  # ImapMailbox's keyword options, or max_message_bytes for Maildir
) -> Mailbox:
    scheme = url.split(":", 1)[0].lower()
    if scheme == "maildir":
        path = Path(url.split(":", 1)[1]).expanduser()
        if not path.is_absolute():
            path = base_dir / path
        return MaildirMailbox(path, max_message_bytes=int(options.get("max_message_bytes", 50 << 20)))
    if scheme in {"imap", "imaps", "imap+starttls"}:
        return ImapMailbox(url, secret=secret, **options)
    raise SourceConfigError(f"mailbox.url: unsupported scheme {scheme!r}")
