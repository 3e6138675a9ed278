"""Records and replies: what staff and applicants see after each kind of mail."""

from __future__ import annotations

import json
from datetime import timedelta

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

from tracker.store.tables import CityPackage, Claim, RecommendationRow, SubmissionVersion


def test_clean_direct_submission_gets_a_reference_and_an_acknowledgement(tmp_path, db_url):
    app = make_app(tmp_path, db_url)
    deliver(app, application_mail(email="contact@quanhe.example.cn"))
    (sub,) = submissions(app)
    assert (sub.reference, sub.status, sub.channel, sub.direction) == ("JB2025-0001", "complete", "direct", 2)
    # the sender is on file; the address typed into the form is not (anyone can type any
    # address, and automatic mail to it would be backscatter)
    assert sub.contacts == ["wangxm@quanhe.example.cn"]
    (ack,) = outbox(app)
    assert ack.kind == "ack" and ack.to_addrs == ["wangxm@quanhe.example.cn"]
    assert ack.subject.startswith("[JB2025-0001]")
    assert "JB2025-0001" in ack.text_body and "数据治理" in ack.text_body
    assert ack.in_reply_to and ack.in_reply_to.startswith("<t")


def test_a_reply_that_fixes_a_deficiency_becomes_version_2_and_resolves_it(tmp_path, db_url):
    app = make_app(tmp_path, db_url)
    deliver(app, application_mail(outcomes=()))  # technology without an innovation outcome
    (sub,) = submissions(app)
    assert sub.status == "incomplete" and open_codes(app, sub) == {"OUTCOME_MISSING"}
    (notice,) = outbox(app)
    assert notice.kind == "deficiency" and "创新成果" in notice.text_body

    fixed = application_mail(subject=f"Re: [{sub.reference}] 申报材料需补正", when=T0 + timedelta(days=1))
    deliver(app, fixed)
    (sub,) = submissions(app)
    assert (sub.versions, sub.status) == (2, "complete")
    assert open_codes(app, sub) == set()
    assert [m.kind for m in outbox(app)] == ["deficiency", "ack"]
    with Session(app.engine) as s:
        versions = s.exec(select(SubmissionVersion).where(SubmissionVersion.submission_id == sub.id)).all()
    assert [v.number for v in versions] == [1, 2]  # the first version and its documents are kept
    assert all(v.documents for v in versions)


def test_same_unit_and_direction_sent_again_is_a_new_version_not_a_new_submission(tmp_path, db_url):
    app = make_app(tmp_path, db_url)
    deliver(app, application_mail(), application_mail(when=T0 + timedelta(hours=3)))
    (sub,) = submissions(app)
    assert sub.versions == 2


def test_one_lead_unit_in_two_directions_is_flagged_until_one_is_withdrawn(tmp_path, db_url):
    app = make_app(tmp_path, db_url)
    deliver(app, application_mail(direction=2), application_mail(direction=5, when=T0 + timedelta(days=1)))
    first, second = submissions(app)
    assert open_codes(app, first) == open_codes(app, second) == {"DUPLICATE_LEAD"}
    assert {first.status, second.status} == {"incomplete"}

    result = jiebang("set-status", second.reference, "withdrawn", "--note", "单位来函撤回", config=tmp_path / "config.yaml")
    assert result.returncode == 0, result.stderr
    first, second = submissions(app)
    assert open_codes(app, first) == set() and first.status == "complete"
    shown = jiebang("show", first.reference, "--json", config=tmp_path / "config.yaml")
    events = [e["kind"] for e in json.loads(shown.stdout)["events"]]
    assert "deficiency_resolved" in events


def test_a_late_version_after_a_timely_one_is_recorded_but_the_timely_one_stands(tmp_path, db_url):
    app = make_app(tmp_path, db_url)
    deliver(app, application_mail())
    late_time = T0.replace(month=1, day=22)
    deliver(app, application_mail(subject="Re: [JB2025-0001] 更新", when=late_time, direction=2))
    (sub,) = submissions(app)
    assert (sub.versions, sub.standing_version, sub.late, sub.status) == (2, 1, False, "complete")
    with Session(app.engine) as s:
        v2 = s.exec(select(SubmissionVersion).where(SubmissionVersion.number == 2)).one()
    assert v2.late
    last = outbox(app)[-1]
    assert last.kind == "deficiency" and "截止" in last.text_body


def test_late_first_submission_is_incomplete_and_told_so(tmp_path, db_url):
    app = make_app(tmp_path, db_url)
    deliver(app, application_mail(when=T0.replace(day=21)))
    (sub,) = submissions(app)
    assert sub.late and sub.status == "incomplete" and open_codes(app, sub) == {"LATE"}


