"""Deadline day as applicants live it: first contact by evidence, a bounded first answer,
and held answers as a staff queue released in bulk."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import Session, select
from support.helpers import jiebang
from support.records import T0, application_mail, deliver, make_app, outbox

from campaign.clock import as_utc
from tracker.app import App
from tracker.pipeline.ingest import store_raw
from tracker.reports.digest import gather
from tracker.service import Service
from tracker.store.tables import Event, StoredMessage

TRUSTED = {"trusted_authserv_ids": ["mx.shandong.cn"]}
AUTH_OK = "mx.shandong.cn; spf=pass smtp.mailfrom={d}; dkim=pass header.d={d}; dmarc=pass header.from={d}"
AUTH_FAIL = "mx.shandong.cn; spf=fail smtp.mailfrom={d}; dmarc=fail (p=reject) header.from={d}"


def _applicant(i: int, *, auth: str | None = None, domain: str | None = None) -> bytes:
    domain = domain or f"unit{i}.example.cn"
    raw = application_mail(sender=f"contact@{domain}", unit=f"山东首联{i}号数据有限公司",
                           code17=f"91370102MA3D{i:04d}Y", when=T0 + timedelta(minutes=i))
    return (f"Authentication-Results: {auth.format(d=domain)}\r\n".encode() + raw) if auth else raw


def _states(app: App) -> dict[str, str]:
    return {m.to_addrs[0]: m.state for m in outbox(app)}


def test_authenticated_applicants_are_never_held_by_the_first_contact_budget(tmp_path, db_url) -> None:
    app = make_app(tmp_path, db_url, processing={"workers": 0}, mailbox=TRUSTED,
                   notify={"new_address_hourly_cap": 2})
    verified = [_applicant(i, auth=AUTH_OK) for i in range(6)]
    unverified = [_applicant(i) for i in range(6, 10)]
    forged = [_applicant(i, auth=AUTH_FAIL, domain=f"victim{i}.example.cn") for i in range(10, 12)]
    deliver(app, *verified, *unverified, *forged)
    states = _states(app)
    # every verified applicant answered, whatever the budget says
    assert all(states[f"contact@unit{i}.example.cn"] == "pending" for i in range(6))
    # the budget still guards those without evidence: two answered, the rest held (never lost)
    rest = [states.get(f"contact@unit{i}.example.cn") for i in range(6, 10)]
    assert rest.count("pending") == 2 and rest.count("held") == 2
    # a From our server says is forged gets nothing at all
    assert not any("victim" in address for address in states)


def test_held_answers_are_counted_in_the_digest_and_released_in_bulk_oldest_first(tmp_path, db_url) -> None:
    app = make_app(tmp_path, db_url, processing={"workers": 0}, notify={"new_address_hourly_cap": 1})
    deliver(app, _applicant(1), _applicant(2, domain="a.163.example"), _applicant(3, domain="b.163.example"),
            _applicant(4, domain="qq.example"))
    held = [m for m in outbox(app) if m.state == "held"]
    assert len(held) == 3
    with Session(app.engine) as s:
        digest = gather(s, app.policy, now=as_utc(T0 + timedelta(days=1)))
    assert digest.held == 3 and digest.held_oldest is not None
    config = app.settings.base_dir / "config.yaml"
    dry = jiebang("release", "--dry-run", "--json", config=config)
    assert dry.returncode == 0, dry.stderr.decode()
    assert [r["id"] for r in json.loads(dry.stdout)] == sorted(m.id for m in held)
    assert [m.state for m in outbox(app)].count("held") == 3  # a dry run changes nothing
    one_domain = jiebang("release", "--domain", "qq.example", "--json", config=config)
    assert one_domain.returncode == 0, one_domain.stderr.decode()
    assert [r["to"] for r in json.loads(one_domain.stdout)] == [["contact@qq.example"]]
    rest = jiebang("release", "--json", config=config)
    assert len(json.loads(rest.stdout)) == 2
    assert all(m.state == "pending" for m in outbox(app))
    with Session(app.engine) as s:
        events = s.exec(select(Event).where(Event.kind == "held_released")).all()
    assert len(events) == 2 and all("释放暂扣的答复" in e.detail for e in events)


def _stored(app: App, raw: bytes) -> StoredMessage:
    pk = store_raw(app.engine, app.blobs, raw).message_pk
    with Session(app.engine) as s:
        msg = s.get(StoredMessage, pk)
        assert msg is not None
        return msg


def test_a_mail_not_answered_in_time_gets_a_receipt_and_then_its_full_answer(tmp_path, db_url) -> None:
    app = make_app(tmp_path, db_url, processing={"workers": 0})
    msg = _stored(app, application_mail(sender="slow@scan.example.cn"))
    receipts = app.arrival_receipts
    stored, after = as_utc(msg.stored_at), receipts.after  # the shipped notify.receipt_after_seconds
    assert after > timedelta(0)
    assert receipts.run(now=stored + after / 2) == 0  # not yet due
    assert receipts.run(now=stored + after + timedelta(seconds=1)) == 1
    assert receipts.run(now=stored + after * 3) == 0  # once per mail
    [receipt] = outbox(app)
    assert receipt.kind == "receipt" and receipt.in_reply_to == msg.message_id
    assert receipt.reference is None and "正在核验" in receipt.subject
    assert "无需重复发送" in receipt.text_body
    Service(app).cycle()  # now it is understood: the full answer follows in the same thread
    kinds = [(m.kind, m.in_reply_to) for m in outbox(app)]
    assert kinds[1][0] in ("ack", "deficiency") and kinds[1][1] == msg.message_id
    assert len(kinds) == 2


def test_a_mail_answered_in_time_gets_one_answer_only(tmp_path, db_url) -> None:
    app = make_app(tmp_path, db_url, processing={"workers": 0})
    msg = _stored(app, application_mail(sender="fast@docx.example.cn"))
    Service(app).cycle()
    assert app.arrival_receipts.run(now=as_utc(msg.stored_at) + timedelta(minutes=5)) == 0
    assert [m.kind for m in outbox(app)] == ["ack"]


def test_no_receipt_to_automatic_mail_lists_or_a_forged_sender(tmp_path, db_url) -> None:
    app = make_app(tmp_path, db_url, processing={"workers": 0}, mailbox=TRUSTED)
    raws = [
        b"Auto-Submitted: auto-replied\r\n" + application_mail(sender="away@unit.example.cn"),
        b"List-Id: <news.list.example.cn>\r\n" + application_mail(sender="news@list.example.cn"),
        f"Authentication-Results: {AUTH_FAIL.format(d='victim.example.cn')}\r\n".encode()
        + application_mail(sender="someone@victim.example.cn"),
        application_mail(sender="MAILER-DAEMON@mx.example.cn"),
    ]
    stored = [_stored(app, raw) for raw in raws]
    later = max(as_utc(m.stored_at) for m in stored) + timedelta(minutes=5)
    assert app.arrival_receipts.run(now=later) == 0
    assert outbox(app) == []


def test_receipts_can_be_turned_off(tmp_path, db_url) -> None:
    app = make_app(tmp_path, db_url, processing={"workers": 0}, notify={"receipt_after_seconds": 0})
    msg = _stored(app, application_mail(sender="slow@scan.example.cn"))
    assert app.arrival_receipts.run(now=as_utc(msg.stored_at) + timedelta(hours=1)) == 0


def test_a_receipt_the_budget_would_hold_is_not_written_and_holds_nothing_after_it(tmp_path, db_url) -> None:
    app = make_app(tmp_path, db_url, processing={"workers": 0}, notify={"new_address_hourly_cap": 1})
    deliver(app, _applicant(1))  # spends the hour's one first contact of its class
    msg = _stored(app, _applicant(2))
    # the receipt (another class) still has its share; the full answer is then no first contact
    assert app.arrival_receipts.run(now=as_utc(msg.stored_at) + timedelta(minutes=5)) == 1
    third = _stored(app, _applicant(3))
    receipts = app.arrival_receipts
    assert receipts.run(now=as_utc(third.stored_at) + timedelta(minutes=5)) == 0  # over budget: no receipt at all
    assert [m.state for m in outbox(app)] == ["pending", "pending"]
    Service(app).cycle()
    answers = {m.to_addrs[0]: m.state for m in outbox(app) if m.kind != "receipt"}
    assert answers["contact@unit2.example.cn"] == "pending"  # its receipt went out: a known address
    assert answers["contact@unit3.example.cn"] == "held"  # over its class's budget, never lost
