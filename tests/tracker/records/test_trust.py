"""Trust: only the right sender changes a record; no bystander gets mail.

Each attack from the trust issue, as the attacker would send it, through the real
pipeline (store → workers → records → outbox).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select
from support.helpers import jiebang
from support.records import (
    T0,
    application_mail,
    city_package,
    deliver,
    form,
    make_app,
    open_codes,
    outbox,
    submissions,
)

from notifier.models import OutboxMail
from tracker.app import App
from tracker.records import claims as claim_records
from tracker.store.tables import Claim, Event, RecommendationRow, Submission

VICTIM = "wangxm@quanhe.example.cn"
STRANGER = "grabber@stranger.example.net"
BYSTANDER = "bystander@innocent.example.cn"
AUTH_OK = "mx.shandong.cn; spf=pass smtp.mailfrom={d}; dkim=pass header.d={d}; dmarc=pass header.from={d}"
AUTH_FAIL = "mx.shandong.cn; spf=fail smtp.mailfrom={d}; dmarc=fail (p=reject) header.from={d}"


def _snapshot(app: App, reference: str) -> tuple:
    with Session(app.engine) as s:
        sub = s.exec(select(Submission).where(Submission.reference == reference)).one()
        return (sub.unit, sub.task_name, sub.direction, sub.versions, sub.status, tuple(sub.contacts),
                tuple(sorted(open_codes(app, sub))))


def _to(app: App, address: str) -> list[OutboxMail]:
    return [m for m in outbox(app) if address in m.to_addrs]


def _claims(app: App) -> list[Claim]:
    with Session(app.engine) as s:
        return list(s.exec(select(Claim).order_by(Claim.id)).all())


@pytest.fixture
def victim(tmp_path, db_url) -> tuple[App, str]:
    app = make_app(tmp_path, db_url, processing={"workers": 0})
    deliver(app, application_mail(sender=VICTIM))
    [sub] = submissions(app)
    return app, sub.reference


def test_a_stranger_quoting_a_reference_changes_nothing_and_learns_nothing(victim) -> None:
    app, ref = victim
    before = _snapshot(app, ref)
    # a copy of the victim's form (credit codes and unit names are public), quoting the reference
    deliver(app, application_mail(sender=STRANGER, subject=f"Re: [{ref}] 补充材料", when=T0 + timedelta(days=1),
                                  direction=2, partners=("某某伪造科技有限公司",)))
    assert _snapshot(app, ref) == before
    [claim] = _claims(app)
    assert claim.kind == "reference" and claim.sender == STRANGER
    # the stranger gets a neutral receipt: no reference, no status, nothing of the victim
    [receipt] = _to(app, STRANGER)
    text = receipt.subject + receipt.text_body + receipt.html_body
    assert receipt.kind == "receipt" and ref not in text and "泉河" not in text
    # the address on file is told that someone else sent material — none of it
    [notice] = [m for m in _to(app, VICTIM) if m.kind == "claim_notice"]
    assert ref in notice.subject + notice.text_body and "伪造" not in notice.text_body + notice.html_body


def test_the_victims_credit_code_from_a_stranger_is_a_claim_in_any_direction(victim) -> None:
    app, ref = victim
    before = _snapshot(app, ref)
    deliver(app,
            application_mail(sender=STRANGER, when=T0 + timedelta(days=1)),  # same unit, code and direction
            application_mail(sender=STRANGER, when=T0 + timedelta(days=2), direction=5))  # another direction
    assert _snapshot(app, ref) == before  # no new version, fields, contact or DUPLICATE_LEAD on the victim
    assert [s.reference for s in submissions(app)] == [ref]
    assert [c.kind for c in _claims(app)] == ["credit_code", "credit_code"]
    for mail in _to(app, STRANGER):
        text = mail.subject + mail.text_body + mail.html_body
        assert ref not in text and "数据治理" not in text and "方向" not in mail.subject


def test_staff_confirm_a_claim_and_it_is_applied_as_sent(victim) -> None:
    app, ref = victim
    deliver(app, application_mail(sender=STRANGER, subject=f"Re: [{ref}] 补充材料", when=T0 + timedelta(days=1)))
    [claim] = _claims(app)
    proc = jiebang("claim", "confirm", str(claim.id), "--note", "电话核实为同一单位", config=app.settings.base_dir / "config.yaml")
    assert proc.returncode == 0, proc.stderr.decode()
    with Session(app.engine) as s:
        sub = s.exec(select(Submission).where(Submission.reference == ref)).one()
        assert sub.versions == 2 and STRANGER in sub.contacts
        assert claim_records.pending(s) == []
    assert jiebang("claim", "confirm", str(claim.id), config=app.settings.base_dir / "config.yaml").returncode == 1


def test_a_forged_city_package_never_touches_the_citys_recommendations(tmp_path, db_url) -> None:
    app = make_app(tmp_path, db_url, processing={"workers": 0})
    rows = [(1, 6, "济南云泺信息技术有限公司", "隐私计算数据流通平台")]
    forms = [("申报书-济南云泺.docx", form(unit="济南云泺信息技术有限公司", code17="91370102MA3CY1L5N", nature="其他",
                                          direction=6))]
    deliver(app, city_package(rows=rows, forms=forms))
    with Session(app.engine) as s:
        real = [(r.direction, r.rank, r.unit, r.current) for r in s.exec(select(RecommendationRow)).all()]
    assert real == [(6, 1, "济南云泺信息技术有限公司", True)]
    fake_rows = [(1, 6, "伪造推荐有限公司", "伪造任务")]
    deliver(app, city_package(sender="jinan-dsj@dsj-jinan.example.net", rows=fake_rows, forms=[],
                              when=T0 + timedelta(days=9)))
    with Session(app.engine) as s:
        after = [(r.direction, r.rank, r.unit, r.current) for r in s.exec(select(RecommendationRow)).all()]
    assert after == real
    assert [c.kind for c in _claims(app)] == ["package"]


def test_with_trusted_verdicts_a_dmarc_failure_is_held_and_a_pass_counts(tmp_path, db_url) -> None:
    app = make_app(tmp_path, db_url, processing={"workers": 0},
                   mailbox={"trusted_authserv_ids": ["mx.shandong.cn"]})
    forms = [("申报书-济南云泺.docx", form(unit="济南云泺信息技术有限公司", code17="91370102MA3CY1L5N", nature="其他",
                                          direction=6))]
    rows = [(1, 6, "济南云泺信息技术有限公司", "隐私计算数据流通平台")]
    domain = "dsj.jinan.example"
    failed = city_package(rows=rows, forms=forms)
    failed = f"Authentication-Results: {AUTH_FAIL.format(d=domain)}\r\n".encode() + failed
    deliver(app, failed)
    assert submissions(app) == [] and [c.kind for c in _claims(app)] == ["package"]
    assert _to(app, "jinan-dsj@dsj.jinan.example") == []  # forged at our server: no answer at all
    passed = city_package(rows=rows, forms=forms, when=T0 + timedelta(days=8, hours=1))
    deliver(app, f"Authentication-Results: {AUTH_OK.format(d=domain)}\r\n".encode() + passed)
    assert [s.unit for s in submissions(app)] == ["济南云泺信息技术有限公司"]


def test_forged_mail_in_a_bystanders_name_gets_no_answer(tmp_path, db_url) -> None:
    app = make_app(tmp_path, db_url, processing={"workers": 0},
                   mailbox={"trusted_authserv_ids": ["mx.shandong.cn"]})
    raws = [f"Authentication-Results: {AUTH_FAIL.format(d='innocent.example.cn')}\r\n".encode()
            + application_mail(sender=BYSTANDER, when=T0 + timedelta(minutes=i), unit=f"山东测试{i}号科技有限公司",
                               code17=f"91370102MA3C{i:04d}X", nature="其他")
            for i in range(25)]
    deliver(app, *raws)
    assert _to(app, BYSTANDER) == []


def test_first_contacts_over_the_hourly_budget_are_held_for_staff(tmp_path, db_url) -> None:
    app = make_app(tmp_path, db_url, processing={"workers": 0}, notify={"new_address_hourly_cap": 2})
    senders = [f"new{i}@example{i}.cn" for i in range(3)]
    deliver(app, *[application_mail(sender=s, unit=f"山东首联{i}号数据有限公司", code17=f"91370102MA3D{i:04d}Y",
                                    when=T0 + timedelta(minutes=i)) for i, s in enumerate(senders)])
    states = [m.state for m in outbox(app)]
    assert states.count("held") == 1 and len(states) == 3
    held = next(m for m in outbox(app) if m.state == "held")
    proc = jiebang("resend", str(held.id), config=app.settings.base_dir / "config.yaml")
    assert proc.returncode == 0, proc.stderr.decode()


# --- identity as our server verified it (second round) ------------------------------------------
def _with_from(raw: bytes, *lines: bytes) -> bytes:
    """*raw* with its From field replaced by *lines* (one From header each)."""
    head, _, body = raw.partition(b"\r\n\r\n")
    kept = [h for h in head.split(b"\r\n") if not h.lower().startswith(b"from:")]
    return b"\r\n".join([*kept, *(b"From: " + line for line in lines)]) + b"\r\n\r\n" + body


def test_a_mail_our_server_says_is_forged_never_changes_the_victims_record(tmp_path, db_url) -> None:
    app = make_app(tmp_path, db_url, processing={"workers": 0}, mailbox={"trusted_authserv_ids": ["mx.shandong.cn"]})
    deliver(app, f"Authentication-Results: {AUTH_OK.format(d='quanhe.example.cn')}\r\n".encode()
            + application_mail(sender=VICTIM))
    [sub] = submissions(app)
    before, mails = _snapshot(app, sub.reference), len(outbox(app))
    forged = f"Authentication-Results: {AUTH_FAIL.format(d='quanhe.example.cn')}\r\n".encode() + application_mail(
        sender=VICTIM, when=T0 + timedelta(days=1), unit="山东省泉河数字经济研究院", direction=2)
    deliver(app, forged.replace("揭榜任务".encode(), "被篡改的任务".encode()))
    assert _snapshot(app, sub.reference) == before
    assert len(outbox(app)) == mails  # nobody is answered: the From is not who sent it
    assert [c.kind for c in _claims(app)] == ["sender"]


def test_a_forged_sender_is_never_put_on_file(tmp_path, db_url) -> None:
    app = make_app(tmp_path, db_url, processing={"workers": 0}, mailbox={"trusted_authserv_ids": ["mx.shandong.cn"]})
    deliver(app, f"Authentication-Results: {AUTH_FAIL.format(d='innocent.example.cn')}\r\n".encode()
            + application_mail(sender=BYSTANDER, unit="山东测试新单位科技有限公司", code17="91370102MA3C0099X"))
    assert submissions(app) == [] and [c.kind for c in _claims(app)] == ["sender"]
    assert _to(app, BYSTANDER) == []


@pytest.mark.parametrize("lines", [
    [b"victim@quanhe.example.cn <x@evil.example>".replace(b"victim", b"wangxm")],
    [b'"wangxm@quanhe.example.cn"@evil.example'],
    [b"wangxm@quanhe.example.cn, x@evil.example"],
    [b"=?utf-8?b?d2FuZ3htQHF1YW5oZS5leGFtcGxlLmNu?= <x@evil.example>"],  # the name decodes to the victim
    [b"<x@evil.example>", b"<wangxm@quanhe.example.cn>"],  # two From fields
])
def test_a_from_field_naming_the_victim_beside_another_mailbox_is_no_sender(victim, lines) -> None:
    app, ref = victim
    before, mails = _snapshot(app, ref), len(_to(app, VICTIM))
    raw = application_mail(sender="x@evil.example", when=T0 + timedelta(days=1))
    deliver(app, _with_from(raw, *lines))
    assert _snapshot(app, ref) == before
    assert len(_to(app, VICTIM)) == mails  # no ack, no notice to the victim
    assert "sender" in [c.kind for c in _claims(app)]


def test_staff_transfer_a_squatted_record_to_the_real_applicant(tmp_path, db_url) -> None:
    app = make_app(tmp_path, db_url, processing={"workers": 0})
    deliver(app, application_mail(sender=STRANGER))  # the squatter files the unit's form first
    [sub] = submissions(app)
    deliver(app, application_mail(sender=VICTIM, when=T0 + timedelta(hours=2)))  # the real applicant
    [claim] = _claims(app)
    config = app.settings.base_dir / "config.yaml"
    done = jiebang("claim", "confirm", str(claim.id), "--transfer", "--note", "单位来函确认", config=config)
    assert done.returncode == 0, done.stderr.decode()
    assert _snapshot(app, sub.reference)[5] == (VICTIM,)
    # the squatter can no longer change it: its next version is a claim like any stranger's
    before = _snapshot(app, sub.reference)
    deliver(app, application_mail(sender=STRANGER, when=T0 + timedelta(days=1)).replace(
        "揭榜任务".encode(), "被改的任务".encode()))
    assert _snapshot(app, sub.reference) == before and len(_claims(app)) == 2
    with Session(app.engine) as s:
        [event] = s.exec(select(Event).where(Event.kind == "ownership_transferred")).all()
    assert STRANGER in event.detail and "单位来函确认" in event.detail


def test_staff_remove_a_contact(victim) -> None:
    app, ref = victim
    config = app.settings.base_dir / "config.yaml"
    assert jiebang("contact", "remove", ref, "nobody@x.example.cn", config=config).returncode == 1
    done = jiebang("contact", "remove", ref, VICTIM, "--note", "地址已停用", config=config)
    assert done.returncode == 0, done.stderr.decode()
    assert _snapshot(app, ref)[5] == ()


def test_a_flood_of_claims_sends_one_notice_and_spends_none_of_the_applicants_answers(victim) -> None:
    app, ref = victim
    strangers = [application_mail(sender=f"copy{i}@stranger{i}.example.net", when=T0 + timedelta(minutes=10 + i))
                 for i in range(22)]
    deliver(app, *strangers)
    assert len(_claims(app)) == 22
    notices = [m for m in _to(app, VICTIM) if m.kind == "claim_notice"]
    assert len(notices) == 1
    # the applicant's own resubmission and question are still answered the same day
    deliver(app, application_mail(sender=VICTIM, when=T0 + timedelta(hours=3)),
            application_mail(sender=VICTIM, subject=f"Re: [{ref}] 请问审核进度", attachments=[],
                             body="您好，请问我单位申报材料的审核进度如何？", when=T0 + timedelta(hours=4)))
    kinds = [m.kind for m in _to(app, VICTIM)]
    assert kinds.count("ack") + kinds.count("deficiency") >= 2 and "status" in kinds


def test_with_our_verdicts_configured_an_unverified_mail_never_changes_an_existing_record(tmp_path, db_url) -> None:
    app = make_app(tmp_path, db_url, processing={"workers": 0}, mailbox={"trusted_authserv_ids": ["mx.shandong.cn"]})
    deliver(app, f"Authentication-Results: {AUTH_OK.format(d='quanhe.example.cn')}\r\n".encode()
            + application_mail(sender=VICTIM))
    [sub] = submissions(app)
    before = _snapshot(app, sub.reference)
    # the victim's From, no verdict at all (a domain without SPF, DKIM or DMARC records)
    spoofed = (b"Authentication-Results: mx.shandong.cn; spf=none; dkim=none; dmarc=none\r\n"
               + application_mail(sender=VICTIM, when=T0 + timedelta(days=1)))
    deliver(app, spoofed.replace("揭榜任务".encode(), "被篡改的任务".encode()))
    assert _snapshot(app, sub.reference) == before
    assert [c.kind for c in _claims(app)] == ["sender"]
    # a verified version still goes through
    deliver(app, f"Authentication-Results: {AUTH_OK.format(d='quanhe.example.cn')}\r\n".encode()
            + application_mail(sender=VICTIM, when=T0 + timedelta(days=2)))
    assert _snapshot(app, sub.reference)[3] == 2
