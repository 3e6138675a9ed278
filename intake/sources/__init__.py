"""Mail sources behind one interface: IMAP, Maildir, and the local SMTP receiver.

The only I/O in ``intake``. A source yields :class:`FetchedMessage` objects; the
caller commits each one and only then calls :meth:`Mailbox.acknowledge`, so a
crash anywhere re-delivers instead of losing.
"""

from intake.sources.base import (
    AuthenticationFailed,
    FetchedMessage,
    FolderNotFound,
    FolderState,
    Mailbox,
    MailboxUnavailable,
    SourceConfigError,
    SourceError,
)
from intake.sources.factory import SOURCES, SourceFactory, check_scheme, open_mailbox, url_scheme

__all__ = [
    "SOURCES",
    "AuthenticationFailed",
    "FetchedMessage",
    "FolderNotFound",
    "FolderState",
    "Mailbox",
    "MailboxUnavailable",
    "SourceConfigError",
    "SourceError",
    "SourceFactory",
    "check_scheme",
    "open_mailbox",
    "url_scheme",
]
