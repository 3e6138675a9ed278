"""The Mailbox protocol, the fetched-message value and the source error tree.

Errors::

    SourceError
    ├── SourceConfigError      the URL or settings cannot work (permanent)
    ├── AuthenticationFailed   the server refused our credentials (permanent)
    ├── FolderNotFound         a configured folder does not exist (permanent)
    └── MailboxUnavailable     cannot connect, dropped, timed out (retry with back-off)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class SourceError(Exception):
    """Base of every mail-source error."""


class SourceConfigError(SourceError):
    pass


class AuthenticationFailed(SourceError):
    pass


class FolderNotFound(SourceError):
    pass


class MailboxUnavailable(SourceError):
    """Transient: the caller retries later with back-off."""


@dataclass(frozen=True)
class FolderState:
    name: str
    uidvalidity: int | None  # None for sources without UIDs (Maildir)
    exists: int = 0


@dataclass
class FetchedMessage:
    source: str  # e.g. "imap://user@host:993" or "maildir:/path"
    folder: str
    raw: bytes | None  # None when the message was too large to fetch
    size: int
    uidvalidity: int | None = None
    uid: int | None = None
    key: str = ""  # maildir file key; empty for IMAP
    arrived_at: datetime | None = None  # server arrival (INTERNALDATE / delivery time)
    oversize: bool = False
    headers: bytes = b""  # for oversize messages: just the header block
    error: str | None = None  # why the body could not be fetched


class Mailbox(Protocol):
    """A source of incoming mail; keyword-only where it matters."""

    name: str
    supports_idle: bool

    def connect(self) -> None: ...

    def close(self) -> None: ...

    def select(self, folder: str) -> FolderState: ...

    def fetch_new(
        self, folder: str, *, after_uid: int, limit: int
    ) -> Iterator[FetchedMessage]: ...

    def acknowledge(self, messages: Sequence[FetchedMessage]) -> None: ...

    def wait_for_mail(self, *, timeout: float, stop: threading.Event) -> bool: ...
