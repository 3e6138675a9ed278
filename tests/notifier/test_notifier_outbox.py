"""Writing outbox rows: caller's transaction, dedupe, daily cap, loops, listings."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session
from support.mail_contexts import CONTEXTS
from support.smtp import APPLICANT, SENDER

from notifier.models import OutboxMail, OutboxState
from notifier.outbox import (
    Attachment,
    InvalidMail,
    InvalidTransition,
    MailNotFound,
    enqueue,
    mark_bounced,
    outbox_rows,
    resend,
)

NOW = datetime(2025, 1, 13, 1, 0, tzinfo=UTC)  # 09:00 Asia/Shanghai
PARENT = "<CAF=abc123@mail.example.cn>"


def ack(session: Session, **kw: object) -> OutboxMail | None:
    args: dict = dict(kind="ack", to=[APPLICANT], template="ack", context=CONTEXTS["ack"],
                      reference="JB2025-0007", in_reply_to=PARENT, sender=SENDER, now=NOW,
                      cause="message #12")
    args.update(kw)
    return enqueue(session, **args)


def count(engine: Engine) -> int:
    with Session(engine) as s:
        return s.execute(select(func.count()).select_from(OutboxMail)).scalar_one()


def test_enqueue_writes_a_self_contained_row(engine: Engine) -> None:
    pdf = Attachment("申报书（盖章）.pdf", "application/pdf", "a" * 64)
    with Session(engine) as s:
        row = ack(s, references=["<older@mail.example.cn>", "garbage"], attachments=[pdf])
        s.commit()
        assert row is not None and row.id is not None
    with Session(engine) as s:
        row = s.get(OutboxMail, row.id)
        assert row.kind == "ack" and row.to_addrs == [APPLICANT] and row.state == "pending"
        assert row.subject == "[JB2025-0007] 申报材料已收到（数据流通交易）"
        assert "JB2025-0007" in row.text_body and "<!DOCTYPE html>" in row.html_body
        assert re.fullmatch(r"<jb2025-0007\.\d{10}\.[0-9a-f]{8}@shandong\.cn>", row.message_id)
        assert row.in_reply_to == PARENT
        assert row.references == ["<older@mail.example.cn>", PARENT]
        assert row.auto_submitted == "auto-replied"
        assert row.attachments == [{"name": "申报书（盖章）.pdf", "content_type": "application/pdf",
                                    "sha256": "a" * 64, "cid": None}]
        assert row.recipient_key == APPLICANT and row.cause == "message #12"
        assert row.attempts == 0


def test_enqueue_never_commits(engine: Engine) -> None:
    with Session(engine) as s:
        assert ack(s) is not None
        assert count(engine) == 0  # another connection sees nothing yet
        s.rollback()
    assert count(engine) == 0


def test_reminders_are_auto_generated_and_untagged_without_reference(engine: Engine) -> None:
    with Session(engine) as s:
        row = enqueue(s, kind="reminder", to=["jnsdsj@jn.shandong.cn"], template="reminder_city",
                      context=CONTEXTS["reminder_city"], sender=SENDER, now=NOW)
        assert row.auto_submitted == "auto-generated"
        assert row.subject.startswith("提醒：") and "[" not in row.subject
        assert row.message_id.startswith("<reminder.")
        status = enqueue(s, kind="status", to=[APPLICANT], template="status_denied", context={},
                         sender=SENDER, now=NOW, auto_submitted="auto-generated")
        assert status.auto_submitted == "auto-generated"


def test_dedupe_key_survives_restarts(engine: Engine) -> None:
    key = f"reminder:2025-01-13:{APPLICANT}"
    with Session(engine) as s:
        assert ack(s, dedupe_key=key) is not None
        assert ack(s, dedupe_key=key) is None  # same transaction
        s.commit()
    with Session(engine) as s:  # a new process, a day of restarts later
        assert ack(s, dedupe_key=key, now=NOW + timedelta(hours=5)) is None
    assert count(engine) == 1


def test_daily_cap_per_address_and_shanghai_day(engine: Engine) -> None:
    with Session(engine) as s:
        for i in range(20):
            assert ack(s, to=[APPLICANT.upper() if i % 2 else APPLICANT], now=NOW + timedelta(minutes=i))
        assert ack(s, now=NOW + timedelta(hours=14, minutes=59)) is None  # 23:59 Shanghai
        assert ack(s, to=["other@example.cn"]) is not None
        digest = enqueue(s, kind="digest", to=[APPLICANT], template="status_list",
                         context=CONTEXTS["status_list"], sender=SENDER, now=NOW)
        assert digest is not None  # staff digests are exempt
        s.commit()
    with Session(engine) as s:
        assert ack(s, now=NOW + timedelta(hours=15, minutes=1)) is not None  # 00:01 next day


def test_a_smaller_cap(engine: Engine) -> None:
    with Session(engine) as s:
        assert ack(s, daily_cap=1) is not None
        assert ack(s, daily_cap=1) is None


@pytest.mark.parametrize("to", [
    [SENDER], ["MAILER-DAEMON@mx.example.cn"], ["noreply@example.cn"], [], ["bad address"],
    ["dsjjzcghc@shandong.cn", "datalist-request@lists.example.cn"],
])
def test_no_mail_to_robots_or_ourselves(engine: Engine, to: list[str]) -> None:
    with Session(engine) as s:
        assert ack(s, to=to) is None


def test_own_addresses_and_filtered_recipients(engine: Engine) -> None:
    with Session(engine) as s:
        assert ack(s, to=["box@shandong.cn"], own_addresses=frozenset({"box@shandong.cn"})) is None
        row = ack(s, to=["postmaster@example.cn", "Staff@Example.cn", "staff@example.cn"])
        assert row.to_addrs == ["Staff@Example.cn"] and row.recipient_key == "staff@example.cn"


def test_values_from_mail_cannot_inject_headers(engine: Engine) -> None:
    context = {**CONTEXTS["ack"], "unit": "某公司\r\nBcc: evil@x.cn\r\n"}
    with Session(engine) as s:
        row = ack(s, context=context, in_reply_to="<x@y>\r\nBcc: evil@x.cn",
                  attachments=[Attachment("a\r\nBcc: evil@x.cn.pdf", "text/html\r\nX: y", "b" * 64)])
        assert "\r" not in row.subject and "\n" not in row.subject
        assert row.in_reply_to == "<x@y>"
        assert row.attachments[0]["name"] == "a Bcc: evil@x.cn.pdf"
        assert row.attachments[0]["content_type"] == "application/octet-stream"


def test_invalid_requests_are_bugs(engine: Engine) -> None:
    with Session(engine) as s:
        with pytest.raises(InvalidMail):
            ack(s, reference="JB2025-0007\r\nBcc: x")
        with pytest.raises(InvalidMail):
            ack(s, kind="spam")
        with pytest.raises(InvalidMail):
            ack(s, auto_submitted="no")
        with pytest.raises(InvalidMail):
            ack(s, attachments=[Attachment("a.pdf", "application/pdf", "../etc/passwd")])


def test_outbox_rows_match_spec(engine: Engine) -> None:
    with Session(engine) as s:
        ack(s)
        row = ack(s, to=["other@example.cn"])
        row.state = OutboxState.sending  # in flight: SPEC §4 lists it as pending
        s.commit()
        listed = outbox_rows(s)
    json.dumps(listed)
    assert len(listed) == 2
    spec_keys = {"kind", "to", "subject", "reference", "state", "attempts"}
    for item in listed:
        assert spec_keys <= set(item)
        assert item["state"] in ("pending", "sent", "failed", "bounced")
    assert listed[0]["kind"] == "ack" and listed[0]["to"] == [APPLICANT]
    assert listed[0]["reference"] == "JB2025-0007" and listed[0]["attempts"] == 0
    assert listed[0]["subject"].startswith("[JB2025-0007]")
    assert listed[1]["state"] == "pending"


def test_mark_bounced_and_resend(engine: Engine) -> None:
    with Session(engine) as s:
        row = ack(s)
        row.state, row.attempts = OutboxState.sent, 1
        s.commit()
        assert mark_bounced(s, "<nobody@else>", "550") is None
        bounced = mark_bounced(s, row.message_id.upper().strip("<>"), "550 5.1.1 user unknown")
        assert bounced is not None and bounced.id == row.id
        row_id = row.id
        s.commit()
    with Session(engine) as s:
        row = s.get(OutboxMail, row_id)
        assert row.state == "bounced" and "user unknown" in row.last_error
        again = resend(s, row.id, now=NOW + timedelta(hours=1))
        assert again.state == "pending" and again.attempts == 0
        with pytest.raises(InvalidTransition):
            resend(s, row.id)
        with pytest.raises(MailNotFound):
            resend(s, 999_999)
        mark_bounced(s, row.message_id, "late DSN for the first attempt")
        assert row.state == "pending"  # the resend stands
