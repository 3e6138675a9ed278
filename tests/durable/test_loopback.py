"""One loopback answer for both directions: plain IMAP and plain SMTP go to the same hosts only."""

from __future__ import annotations

from pathlib import Path

import pytest

from durable.loopback import is_loopback
from intake.sources.imap import parse_imap_url
from notifier.transports import SmtpTransport, open_transport

LOOPBACK = ["127.0.0.1", "127.3.2.1", "::1", "[::1]", "localhost", "LocalHost", "::ffff:127.0.0.1"]
NETWORK = ["10.0.0.1", "192.168.1.5", "::2", "[2001:db8::1]", "mail.shandong.cn", "localhost.evil.cn", ""]


@pytest.mark.parametrize("host", LOOPBACK)
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", NETWORK)
def test_network_hosts(host: str) -> None:
    assert not is_loopback(host)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


@pytest.mark.parametrize("host", [h for h in LOOPBACK + NETWORK if h])
def test_imap_and_smtp_agree_where_plain_text_may_go(host: str) -> None:
    """``imap://`` and ``smtp://`` stay plain on exactly the same hosts, however the URL writes them
    (``[::1]`` included); anywhere else both insist on STARTTLS."""
    in_url = _url_host(host)
    imap_plain = parse_imap_url(f"imap://jb@{in_url}:143/INBOX").security == "plain"
    transport = open_transport(f"smtp://{in_url}:25", base_dir=Path("/"), password=lambda: None)
    assert isinstance(transport, SmtpTransport)
    assert imap_plain == (transport.mode == "plain") == is_loopback(host)
