"""One regression test per measured header attack on the public mailbox, and per bug the
fuzzer (test_fuzz.py) found: nothing raises, every fact is read on its own, the work is
bounded, and what is kept fits the tracker's columns.

"Bounded" is checked by counting what reaches the costly steps (the values the stdlib's
quadratic parameter reader gets, the multiparts its parser opens, what is kept), never by
the clock: the seconds these attacks take are benchmarks/bounds.py's.
"""

from __future__ import annotations

import email.message
import email.utils
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

import pytest

from campaign import RoundPolicy
from intake import envelope as envelope_module
from intake import mime
from intake.classify import cloud_links
from intake.envelope import content_key, read_envelope
from intake.mime import parse_message
from intake.model import Envelope
from intake.understand import understand

CHINA = timezone(timedelta(hours=8))
GOOD = {
    "From": b"=?utf-8?B?5byg5LiJ?= <zhang@example.cn>",
    "Subject": b"=?utf-8?B?55Sz5oql5p2Q5paZ?=",  # 申报材料
    "Date": b"Mon, 13 Jan 2025 09:30:00 +0800",
    "Message-ID": b"<m1@example.cn>",
}


def mail(*, body: bytes = b"body\r\n", **headers: bytes) -> bytes:
    """A mail with the GOOD headers, some replaced (keyword "Message_ID" → Message-ID)."""
    fields = {**GOOD, **{k.replace("_", "-"): v for k, v in headers.items()}}
    head = b"".join(k.encode() + b": " + v + b"\r\n" for k, v in fields.items())
    return head + b"\r\n" + body


@dataclass
class StdlibParams:
    """What the stdlib's own MIME parameter code was handed while a test ran."""

    values: list[int] = field(default_factory=list)  # characters of each value read
    lists: list[int] = field(default_factory=list)  # parameters of each RFC 2231 decode


@pytest.fixture
def stdlib_params(monkeypatch: pytest.MonkeyPatch) -> StdlibParams:
    """Counts calls into ``email.message._parseparam`` — quadratic in the semicolons of a
    quoted value (64 KiB of them: 2 s a lookup) — and ``email.utils.decode_params``
    (RFC 2231: linear in the parameters, and it raises on some)."""
    seen = StdlibParams()
    parseparam, decode_params = email.message._parseparam, email.utils.decode_params

    def read(value: str) -> object:
        seen.values.append(len(value))
        return parseparam(value)

    def decode(params: list) -> object:
        seen.lists.append(len(params))
        return decode_params(params)

    monkeypatch.setattr(email.message, "_parseparam", read)
    monkeypatch.setattr(email.utils, "decode_params", decode)
    return seen


def multiparts_parsed(parsed: mime.ParsedMail) -> int:
    """Multipart containers the stdlib parser opened: it tests every line against the
    boundary of each open one, so lines × this bounds its work."""
    return sum(1 for part in parsed.headers.walk() if part.get_content_maintype() == "multipart")


def all_readers(raw: bytes) -> Envelope:
    """read_envelope, parse_message and understand agree and none raises."""
    env = read_envelope(raw)
    assert parse_message(raw).envelope == env
    result = understand(raw, RoundPolicy())
    assert (result.from_addr, result.subject, result.message_id) == (
        env.from_addr, env.subject, env.message_id)
    content_key(raw)
    return env


# -- the measured attacks -----------------------------------------------------------------


@pytest.mark.parametrize(
    "date",
    [
        b"Mon, 13 Jan 2025 09:30:00 +9999",  # was ValueError (offset beyond 24 h)
        b"Mon, 13 Jan 99999999999 09:30:00 +0800",  # was OverflowError
        b"Mon, 13 Jan " + b"9" * 5000 + b" 09:30:00 +0800",
        b"Mon, 13 Jan 2025 09:30:00 +1500",  # a real offset never exceeds 14 h
        b"Mon, 13 Jan 1900 09:30:00 +0800",
        b"Mon, 13 Jan 2999 09:30:00 +0800",
        b"9999-12-31T23:59:59+23:59",
    ],
)
def test_impossible_date_is_none_and_the_rest_is_kept(date: bytes) -> None:
    env = all_readers(mail(Date=date))
    assert env.date is None
    assert env.from_addr == "zhang@example.cn"
    assert env.subject == "申报材料"
    assert env.message_id == "<m1@example.cn>"


