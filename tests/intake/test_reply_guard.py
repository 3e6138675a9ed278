"""One reply guard: which incoming mail never gets an automatic answer (RFC 3834), decided
from the mail's own headers — the same for the full answer and the receipt on arrival."""

from __future__ import annotations

from email.message import Message

import pytest

from intake.classify import reply_guard
from intake.model import Envelope

SENDER = Envelope(message_id="<m@x>", from_addr="a@example.cn", subject="申报书", date=None, received_at=None)


def _headers(values: dict[str, str]) -> Message:
    msg = Message()
    for name, value in values.items():
        msg[name] = value
    return msg


@pytest.mark.parametrize(
    ("headers", "forbidden"),
    [
        ({"From": "a@example.cn", "Subject": "申报书"}, False),
        ({"Auto-Submitted": "no"}, False),
        ({"auto-submitted": "No; comment"}, False),
        ({"Auto-Submitted": "auto-replied"}, True),
        ({"AUTO-SUBMITTED": "auto-generated"}, True),
        ({"Precedence": "bulk"}, True),
        ({"Precedence": "junk"}, True),
        ({"Precedence": "list"}, True),
        ({"Precedence": "auto_reply"}, True),
        ({"Precedence": "first-class"}, False),
        ({"List-Id": "<datalist.lists.example.cn>"}, True),
        ({"List-Unsubscribe": "<mailto:x@example.cn>"}, True),
        ({"X-Autoreply": "yes"}, True),
        ({"X-Loop": "dsjjzcghc@shandong.cn"}, True),
        ({"X-Auto-Response-Suppress": "All"}, True),
        ({"X-Auto-Response-Suppress": "OOF, AutoReply"}, True),
        ({"X-Auto-Response-Suppress": "DR"}, False),
        ({"Return-Path": "<>"}, True),
        ({"Return-Path": "<applicant@example.cn>"}, False),
        ({"Content-Type": "multipart/report; report-type=delivery-status"}, True),
        ({"Content-Type": "multipart/mixed"}, False),
    ],
)
def test_headers_forbid_reply(headers: dict[str, str], forbidden: bool) -> None:
    reason = reply_guard(None, _headers(headers), SENDER, frozenset())
    assert (reason is not None) is forbidden, reason


@pytest.mark.parametrize("values", [{"Feedback-Type": "abuse"}, {"List-Post": "<mailto:l@example.cn>"},
                                    {"Content-Type": "multipart/report; report-type=disposition-notification"}])
def test_reports_and_list_posts_are_never_answered(values: dict[str, str]) -> None:
    assert reply_guard("submission", _headers(values), SENDER, frozenset()) is not None
