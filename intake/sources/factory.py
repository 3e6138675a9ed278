"""The mail sources by URL scheme: ``SOURCES`` maps each ``mailbox.url`` scheme to the
factory of its adapter. ``open_mailbox`` builds from it and the configuration refuses a
scheme it does not hold (``check_scheme``). A new source is one module and one entry here.

(The local SMTP receiver is not a source of its own: it delivers into the Maildir inbox,
which the ``maildir`` source reads.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

from intake.sources.base import Mailbox, SourceConfigError
from intake.sources.imap import SCHEMES as IMAP_SCHEMES
from intake.sources.imap import ImapMailbox
from intake.sources.maildir import MaildirMailbox


class SourceFactory(Protocol):
    """Build one source from its URL (nothing is connected until ``connect()``)."""

    def __call__(self, url: str, *, base_dir: Path, secret: Callable[[], str | None], **options: Any) -> Mailbox: ...


def _maildir(url: str, *, base_dir: Path, secret: Callable[[], str | None], **options: Any) -> Mailbox:
    path = Path(url.split(":", 1)[1]).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    return MaildirMailbox(path, max_message_bytes=int(options.get("max_message_bytes", 50 << 20)))


def _imap(url: str, *, base_dir: Path, secret: Callable[[], str | None], **options: Any) -> Mailbox:
    return ImapMailbox(url, secret=secret, **options)  # ImapMailbox's keyword options


# scheme → source factory: the one list of what ``mailbox.url`` may name
SOURCES: Mapping[str, SourceFactory] = MappingProxyType({
    "maildir": _maildir,
    **{scheme: _imap for scheme in IMAP_SCHEMES},
})


def url_scheme(url: str) -> str:
    """``imaps://…`` → ``imaps``; ``maildir:var/inbox`` → ``maildir``."""
    return url.partition(":")[0].strip().lower()


def check_scheme(url: str) -> str:
    """*url*'s scheme if a source serves it; else SourceConfigError naming those that do."""
    scheme = url_scheme(url)
    if scheme not in SOURCES:
        raise SourceConfigError(f"unsupported scheme {scheme!r} (allowed: {', '.join(SOURCES)})")
    return scheme


def open_mailbox(
    url: str,
    *,
    base_dir: Path,
    secret: Callable[[], str | None] = lambda: None,
    **options: Any,  # ImapMailbox's keyword options, or max_message_bytes for Maildir
) -> Mailbox:
    try:
        factory = SOURCES[check_scheme(url)]
    except SourceConfigError as exc:
        raise SourceConfigError(f"mailbox.url: {exc}") from None
    return factory(url, base_dir=base_dir, secret=secret, **options)
