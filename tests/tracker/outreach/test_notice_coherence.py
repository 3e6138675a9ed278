"""Every answer says one thing: each kind of mail in each situation, through the real pipeline.

One province database receives, in the order they would arrive, the mails that lead to
every notice jiebang writes — on time, late with an earlier timely version standing, late
with none, to the wrong channel (city known, city unknown, after the city's deadline),
without an attachment, with a cloud link, with deficiencies before and after the
deadline, a city package with problems and one that came late, status questions in each
of those states, a stranger's mail, reminders — and every answer is read for steps that
another part of it rules out (``support.coherence``). The answers must also agree with
each other: a status reply says what the notice before it said.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlmodel import Session, select
from support.coherence import CST, Mail, incoherences
from support.records import T0, application_mail, city_package, deliver, form, make_app, outbox

from notifier.models import OutboxMail
from tracker.app import App
from tracker.service import Service
from tracker.store.tables import StoredMessage

QUESTION = {"subject": "查询进度", "attachments": [], "body": "请问我单位申报的审核进度如何？"}
CLOUD_BODY = "申报书文件较大，已通过超大附件发送：https://wx.mail.qq.com/ftn/download?func=3&k=abc123 请查收。"
JAN = T0.replace  # T0 is 2025-01-08 10:00 in Shanghai


def _unit(n: int) -> dict:
    """A provincial unit of its own (name and credit code), so that scenarios never meet."""
    return {"unit": f"山东省第{n}数据研究院", "code17": f"12370000MA3QH7K{n:02d}"}


def _jinan(unit: str, code17: str) -> tuple[str, bytes]:
    return (f"申报书-{unit}.docx", form(unit=unit, code17=code17, nature="其他", city="济南市", direction=6))


def _weifang(unit: str, code17: str) -> tuple[str, bytes]:
    return (f"申报书-{unit}.docx", form(unit=unit, code17=code17, nature="其他", city="潍坊市", direction=7))


WEIFANG = {"nature": "其他", "city": "潍坊市", "direction": 3}
# who is who: the recipient of each situation's answers
CLEAN, STANDS, STANDS_OPEN, LATE, WRONG, WRONG_LATE, WRONG_UNKNOWN = (
    "clean@a.example", "stands@b.example", "stands-open@b2.example", "late@c.example", "wrong@wf.example",
    "wrong-late@wf2.example", "wrong@qd.example")
NOTHING, NOTHING_LATE, CLOUD, OPEN, TWO, STRANGER, THIEF, DUPLICATE = (
    "nothing@g.example", "nothing-late@h.example", "cloud@i.example", "open@j.example", "two@m.example",
    "nosy@n.example", "thief@o.example", "twice@q.example")
JINAN, WEIFANG_BUREAU = "jinan-dsj@dsj.jinan.example", "weifang-dsj@dsj.weifang.example"
REMIND_ON = date(2025, 1, 17)  # three days before the province's deadline


@pytest.fixture(scope="module")
def answered(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[OutboxMail, Mail]]:
    folder = tmp_path_factory.mktemp("coherence")
    app = make_app(folder, f"sqlite:///{folder}/jiebang.db")
    deliver(app,
            application_mail(sender=CLEAN, **_unit(1)),
            application_mail(sender=STANDS, **_unit(2)),
            application_mail(sender=STANDS_OPEN, outcomes=(), **_unit(3)),
            application_mail(sender=WRONG, unit="潍坊某某信息技术有限公司", code17="91370700MA3QH7K2X", **WEIFANG),
            application_mail(sender=WRONG_UNKNOWN, unit="青岛某某信息技术有限公司", code17="91370200MA3QH7K2X",
                             nature="其他", city="青岛市"),
            application_mail(sender=NOTHING, attachments=[]),
            application_mail(sender=CLOUD, attachments=[], body=CLOUD_BODY),
            application_mail(sender=OPEN, outcomes=(), **_unit(4)),
            application_mail(sender=TWO, **_unit(5)),
            application_mail(sender=TWO, direction=5, **_unit(6)),
            application_mail(sender=DUPLICATE, direction=2, **_unit(7)),
            application_mail(sender=DUPLICATE, direction=5, **_unit(7)))
    deliver(app,
            application_mail(sender=CLEAN, when=T0 + timedelta(days=1), **QUESTION),
            application_mail(sender=WRONG, when=T0 + timedelta(hours=2), **QUESTION),
            application_mail(sender=OPEN, when=T0 + timedelta(hours=3), **QUESTION),
            application_mail(sender=TWO, when=T0 + timedelta(hours=4), **QUESTION),
            application_mail(sender=STRANGER, when=T0 + timedelta(hours=5), subject="查询 JB2025-0001 的进度",
                             attachments=[], body="请问 JB2025-0001 审核到哪一步了？"),
            application_mail(sender=THIEF, when=T0 + timedelta(hours=6), **_unit(1)))
    deliver(app, city_package(rows=[(1, 6, "济南云泺信息技术有限公司", "甲")], with_pdf=False,
                              forms=[_jinan("济南云泺信息技术有限公司", "91370102MA3CY1L5N")],
                              when=JAN(day=16)))
    deliver(app, application_mail(sender=WRONG_LATE, unit="潍坊后到信息技术有限公司", code17="91370702MA3QH7K2X",
                                  when=JAN(day=17), **WEIFANG))
    Service(app).remind(REMIND_ON)
    deliver(app,
            application_mail(sender=LATE, when=JAN(day=21), **_unit(8)),
            application_mail(sender=NOTHING_LATE, attachments=[], when=JAN(day=21)),
            application_mail(sender=STANDS, subject="Re: 更新申报书", when=JAN(day=22), **_unit(2)),
            application_mail(sender=STANDS_OPEN, subject="Re: 更新申报书", when=JAN(day=22), **_unit(3)),
            city_package(city="潍坊市", sender=WEIFANG_BUREAU, rows=[(1, 7, "潍坊迟到数据有限公司", "乙")],
                         forms=[_weifang("潍坊迟到数据有限公司", "91370703MA3QH7K2X")], when=JAN(day=22)))
    deliver(app,
            application_mail(sender=LATE, when=JAN(day=21, hour=11), **QUESTION),
            application_mail(sender=STANDS, when=JAN(day=22, hour=11), **QUESTION),
            application_mail(sender=STANDS_OPEN, when=JAN(day=23), **QUESTION),
            application_mail(sender=OPEN, when=JAN(day=25), **QUESTION))
    return [(m, _as_mail(app, m)) for m in outbox(app)]


def _as_mail(app: App, m: OutboxMail) -> Mail:
    with Session(app.engine) as s:
        asked = s.exec(select(StoredMessage).where(StoredMessage.message_id == m.in_reply_to)).first()
    at = asked.received_at if asked is not None and asked.received_at else None
    if m.kind == "reminder":
        at = datetime.combine(REMIND_ON, time(8), tzinfo=CST)
    return Mail(f"{m.kind} → {m.to_addrs[0]}", m.subject, m.text_body, at)


def _to(answered: list[tuple[OutboxMail, Mail]], address: str) -> list[tuple[OutboxMail, Mail]]:
    return [(m, said) for m, said in answered if m.to_addrs == [address]]


def _one(answered: list[tuple[OutboxMail, Mail]], address: str, kind: str, nth: int = 0) -> Mail:
    return [said for m, said in _to(answered, address) if m.kind == kind][nth]


def test_every_situation_is_answered(answered) -> None:
    kinds = {address: sorted(m.kind for m, _ in _to(answered, address)) for address in (
        CLEAN, STANDS, STANDS_OPEN, LATE, WRONG, WRONG_LATE, WRONG_UNKNOWN, NOTHING, NOTHING_LATE, CLOUD, OPEN,
        TWO, STRANGER, THIEF, DUPLICATE, JINAN, WEIFANG_BUREAU)}
    assert kinds == {
        CLEAN: ["ack", "claim_notice", "status"],  # a stranger sent material for it
        STANDS: ["ack", "deficiency", "status"],
        STANDS_OPEN: ["deficiency", "deficiency", "reminder", "status"],
        LATE: ["deficiency", "status"],
        WRONG: ["redirect", "status"],
        WRONG_LATE: ["redirect"],
        WRONG_UNKNOWN: ["deficiency"],
        NOTHING: ["deficiency"],
        NOTHING_LATE: ["deficiency"],
        CLOUD: ["deficiency"],
        OPEN: ["deficiency", "reminder", "status", "status"],
        TWO: ["ack", "ack", "status"],  # the list of both
        STRANGER: ["status"],  # denied
        THIEF: ["receipt"],
        DUPLICATE: ["ack", "deficiency", "reminder"],
        JINAN: ["package_receipt", "reminder"],  # its application still lacks the PDF
        WEIFANG_BUREAU: ["package_receipt", "reminder"],  # no package yet on 17 January
    }


def test_no_answer_asks_for_a_step_another_part_of_it_rules_out(answered) -> None:
    problems = {said.name + f"（{said.subject}）": found for _, said in answered if (found := incoherences(said))}
    assert not problems, "\n".join(f"{name}: {p}" for name, found in problems.items() for p in found)


def test_a_late_version_names_the_version_that_stands_and_the_status_agrees(answered) -> None:
    for address in (STANDS, STANDS_OPEN):
        notice = [said for m, said in _to(answered, address) if m.kind == "deficiency"][-1]
        assert "补正" not in notice.subject and "逾期" in notice.subject
        assert "以按时送达的第1版为准" in notice.text and "第2版" in notice.text
        assert "无需也不能再补正或重新报送" in notice.text
        status = _one(answered, address, "status")
        assert "第2版" in status.text and "以按时送达的第1版为准" in status.text
    # version 1 had a problem that can no longer be corrected: the status names it, asks nothing
    status = _one(answered, STANDS_OPEN, "status")
    assert "预期成果" in status.text and "不能再补正" in status.text


def test_a_late_first_version_is_not_accepted_and_nothing_is_asked(answered) -> None:
    notice = _one(answered, LATE, "deficiency")
    assert "补正" not in notice.subject and "原则上不予受理" in notice.text
    assert "2025年1月20日24时前" not in notice.text
    status = _one(answered, LATE, "status")
    assert "原则上不予受理" in status.text and "待补正" not in status.text
    late_and_empty = _one(answered, NOTHING_LATE, "deficiency")
    assert "原则上不予受理" in late_and_empty.text and "作为邮件附件" not in late_and_empty.text


def test_wrong_channel_names_the_city_bureau_and_not_us(answered) -> None:
    redirect = _one(answered, WRONG, "redirect")
    for said in ("潍坊市大数据局", "郎雪梅", "0536-9999249", "weifang-dsj@dsj.weifang.example",
                 "2025年1月15日24时前"):
        assert said in redirect.text
    status = _one(answered, WRONG, "status")
    assert "潍坊市大数据局" in status.text and "补正" not in status.subject
    after = _one(answered, WRONG_LATE, "redirect")  # the city's own deadline has passed
    assert "潍坊市大数据局" in after.text and "2025年1月15日" not in after.text
    unknown = _one(answered, WRONG_UNKNOWN, "deficiency")
    assert "所在设区市大数据局" in unknown.text and "补正" not in unknown.subject


def test_no_attachment_says_its_instruction_once(answered) -> None:
    for address in (NOTHING, CLOUD):
        notice = _one(answered, address, "deficiency")
        assert notice.text.count("作为邮件附件") == 1, notice.text
        assert notice.text.count("重新发送") == 1, notice.text


def test_after_the_deadline_a_status_reply_asks_nothing(answered) -> None:
    before, after = _one(answered, OPEN, "status"), _one(answered, OPEN, "status", 1)
    assert "请按上述要求修改" in before.text
    assert "申报已截止" in after.text and "重新发送" not in after.text


def test_a_late_package_is_told_so_once(answered) -> None:
    receipt = _one(answered, WEIFANG_BUREAU, "package_receipt")
    assert "原则上不予受理" in receipt.text and "请于" not in receipt.text
    on_time = _one(answered, JINAN, "package_receipt")
    assert "2025年1月20日24时前" in on_time.text and on_time.text.count("重新报送") == 1
