"""Transports against real loopback servers: plain, implicit TLS, STARTTLS; Maildir."""

from __future__ import annotations

import mailbox
import ssl
from email.message import EmailMessage
from pathlib import Path

import pytest
from support.servers import free_port
from support.smtp import APPLICANT, PASSWORD, SENDER, USER, SmtpServer, TlsServers

from notifier.transports import (
    TRANSPORTS,
    PermanentSendError,
    TransientSendError,
    TransportConfigError,
    open_transport,
)
from notifier.transports.maildir import MaildirTransport
from notifier.transports.smtp import SmtpTransport

# implicit TLS: aiosmtpd does not count it as TLS for auth_require_tls, so it warns
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


def message(subject: str = "[JB2025-0007] 申报材料已收到") -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = SENDER, APPLICANT, subject
    msg["Message-ID"] = "<jb2025-0007.1.abc@shandong.cn>"
    msg.set_content("您好！")
    return msg


def send(transport: object) -> None:
    transport.send(message(), envelope_from=SENDER, recipients=[APPLICANT])  # type: ignore[attr-defined]


def no_password() -> str | None:
    return None


@pytest.mark.parametrize(("url", "mode", "port", "user"), [
    ("smtp://127.0.0.1:2526", "plain", 2526, None),
    ("smtp://localhost", "plain", 25, None),
    ("smtp://mail.shandong.cn:25", "starttls", 25, None),  # never plain across a network
    ("smtp+starttls://jb%40shandong.cn@mail.shandong.cn", "starttls", 587, "jb@shandong.cn"),
    ("smtps://jiebang@mail.shandong.cn", "tls", 465, "jiebang"),
    ("SMTPS://jiebang@mail.shandong.cn:2465", "tls", 2465, "jiebang"),
])
def test_open_smtp_urls(url: str, mode: str, port: int, user: str | None) -> None:
    transport = open_transport(url, base_dir=Path("/cfg"), password=no_password)
    assert isinstance(transport, SmtpTransport)
    assert (transport.mode, transport.port, transport.username) == (mode, port, user)


def test_open_maildir_relative_to_config(tmp_path: Path) -> None:
    transport = open_transport("maildir:var/outbox", base_dir=tmp_path, password=no_password)
    assert isinstance(transport, MaildirTransport) and transport.path == tmp_path / "var/outbox"
    absolute = open_transport(f"maildir:{tmp_path}/x", base_dir=Path("/elsewhere"), password=no_password)
    assert absolute.path == tmp_path / "x"  # type: ignore[attr-defined]


@pytest.mark.parametrize("url", ["smtps://u:pw@host", "imap://host", "smtp://", "maildir:", "smtp://h:99999"])
def test_bad_urls(url: str) -> None:
    with pytest.raises(TransportConfigError):
        open_transport(url, base_dir=Path("/cfg"), password=no_password)


def test_maildir_writes_a_readable_message(tmp_path: Path) -> None:
    send(MaildirTransport(tmp_path / "outbox"))
    send(MaildirTransport(tmp_path / "outbox"))
    box = mailbox.Maildir(tmp_path / "outbox", create=False)
    got = list(box)
    assert len(got) == 2 and not list((tmp_path / "outbox/tmp").iterdir())
    assert got[0]["Message-ID"] == "<jb2025-0007.1.abc@shandong.cn>"
    assert "\r\n" not in (tmp_path / "outbox/new" / next(iter(box.keys()))).read_text()


def test_maildir_unwritable_is_transient(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(TransientSendError):
        send(MaildirTransport(tmp_path / "file"))


def test_plain_loopback(smtp_server: SmtpServer) -> None:
    send(SmtpTransport("127.0.0.1", smtp_server.port, timeout=5))
    [got] = smtp_server.received
    assert got.mail_from == SENDER and got.rcpt_tos == [APPLICANT]
    assert got.message["Subject"] == "[JB2025-0007] 申报材料已收到"


def test_nothing_listening_is_transient() -> None:
    with pytest.raises(TransientSendError):
        send(SmtpTransport("127.0.0.1", free_port(), timeout=5))


def test_550_is_permanent_451_transient(smtp_server: SmtpServer) -> None:
    smtp_server.handler.data_replies = ["451 4.3.0 Try again later"]
    with pytest.raises(TransientSendError, match="451"):
        send(SmtpTransport("127.0.0.1", smtp_server.port, timeout=5))
    smtp_server.handler.rcpt_reply = "550 5.1.1 No such user"
    with pytest.raises(PermanentSendError, match="550"):
        send(SmtpTransport("127.0.0.1", smtp_server.port, timeout=5))
    assert smtp_server.received == []


@pytest.mark.parametrize("implicit", [True, False], ids=["smtps", "starttls"])
def test_tls_with_auth(smtp_tls: TlsServers, implicit: bool) -> None:
    server = smtp_tls.start(implicit=implicit)
    url = f"{'smtps' if implicit else 'smtp+starttls'}://{USER}@127.0.0.1:{server.port}"
    transport = open_transport(url, base_dir=Path("/"), password=lambda: PASSWORD, timeout=5,
                               ssl_context=smtp_tls.client_ctx)
    send(transport)
    [got] = server.received
    assert got.login == USER and got.message["Message-ID"] == "<jb2025-0007.1.abc@shandong.cn>"


@pytest.mark.parametrize("implicit", [True, False], ids=["smtps", "starttls"])
def test_tls_failures_are_transient(smtp_tls: TlsServers, implicit: bool) -> None:
    server = smtp_tls.start(implicit=implicit)
    scheme = "smtps" if implicit else "smtp+starttls"
    wrong = SmtpTransport("127.0.0.1", server.port, scheme=scheme, username=USER,
                          password=lambda: "wrong", timeout=5, ssl_context=smtp_tls.client_ctx)
    with pytest.raises(TransientSendError):
        send(wrong)
    untrusted = SmtpTransport("127.0.0.1", server.port, scheme=scheme, username=USER,
                              password=lambda: PASSWORD, timeout=5, ssl_context=ssl.create_default_context())
    with pytest.raises(TransientSendError):
        send(untrusted)
    missing = SmtpTransport("127.0.0.1", server.port, scheme=scheme, username=USER,
                            password=no_password, timeout=5, ssl_context=smtp_tls.client_ctx)
    with pytest.raises(TransientSendError, match="JIEBANG_SMTP_PASSWORD"):
        send(missing)
    assert server.received == []


def test_plain_client_refused_by_starttls_server(smtp_tls: TlsServers) -> None:
    server = smtp_tls.start(implicit=False)
    with pytest.raises((TransientSendError, PermanentSendError)):
        send(SmtpTransport("127.0.0.1", server.port, timeout=5))
    assert server.received == []


def test_the_registry_holds_maildir_and_every_smtp_flavour() -> None:
    assert set(TRANSPORTS) == {"maildir", "file", "smtp", "smtps", "smtp+starttls"}


@pytest.mark.parametrize("url", ["imap://host", "pop3://x", "lmtp://127.0.0.1:24"])
def test_an_unknown_scheme_names_the_allowed_ones(url: str) -> None:
    with pytest.raises(TransportConfigError) as info:
        open_transport(url, base_dir=Path("/cfg"), password=no_password)
    assert "unsupported scheme" in str(info.value)
    assert all(scheme in str(info.value) for scheme in TRANSPORTS)