def test_plausible_dates_are_still_read() -> None:
    assert read_envelope(mail()).date == datetime(2025, 1, 13, 9, 30, tzinfo=CHINA)
    env = read_envelope(mail(Date=b"Sun, 12 Jan 2025 20:00:00 -1200"))
    assert env.date is not None and env.date.utcoffset() == timedelta(hours=-12)
    assert read_envelope(mail(Date=b"Thu, 1 Jan 1970 00:00:00 +0000")).date == datetime(
        1970, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("sender", "found"),
    [
        (b"(" * 600 + b"zhang@example.cn", "zhang@example.cn"),  # was RecursionError
        (b"a:" * 3000 + b"zhang@example.cn", "zhang@example.cn"),
        (b"(" * 600 + b"x" + b")" * 600 + b" <zhang@example.cn>", "zhang@example.cn"),
        # was RecursionError; the address lies past the 8 KiB that are read at all
        (b"a:" * 5000 + b"zhang@example.cn", None),
    ],
)
def test_deeply_nested_from_falls_back_to_the_first_address(sender: bytes, found: str) -> None:
    env = all_readers(mail(From=sender, Date=b"Mon, 13 Jan 2025 +9999"))
    assert env.from_addr == found
    assert env.subject == "申报材料"
    assert env.message_id == "<m1@example.cn>"


def test_unclosed_comments_in_a_date_are_read_or_ignored() -> None:
    env = all_readers(mail(Date=b"(" * 5000 + b"Mon, 13 Jan 2025 09:30:00 +0800"))
    assert env.from_addr == "zhang@example.cn"


