"""Mail sources by scheme: one registry builds them, and it is what the configuration accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.sources import SOURCES, SourceConfigError, check_scheme, open_mailbox
from intake.sources.imap import ImapMailbox
from intake.sources.maildir import MaildirMailbox


def test_the_registry_holds_maildir_and_every_imap_flavour() -> None:
    assert set(SOURCES) == {"maildir", "imap", "imaps", "imap+starttls"}


def test_open_mailbox_builds_from_the_registry(tmp_path: Path) -> None:
    box = open_mailbox("maildir:var/inbox", base_dir=tmp_path, max_message_bytes=10)
    assert isinstance(box, MaildirMailbox) and box.path == tmp_path / "var/inbox"
    imap = open_mailbox("IMAPS://jb@imap.example.cn/INBOX", base_dir=tmp_path, max_message_bytes=10)
    assert isinstance(imap, ImapMailbox) and imap.endpoint.security == "tls"


@pytest.mark.parametrize("url", ["pop3://jb@mail.example.cn", "mbox:/var/mail/jb", "http://x"])
def test_an_unknown_scheme_names_the_allowed_ones(url: str, tmp_path: Path) -> None:
    with pytest.raises(SourceConfigError) as info:
        open_mailbox(url, base_dir=tmp_path)
    message = str(info.value)
    assert message.startswith("mailbox.url: unsupported scheme")
    assert all(scheme in message for scheme in SOURCES)
    with pytest.raises(SourceConfigError):
        check_scheme(url)