def _jinan_form(unit: str, code17: str, direction: int = 6) -> tuple[str, bytes]:
    return (f"申报书-{unit}.docx", form(unit=unit, code17=code17, nature="其他", city="济南市", direction=direction))


def test_city_quota_counts_across_all_of_a_citys_packages(tmp_path, db_url):
    app = make_app(tmp_path, db_url)
    a, b, c = "济南云泺信息技术有限公司", "山东历城数智科技股份有限公司", "济南泉城数据服务有限公司"
    first = city_package(rows=[(1, 6, a, "甲"), (2, 6, b, "乙")],
                         forms=[_jinan_form(a, "91370102MA3CY1L5N"), _jinan_form(b, "91370112MA3DL2W6P")])
    later = city_package(forms=[_jinan_form(c, "91370103MA3EE3X7R")], when=T0 + timedelta(days=9))
    deliver(app, first)
    assert all(s.status == "complete" and s.channel == "via_city" for s in submissions(app))
    deliver(app, later)
    by_unit = {s.unit: s for s in submissions(app)}
    assert "CITY_QUOTA_EXCEEDED" in open_codes(app, by_unit[c])
    assert "CITY_QUOTA_EXCEEDED" not in open_codes(app, by_unit[a])
    notices = [m for m in outbox(app) if m.kind == "package_receipt"]  # to the bureau, per package
    assert any("限额" in m.text_body for m in notices)


def test_a_resent_table_replaces_the_older_one(tmp_path, db_url):
    app = make_app(tmp_path, db_url)
    a, b, c = "济南云泺信息技术有限公司", "山东历城数智科技股份有限公司", "济南泉城数据服务有限公司"
    deliver(app, city_package(rows=[(1, 6, a, "甲"), (2, 6, b, "乙")],
                              forms=[_jinan_form(a, "91370102MA3CY1L5N"), _jinan_form(b, "91370112MA3DL2W6P")]))
    deliver(app, city_package(rows=[(1, 6, a, "甲"), (2, 6, c, "丙")], forms=[_jinan_form(c, "91370103MA3EE3X7R")],
                              when=T0 + timedelta(days=10)))
    with Session(app.engine) as s:
        current = s.exec(select(RecommendationRow).where(RecommendationRow.current == True)).all()  # noqa: E712
        packages = s.exec(select(CityPackage).order_by(CityPackage.version)).all()
    assert sorted((r.rank, r.unit) for r in current) == [(1, a), (2, c)]
    assert [p.version for p in packages] == [1, 2]
    assert all("CITY_QUOTA_EXCEEDED" not in open_codes(app, s) for s in submissions(app))


def test_status_queries_answer_only_the_address_on_file(tmp_path, db_url):
    app = make_app(tmp_path, db_url)
    deliver(app, application_mail())
    asked = application_mail(subject="Re: [JB2025-0001] 查询进度", attachments=[],
                             body="请问审核进度如何？", headers={"Reply-To": "attacker@evil.example"})
    stranger = application_mail(sender="nosy@other.example", subject="查询 JB2025-0001 的进度", attachments=[],
                                body="请问 JB2025-0001 审核到哪一步了？")
    deliver(app, asked, stranger)
    # two workers record the two mails in either order: tell the answers apart by recipient
    answers = {m.to_addrs[0]: m for m in outbox(app) if m.kind == "status"}
    assert set(answers) == {"wangxm@quanhe.example.cn", "nosy@other.example"}
    status, denied = answers["wangxm@quanhe.example.cn"], answers["nosy@other.example"]
    assert status.to_addrs == ["wangxm@quanhe.example.cn"]  # never the Reply-To the asker chose
    assert "JB2025-0001" in status.text_body and "山东省泉河数字经济研究院" in status.text_body
    assert denied.to_addrs == ["nosy@other.example"]
    assert "山东省泉河数字经济研究院" not in denied.text_body and "JB2025-0001" not in denied.text_body


def test_auto_replies_get_no_answer_and_bounces_mark_our_mail(tmp_path, db_url):
    app = make_app(tmp_path, db_url)
    deliver(app, application_mail())
    assert app.deliver().sent == 1  # into the file outbox of the embedded default
    (ack,) = outbox(app)
    ooo = application_mail(subject="自动回复: [JB2025-0001] 申报材料已收到", attachments=[],
                           headers={"Auto-Submitted": "auto-replied"}, body="我正在休假。")
    bounce = (
        "From: MAILER-DAEMON@mx.shandong.cn\r\nTo: dsjjzcghc@shandong.cn\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <b1@mx>\r\nDate: Fri, 10 Jan 2025 10:00:00 +0800\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=XX\r\n\r\n"
        "--XX\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        "--XX\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        "Final-Recipient: rfc822; wangxm@quanhe.example.cn\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        f"--XX\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {ack.message_id}\r\nSubject: x\r\n--XX--\r\n"
    ).encode()
    deliver(app, ooo, bounce)
    rows = outbox(app)
    assert len(rows) == 1 and rows[0].state == "bounced"