def test_one_field_that_raises_loses_only_that_field(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(value: str | None) -> None:
        raise RuntimeError("hostile")

    monkeypatch.setattr(envelope_module, "parse_mail_datetime", boom)
    env = read_envelope(mail())
    assert env.date is None
    assert (env.from_addr, env.subject, env.message_id) == (
        "zhang@example.cn", "申报材料", "<m1@example.cn>")


def test_a_batch_of_poisoned_headers_is_read_message_by_message() -> None:
    batch = [
        mail(Date=b"Mon, 1 Jan 2024 10:00:00 +9999"),
        mail(Date=b"Mon, 1 Jan 99999999999 10:00:00 +0800"),
        mail(From=b"(" * 600 + b"a@b.cn"),
        mail(From=b"a:" * 5000 + b"a@b.cn"),
        mail(),
    ]
    envelopes = [read_envelope(raw) for raw in batch]
    assert [e.subject for e in envelopes] == ["申报材料"] * 5
    assert envelopes[-1].date is not None


# -- every other header-derived fact ------------------------------------------------------


def test_message_id_longer_than_its_column_is_dropped() -> None:
    assert read_envelope(mail(Message_ID=b"<" + b"m" * 2000 + b"@x.cn>")).message_id is None
    assert read_envelope(mail(Message_ID=b"bare-" + b"z" * 3000)).message_id is None
    longest = b"<" + b"m" * 991 + b"@x.cn>"
    assert read_envelope(mail(Message_ID=longest)).message_id == longest.decode()
    assert len(longest) == 998


def test_message_id_with_nul_or_controls_is_not_kept_as_is() -> None:
    env = read_envelope(mail(Message_ID=b"<a\x00b@x.cn> <ok@x.cn>"))
    assert env.message_id == "<ok@x.cn>"
    bare = read_envelope(mail(Message_ID=b"id\x00with\x01controls")).message_id
    assert bare is not None and "\x00" not in bare and "\x01" not in bare


def test_huge_references_keep_the_thread_root_and_the_latest_ids() -> None:
    ids = b" ".join(b"<%d@x.cn>" % i for i in range(100_000))
    env = all_readers(mail(References=ids, In_Reply_To=ids))
    assert len(env.references) == 50
    assert env.references[0] == "<0@x.cn>"
    assert env.references[-1] == "<99999@x.cn>"
    assert env.in_reply_to == "<0@x.cn>"


def test_reference_ids_over_998_chars_are_dropped_not_cut() -> None:
    env = read_envelope(mail(References=b"<" + b"x" * 5000 + b"@a> <ok@b>"))
    assert env.references == ["<ok@b>"]


def test_megabyte_subject_is_cut_with_an_ellipsis() -> None:
    env = all_readers(mail(Subject=b"A" * 1_000_000))
    assert env.subject == "A" * 65536 + "…"


def test_many_encoded_words_in_a_subject_are_bounded() -> None:
    words = b" ".join(b"=?x-cs%d?B?gIGCg4SF?=" % (i % 2) for i in range(20_000))
    env = all_readers(mail(Subject=words))
    assert env.subject is not None and len(env.subject) <= 65537


@pytest.mark.parametrize(
    "label", [b"idna", b"undefined", b"rot13", b"base64", b"unicode_escape", b"punycode",
              b"zlib", b"utf-8-purple", b"A" * 5000, b"\xe4\xb8\xad"]
)
def test_subject_with_a_lying_charset_is_text(label: str) -> None:
    subject = b"=?" + label + b"?B?gIHe?= =?" + label + b"?Q?=5Cud800?="
    env = all_readers(mail(Subject=subject, body=b"\x80\xff body"))
    assert isinstance(env.subject, str)
    env.subject.encode("utf-8")  # valid Unicode, no lone surrogates
    raw = mail(body=b"\x80\x81 \\ud800", Content_Type=b"text/plain; charset=" + label)
    assert isinstance(parse_message(raw).text, str)


def test_subject_with_nul_and_line_breaks_is_one_clean_line() -> None:
    env = read_envelope(mail(Subject=b"=?utf-8?Q?a=00b=0D=0AX-Injected:_1?="))
    assert env.subject == "a b X-Injected: 1"


def test_only_the_topmost_received_header_counts() -> None:
    raw = (b"Received: from mx by us; Mon, 13 Jan 2025 10:00:00 +0800\r\n"
           b"Received: from them by them; Sun, 1 Jan 2023 00:00:00 +0800\r\n" + mail())
    assert read_envelope(raw).received_at == datetime(2025, 1, 13, 10, tzinfo=CHINA)
    forged = b"Received: from mx by us; Mon, 13 Jan 2025 10:00:00 +9999\r\n" + raw
    assert read_envelope(forged).received_at is None


def test_megabyte_received_header_still_gives_its_date() -> None:
    top = b"Received: from " + b"x " * 500_000 + b"by us; Mon, 13 Jan 2025 10:00:00 +0800\r\n"
    env = all_readers(top + mail())
    assert env.received_at == datetime(2025, 1, 13, 10, tzinfo=CHINA)


def test_from_longer_than_its_column_is_dropped_not_cut() -> None:
    long_local = read_envelope(mail(From=b"x" * 5000 + b"@example.cn"))
    assert long_local.from_addr is None
    domain = b".".join([b"b" * 63] * 5)  # a 320+ character address
    assert read_envelope(mail(From=b"<a@" + domain + b".cn>")).from_addr is None
    assert read_envelope(mail(From=b", ".join([b"a@b.cn"] * 20_000))).from_addr == "a@b.cn"


# -- MIME parameters, file names, boundaries -----------------------------------------------

MULTI = b'multipart/mixed; boundary="b"'
PARTS = (b"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
         b'--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="a.pdf"'
         b"\r\n\r\n%PDF-1.4\r\n--b--\r\n")


@pytest.mark.parametrize(
    "content_type",
    [
        MULTI + b'; x="' + b";" * 200_000 + b'"',  # quadratic in the stdlib: minutes
        MULTI + b"; " + b"".join(b"x*%d*=y; " % i for i in range(20_000)),
        MULTI + b"; x*" + b"9" * 5000 + b"*=y",  # a 5,000-digit index: ValueError
        b"multipart/mixed; boundary*=b; boundary*0=c; boundary=b",  # unorderable: TypeError
        b"multipart/mixed; boundary*=undefined''b; boundary=b",  # UnicodeError
        MULTI + b"; charset*=idna''x",
    ],
)
def test_hostile_content_type_parameters(content_type: str, stdlib_params: StdlibParams) -> None:
    raw = mail(Content_Type=content_type, body=PARTS)
    parsed = parse_message(raw)
    assert isinstance(parsed, mime.ParsedMail)
    assert parsed.envelope.subject == "申报材料"
    understand(raw, RoundPolicy())
    # bounded: no value past MAX_PARAM_HEADER reached the quadratic reader (all 200,000
    # semicolons did, before), no list past MAX_PARAMS the RFC 2231 step (20,000 did)
    assert max(stdlib_params.values, default=0) <= envelope_module.MAX_PARAM_HEADER
    assert 0 < max(stdlib_params.lists) <= envelope_module.MAX_PARAMS


def test_absurd_rfc2231_continuations_of_a_file_name(stdlib_params: StdlibParams) -> None:
    pieces = b"".join(b"filename*%d*=%%E7%%94%%B3; " % i for i in range(20_000))
    part = b"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; " + pieces
    raw = mail(Content_Type=MULTI, body=part + b"\r\n\r\nx\r\n--b--\r\n")
    parsed = parse_message(raw)
    assert parsed.attachments[0].name == "申" * 64  # 64 of the 20,000 continuations joined
    assert max(stdlib_params.values, default=0) <= envelope_module.MAX_PARAM_HEADER
    assert max(stdlib_params.lists, default=0) <= envelope_module.MAX_PARAMS


@pytest.mark.parametrize(
    ("disposition", "name"),
    [
        (b'attachment; filename="' + b"n" * 5_000 + b'.pdf"', "n" * 251 + ".pdf"),
        # past the 16 KiB of a parameter value that are read, the extension is unknown
        (b'attachment; filename="' + b"n" * 20_000 + b'.pdf"', "n" * 255),
        (b'attachment; filename="a.pdf\x00.exe"', "a.pdf.exe"),
        (b'attachment; filename="..\\\\..\\\\windows\\\\a.docx"', "a.docx"),
        (b"attachment; filename*=gbk''" + b"%D6%D0" * 3000, "中" * 255),
    ],
)
def test_file_names_fit_and_hide_nothing(disposition: bytes, name: str) -> None:
    part = b"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: " + disposition
    raw = mail(Content_Type=MULTI, body=part + b"\r\n\r\nx\r\n--b--\r\n")
    assert [a.name for a in parse_message(raw).attachments] == [name]


def test_eight_bit_content_id_and_transfer_encoding_keep_the_attachments() -> None:
    # compat32 hands such values back as Header objects: .strip() raised AttributeError,
    # and the whole message fell back to headers only
    part = (b"--b\r\nContent-Type: application/pdf\r\nContent-ID: <\xe4\xb8\xad>\r\n"
            b'Content-Disposition: attachment; filename="a.pdf"\r\n\r\n%PDF\r\n'
            b"--b\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: b\xffse64\r\n\r\n"
            b"Subject: inner\r\n\r\ntext\r\n--b--\r\n")
    parsed = parse_message(mail(Content_Type=MULTI, body=part))
    assert [a.name for a in parsed.attachments] == ["a.pdf", "inner.eml"]


def test_ten_thousand_parts_are_bounded() -> None:
    parts = b"".join(b'--b\r\nContent-Type: application/octet-stream; name="f%d.bin"\r\n\r\nx\r\n' % i
                     for i in range(10_000))
    raw = mail(Content_Type=MULTI, body=parts + b"--b--\r\n")
    parsed = parse_message(raw)
    assert len(parsed.attachments) == mime.MAX_PARTS
    assert any("MIME parts" in p for p in parsed.problems)


def test_ten_thousand_empty_multiparts_are_bounded() -> None:
    empty = b'--b\r\nContent-Type: multipart/mixed; boundary="e"\r\n\r\n--e--\r\n' * 10_000
    raw = mail(Content_Type=MULTI, body=empty + b"--b--\r\n")
    parsed = parse_message(raw)
    assert any("multipart declarations" in p for p in parsed.problems)
    assert 0 < multiparts_parsed(parsed) <= mime.MAX_MULTIPARTS  # of 10,001


def nested(depth: int, inner: bytes = b"Content-Type: text/plain\r\n\r\ndeep text\r\n") -> bytes:
    body = b""
    for level in range(1, depth):
        body += b'--n%d\r\nContent-Type: multipart/mixed; boundary="n%d"\r\n\r\n' % (
            level - 1, level)
    return mail(Content_Type=b'multipart/mixed; boundary="n0"',
                body=body + b"--n%d\r\n" % (depth - 1) + inner)


def test_twenty_deep_nesting_is_cut_at_the_limit(caplog: pytest.LogCaptureFixture) -> None:
    parsed = parse_message(nested(20))
    assert parsed.text == ""  # the text sat below the limit
    assert any("nesting deeper than 10" in p for p in parsed.problems)
    assert "nesting deeper than 10" in caplog.text
    assert parse_message(nested(8)).text.strip() == "deep text"


@pytest.mark.parametrize("eol", [b"\r\n", b"\r"])
def test_hundreds_deep_nesting_costs_no_more_than_its_size(eol: bytes) -> None:
    # the stdlib parser checks each line against every open boundary: 400 open ones
    # and 100,000 lines took seconds before the multiparts past 100 were left unparsed
    raw = nested(400, b"Content-Type: text/plain\r\n\r\n" + b"x\r\n" * 100_000)
    raw = raw.replace(b"\r\n", eol)
    parsed = parse_message(raw)
    assert any("multipart declarations" in p for p in parsed.problems)
    # each of the 100,000 lines is tested against at most MAX_MULTIPARTS open boundaries
    assert 0 < multiparts_parsed(parsed) <= mime.MAX_MULTIPARTS  # of 400


# -- understand() when parsing fails --------------------------------------------------------


def test_failed_parse_still_gives_a_headers_only_understanding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(raw: bytes) -> None:
        raise RuntimeError("parser bug")

    monkeypatch.setattr(mime, "parse_message", broken)
    raw = mail(Auto_Submitted=b"auto-replied")
    result = understand(raw, RoundPolicy())
    assert (result.from_addr, result.subject, result.message_id) == (
        "zhang@example.cn", "申报材料", "<m1@example.cn>")
    assert result.no_reply_reason is not None  # the headers still say it is automatic


# -- found by the fuzzer ----------------------------------------------------------------------


def test_long_runs_of_letters_in_a_body_do_not_stall_cloud_link_search() -> None:
    # the link pattern rescanned every run once per start position: 40 KB took 40 s. That
    # no pattern of intake can is test_bounded.py's structural check; the clock is
    # benchmarks/patterns.py's and benchmarks/bounds.py's.
    assert cloud_links("x" * 1_000_000, "见" * 500_000, "a." * 500_000) == []
    raw = mail(body=b"a" * 200_000 + b" https://pan.baidu.com/s/1abc \r\n")
    result = understand(raw, RoundPolicy())
    assert isinstance(result, type(understand(mail(), RoundPolicy())))
    assert cloud_links("见https://pan.baidu.com/s/1abc 提取码") == ["https://pan.baidu.com/s/1abc"]