def test_list_json_follows_the_contract(tmp_path, db_url):
    app = make_app(tmp_path, db_url)
    deliver(app, application_mail(), application_mail(sender="li@ruifeng.example.cn", unit="潍坊瑞丰数据科技有限公司",
                                                      code17="91370705MA3RF5D8Q", nature="其他", city="潍坊市", direction=4))
    rows = json.loads(jiebang("list", "--json", config=tmp_path / "config.yaml").stdout)
    assert [set(r) for r in rows] == [{"reference", "unit", "uscc", "direction", "channel", "city", "status",
                                       "versions", "late", "deficiencies", "contacts",
                                       "formal", "acceptance", "excellent"}] * 2  # SPEC 6, 7
    assert all((r["formal"], r["acceptance"], r["excellent"]) == (None, None, False) for r in rows)
    # Two mails may be recorded in either order (workers), so pick the row by its unit.
    (weifang,) = [r for r in rows if r["unit"] == "潍坊瑞丰数据科技有限公司"]
    assert weifang["deficiencies"] == ["WRONG_CHANNEL"] and weifang["status"] == "incomplete"
    (redirect,) = [m for m in outbox(app) if m.kind == "redirect"]
    assert "郎雪梅" in redirect.text_body and "0536-9999249" in redirect.text_body
    filtered = json.loads(jiebang("list", "--json", "--has-deficiency", "WRONG_CHANNEL",
                                  config=tmp_path / "config.yaml").stdout)
    assert [r["reference"] for r in filtered] == [weifang["reference"]]


def test_the_same_application_direct_and_via_its_city_is_one_submission(tmp_path, db_url):
    app = make_app(tmp_path, db_url)
    unit, code = "济南云泺信息技术有限公司", "91370102MA3CY1L5N"
    direct = application_mail(sender="a@yunluo.example.cn", unit=unit, code17=code, nature="其他", direction=6)
    deliver(app, direct)
    (sub,) = submissions(app)
    assert open_codes(app, sub) == {"WRONG_CHANNEL"}
    deliver(app, city_package(rows=[(1, 6, unit, "甲")], forms=[_jinan_form(unit, code)]))
    (sub,) = submissions(app)
    assert (sub.channel, sub.city, sub.versions) == ("via_city", "济南市", 2)
    assert open_codes(app, sub) == set() and sub.status == "complete"


def test_messages_json_names_the_references_a_mail_created(tmp_path, db_url):
    app = make_app(tmp_path, db_url)
    deliver(app, application_mail())
    (row,) = json.loads(jiebang("messages", "--json", config=tmp_path / "config.yaml").stdout)
    assert set(row) == {"message_id", "from", "received_at", "intent", "state", "error", "references", "subject"}
    assert (row["state"], row["intent"], row["references"]) == ("processed", "submission", ["JB2025-0001"])
    assert row["received_at"] == "2025-01-08T10:00:40+08:00"  # the top Received: stamp, in Asia/Shanghai


def test_a_replayed_or_older_package_changes_no_ranks(tmp_path, db_url):
    app = make_app(tmp_path, db_url)
    a, b, c = "济南云泺信息技术有限公司", "山东历城数智科技股份有限公司", "济南泉城数据服务有限公司"
    first = city_package(rows=[(1, 6, a, "甲"), (2, 6, b, "乙")],
                         forms=[_jinan_form(a, "91370102MA3CY1L5N"), _jinan_form(b, "91370112MA3DL2W6P")])
    deliver(app, first)
    deliver(app, city_package(rows=[(1, 6, c, "丙"), (2, 6, a, "甲")], forms=[_jinan_form(c, "91370103MA3EE3X7R")],
                              when=T0 + timedelta(days=10)))

    def ranks() -> list[tuple[int, str]]:
        with Session(app.engine) as s:
            rows = s.exec(select(RecommendationRow).where(RecommendationRow.current == True)).all()  # noqa: E712
            return sorted((r.rank, r.unit) for r in rows)

    assert ranks() == [(1, c), (2, a)]
    # the first package again, one unsigned header added: other bytes, the same Message-ID
    deliver(app, b"X-Relay: again\r\n" + first)
    # an older package under a new Message-ID (a relay's delayed copy, or a forged replay)
    deliver(app, city_package(rows=[(1, 6, b, "乙")], forms=[], when=T0 + timedelta(days=9)))
    assert ranks() == [(1, c), (2, a)]
    with Session(app.engine) as s:
        held = s.exec(select(Claim).where(Claim.kind == "package")).all()
        packages = s.exec(select(CityPackage)).all()
    assert len(held) == 2 and len(packages) == 2
    assert "重放" in held[0].reason and "早于" in held[1].reason
