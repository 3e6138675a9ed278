"""What staff do in the workspace, each through the records' own functions: correct a field
(the rules re-run; the correction survives reprocessing and later versions), decide a
status, confirm a claim, requeue and resend mail, export, read the digest, preview files."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import openpyxl
from sqlmodel import Session, select
from starlette.testclient import TestClient
from support.records import T0, application_mail, deliver, make_app, open_codes, outbox
from support.web import (
    PASSWORD,
    STRANGER,
    WEIFANG_SENDER,
    Workspace,
    add_recommended,
    add_users,
    csrf_of,
    login,
)

from notifier.models import OutboxMail
from tracker.outreach.digest import queue_digest
from tracker.pipeline.reprocess import apply_changes, compare, reprocessable
from tracker.records.queries import find_submission
from tracker.reports.documents import documents
from tracker.store.tables import (
    Claim,
    Event,
    FieldOverride,
    MessageState,
    StoredMessage,
    Submission,
)
from tracker.web.workspace import create_workspace


def _sub(ws: Workspace, ref: str) -> Submission:
    with Session(ws.app.engine) as s:
        sub = find_submission(s, ref)
        assert sub is not None
        return sub


def _post(client, path: str, **data: str):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get("/submissions").text)
    return client.post(path, data=data | {"csrf_token": token})


# --- correcting a field -----------------------------------------------------------------------
def test_a_correction_resolves_the_deficiency_it_decides_and_stands(workspace: Workspace) -> None:
    ref = workspace.weifang
    assert "TASK_TYPE_MISSING" in open_codes(workspace.app, _sub(workspace, ref))
    assert _sub(workspace, ref).status == "incomplete"
    client = workspace.signed_in("alice")
    answer = _post(client, f"/submissions/{ref}/correct", field="task_types", value="technology, application",
                   note="见盖章 PDF 第 2 页", notify="1")
    assert answer.status_code == 303
    page = client.get(answer.headers["location"])
    assert "已人工更正" in page.text and "未能识别任务类别" in page.text  # shown as resolved, with its history
    sub = _sub(workspace, ref)
    assert sub.task_types == ["technology", "application"]
    assert "TASK_TYPE_MISSING" not in open_codes(workspace.app, sub)
    with Session(workspace.app.engine) as s:
        [override] = s.exec(select(FieldOverride)).all()
        assert (override.field, override.old_value, override.new_value) == ("task_types", [], ["technology", "application"])
        assert override.actor == "alice（网页）"
        kinds = [(e.kind, e.actor) for e in s.exec(select(Event).where(Event.submission_id == sub.id)).all()]
    assert ("field_corrected", "alice（网页）") in kinds and ("deficiency_resolved", "alice（网页）") in kinds
    # staff ticked "notify": the normal answer for the record as it now stands, to the address on file
    [notice] = [m for m in outbox(workspace.app) if m.dedupe_key and m.dedupe_key.startswith("correction:")]
    assert notice.to_addrs == [WEIFANG_SENDER] and ref in notice.subject


def test_a_correction_without_notify_sends_nothing_and_a_bad_value_changes_nothing(workspace: Workspace) -> None:
    client = workspace.signed_in("alice")
    before = len(outbox(workspace.app))
    assert _post(client, f"/submissions/{workspace.weifang}/correct", field="direction", value="3").status_code == 303
    assert len(outbox(workspace.app)) == before and _sub(workspace, workspace.weifang).direction == 3
    bad = _post(client, f"/submissions/{workspace.weifang}/correct", field="direction", value="99")
    assert bad.status_code == 400 and "榜单方向" in bad.text
    bad = _post(client, f"/submissions/{workspace.weifang}/correct", field="status", value="selected")
    assert bad.status_code == 400 and _sub(workspace, workspace.weifang).status == "incomplete"


def test_a_correction_survives_reprocess_and_a_later_version(workspace: Workspace) -> None:
    ref = workspace.weifang
    client = workspace.signed_in("alice")
    assert _post(client, f"/submissions/{ref}/correct", field="task_types", value="theory").status_code == 303
    app = workspace.app
    with Session(app.engine) as s:  # `jiebang reprocess --apply`
        for msg in reprocessable(s):
            found = compare(s, app.blobs, app.analyse, msg)
            if found is not None:
                apply_changes(s, msg, found, actor="test")
        s.commit()
    assert _sub(workspace, ref).task_types == ["theory"]
    # the applicant sends the same form again, still without 任务类别: the correction stands
    deliver(app, application_mail(sender=WEIFANG_SENDER, subject=f"Re: [{ref}] 申报书", unit="潍坊市数据港科技有限公司",
                                  code17="91370700MA3C4D5E6", nature="省属单位", city="潍坊市", direction=4, types=(),
                                  when=T0 + timedelta(days=2)))
    sub = _sub(workspace, ref)
    assert sub.versions == 2 and sub.task_types == ["theory"]
    assert "TASK_TYPE_MISSING" not in open_codes(app, sub)


# --- deciding, confirming -----------------------------------------------------------------------
def test_deciding_a_status_is_set_status(workspace: Workspace) -> None:
    client = workspace.signed_in("alice")
    assert _post(client, f"/submissions/{workspace.jinan}/status", status="selected", note="评审通过",
                 confirm="1").status_code == 303
    assert _sub(workspace, workspace.jinan).status == "selected"
    with Session(workspace.app.engine) as s:
        [event] = s.exec(select(Event).where(Event.kind == "status_set")).all()
    assert event.actor == "alice（网页）" and "评审通过" in event.detail
    bad = _post(client, f"/submissions/{workspace.jinan}/status", status="complete", note="?", confirm="1")
    assert bad.status_code == 400 and _sub(workspace, workspace.jinan).status == "selected"


def test_confirming_and_rejecting_claims(workspace: Workspace) -> None:
    client = workspace.signed_in("alice")
    page = client.get("/confirm")
    with Session(workspace.app.engine) as s:
        [claim] = s.exec(select(Claim)).all()
    assert page.status_code == 200 and f"#{claim.id}" in page.text and STRANGER in page.text
    answer = _post(client, f"/confirm/{claim.id}/confirm", note="电话核实为同一单位")
    assert answer.status_code == 303 and f"#{claim.id} 已确认" in client.get(answer.headers["location"]).text
    with Session(workspace.app.engine) as s:
        claim = s.get(Claim, claim.id)
        assert claim is not None and (claim.state, claim.decided_by) == ("confirmed", "alice（网页）")
    sub = _sub(workspace, workspace.jinan)
    assert sub.versions == 2 and STRANGER in sub.contacts
    again = _post(client, f"/confirm/{claim.id}/reject")  # decided already: said so, nothing changes
    assert again.status_code == 303 and 'class="error"' in client.get(again.headers["location"]).text


# --- mail -----------------------------------------------------------------------------------------
def test_mail_quarantine_requeue_raw_and_resend(workspace: Workspace) -> None:
    app = workspace.app
    with Session(app.engine) as s:
        msg = s.exec(select(StoredMessage)).first()
        assert msg is not None
        msg.state, msg.error = MessageState.quarantined, "worker died"
        mail = s.exec(select(OutboxMail)).first()
        assert mail is not None
        mail.state, mail.last_error = "failed", "550 mailbox unavailable"
        s.add(msg)
        s.add(mail)
        s.commit()
        msg_id, mail_id = msg.id, mail.id
    client = workspace.signed_in("alice")
    page = client.get("/mail")
    assert "worker died" in page.text and "550 mailbox unavailable" in page.text
    raw = client.get(f"/mail/messages/{msg_id}/raw")
    assert raw.status_code == 200 and raw.headers["content-type"] == "application/octet-stream"
    assert raw.headers["content-disposition"].startswith("attachment;") and b"Message-ID" in raw.content
    assert _post(client, "/mail/requeue", message=str(msg_id)).status_code == 303
    assert _post(client, f"/mail/outbox/{mail_id}/resend").status_code == 303
    with Session(app.engine) as s:
        assert s.get(StoredMessage, msg_id).state == MessageState.stored  # type: ignore[union-attr]
        assert s.get(OutboxMail, mail_id).state == "pending"  # type: ignore[union-attr]
        actors = {(e.kind, e.actor) for e in s.exec(select(Event)).all()}
    assert {("requeued", "alice（网页）"), ("mail_resent", "alice（网页）"), ("raw_downloaded", "alice（网页）")} <= actors


def test_held_answers_are_released_in_bulk_by_filter_oldest_first(workspace: Workspace) -> None:
    app = workspace.app
    with Session(app.engine) as s:
        mails = s.exec(select(OutboxMail).order_by(OutboxMail.id)).all()
        assert len(mails) >= 2
        for mail in mails:
            mail.state = "held"
            s.add(mail)
        s.commit()
        one = mails[0].to_addrs[0].split("@")[1]
        expected = [m.id for m in mails if m.recipient_key.endswith("@" + one)]
    viewer = workspace.signed_in("vic")
    token = csrf_of(viewer.get("/submissions").text)
    assert viewer.post("/mail/held/release", data={"csrf_token": token}).status_code == 403
    client = workspace.signed_in("alice")
    page = client.get("/mail", params={"domain": one})
    assert f"释放符合条件的 {len(expected)} 封" in page.text
    answer = _post(client, "/mail/held/release", domain=one)
    assert answer.status_code == 303
    with Session(app.engine) as s:
        states = {m.id: m.state for m in s.exec(select(OutboxMail)).all()}
        [event] = s.exec(select(Event).where(Event.kind == "held_released")).all()
    assert [i for i, state in states.items() if state == "pending"] == expected
    assert all(state == "held" for i, state in states.items() if i not in expected)
    assert event.actor == "alice（网页）" and one in event.detail


# --- exports, digest, documents ----------------------------------------------------------------------
def test_exports_reuse_the_formula_safe_writers(workspace: Workspace) -> None:
    client = workspace.signed_in("alice")
    csv = client.get("/export/submissions.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"] and workspace.jinan in csv.content.decode("utf-8-sig")
    xlsx = client.get("/export/submissions.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert "申报汇总" in book.sheetnames
    table = client.get("/export/recommendation.xlsx", params={"city": "济南市"})
    assert table.status_code == 200 and table.headers["content-type"].startswith("application/vnd.openxml")
    city = workspace.signed_in("jinan")
    assert city.get("/export/recommendation.xlsx").status_code == 200  # its own city's table
    with Session(workspace.app.engine) as s:
        exported = [(e.actor, e.detail) for e in s.exec(select(Event).where(Event.kind == "exported")).all()]
    assert len(exported) == 4 and exported[0][0] == "alice（网页）" and exported[-1][0] == "jinan（网页）"


def test_the_digest_of_a_day(workspace: Workspace) -> None:
    client = workspace.signed_in("alice")
    assert 'src="/digest/view?day=2025-01-10"' in client.get("/digest", params={"day": "2025-01-10"}).text
    view = client.get("/digest/view", params={"day": "2025-01-10"})
    assert view.status_code == 200 and "script-src" not in view.headers["content-security-policy"]
    assert "default-src 'none'" in view.headers["content-security-policy"] and "申报" in view.text
    assert client.get("/digest", params={"day": "not-a-day"}).status_code == 404


def test_a_past_day_digest_is_shown_as_it_was_mailed(workspace: Workspace) -> None:
    app, day = workspace.app, date(2025, 1, 10)
    app.settings.staff.digest_to = ["staff@shandong.cn"]
    mailed = queue_digest(app.engine, app.blobs, app.policy, app.settings, today=day,
                          now=datetime(2025, 1, 10, 8, 0, tzinfo=app.policy.tz))
    assert mailed is not None and "cid:chart" in mailed.html_body
    with Session(app.engine) as s:  # what was mailed that day, marked so the page can be told apart
        row = s.get(OutboxMail, mailed.id)
        assert row is not None
        row.html_body = row.html_body.replace("</body>", "<p>当日邮寄版本</p></body>")
        s.add(row)
        s.commit()
    view = workspace.signed_in("alice").get("/digest/view", params={"day": day.isoformat()})
    assert view.status_code == 200 and "当日邮寄版本" in view.text
    assert "cid:chart" not in view.text and "data:image/png;base64," in view.text  # the chart, inline


def test_filters_and_search(workspace: Workspace) -> None:
    client = workspace.signed_in("alice")
    shown = client.get("/submissions", params={"deficiency": "TASK_TYPE_MISSING"}).text
    assert workspace.weifang in shown and workspace.jinan not in shown
    for q in ("泉河", workspace.jinan.lower(), _sub(workspace, workspace.jinan).uscc or "?"):
        shown = client.get("/submissions", params={"q": q}).text
        assert workspace.jinan in shown and workspace.weifang not in shown, q
    partial = client.get("/submissions", params={"direction": "4"}, headers={"HX-Request": "true"})
    assert "<html" not in partial.text and workspace.weifang in partial.text and workspace.jinan not in partial.text
    restored = client.get("/submissions", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restored.text


def test_documents_download_and_preview_as_pdf(workspace: Workspace) -> None:
    client = workspace.signed_in("alice")
    page = client.get(f"/submissions/{workspace.jinan}").text
    sub = _sub(workspace, workspace.jinan)
    with Session(workspace.app.engine) as s:
        [(_version, [doc])] = documents(s, sub.id or 0)
    name = doc.name
    assert "<iframe" in page and "/v1/preview?name=" in page
    original = client.get(f"/submissions/{workspace.jinan}/v1/file", params={"name": name})
    assert original.status_code == 200 and original.headers["content-type"] == "application/octet-stream"
    assert original.content[:2] == b"PK"
    preview = client.get(f"/submissions/{workspace.jinan}/v1/preview", params={"name": name})
    assert preview.status_code == 200 and preview.headers["content-type"] == "application/pdf"
    assert preview.headers["content-disposition"].startswith("inline;") and preview.content[:5] == b"%PDF-"
    again = client.get(f"/submissions/{workspace.jinan}/v1/preview", params={"name": name})  # from the cache
    assert again.content == preview.content
    assert client.get(f"/submissions/{workspace.jinan}/v1/preview", params={"name": "../etc/passwd"}).status_code == 404


# --- the city role: ranking with the quota enforced by the records ---------------------------------------
def test_a_city_ranks_at_most_its_quota(tmp_path, db_url) -> None:
    app = make_app(tmp_path, db_url, role="city", city="济南市", processing={"workers": 0})
    for i, code in enumerate(("91370102MA3C4D5E1", "91370102MA3C4D5E2", "91370102MA3C4D5E3")):
        deliver(app, application_mail(sender=f"a{i}@unit{i}.example.cn", unit=f"济南数据单位{i}", code17=code,
                                      nature="其他", direction=2, when=T0 + timedelta(hours=i)))
    add_users(app)
    client = TestClient(create_workspace(app), follow_redirects=False)
    login(client, "jinan", PASSWORD)
    with Session(app.engine) as s:
        refs = [x.reference for x in s.exec(select(Submission).order_by(Submission.reference)).all()]
    token = csrf_of(client.get("/city").text)
    for ref, rank in zip(refs, ("1", "2", "1"), strict=True):
        answer = client.post("/city/recommend", data={"reference": ref, "rank": rank, "csrf_token": token})
        assert answer.status_code == 303
    refused = client.get(answer.headers["location"]).text  # the third in one direction: the records refuse
    assert 'class="error"' in refused and "最多推荐2项" in refused
    page = client.get("/city").text
    assert page.count("移出") == 2
    table = client.get("/export/recommendation.xlsx")
    assert table.status_code == 200


def test_city_pages_for_the_province_and_for_a_city(workspace: Workspace) -> None:
    alice = workspace.signed_in("alice")
    picker = alice.get("/city")
    assert picker.status_code == 200 and "/city?city=%E6%B5%8E%E5%8D%97%E5%B8%82" in picker.text
    jinan = alice.get("/city", params={"city": "济南市"})
    assert workspace.jinan in jinan.text and workspace.weifang not in jinan.text
    recommended = add_recommended(workspace)
    city = workspace.signed_in("jinan")
    own = city.get("/city", params={"city": "潍坊市"})  # a city user always gets its own city
    assert recommended in own.text and "济南市" in own.text and workspace.weifang not in own.text
    assert workspace.jinan not in own.text  # a 济南 unit's own application to the province is not the city's
    events = alice.get(f"/submissions/{workspace.jinan}").text
    assert "创建申报" in events and "收到新版本" in events


def test_after_a_direction_correction_the_next_mail_still_finds_its_submission(workspace: Workspace) -> None:
    client = workspace.signed_in("alice")
    assert _post(client, f"/submissions/{workspace.weifang}/correct", field="direction", value="3").status_code == 303
    # the same form again, no reference quoted, still naming direction 4
    deliver(workspace.app, application_mail(sender=WEIFANG_SENDER, unit="潍坊市数据港科技有限公司", code17="91370700MA3C4D5E6",
                                            nature="省属单位", city="潍坊市", direction=4, types=("技术创新",),
                                            when=T0 + timedelta(days=2)))
    sub = _sub(workspace, workspace.weifang)
    assert (sub.versions, sub.direction) == (2, 3) and sub.task_types == ["technology"]
    with Session(workspace.app.engine) as s:
        assert len(s.exec(select(Submission)).all()) == 2


def test_mail_in_and_out_on_a_submission(workspace: Workspace) -> None:
    from support.web import JINAN_SENDER

    deliver(workspace.app, application_mail(sender=JINAN_SENDER, subject=f"Re: [{workspace.jinan}] 查询进度",
                                            attachments=[], body="请问审核进度如何？", when=T0 + timedelta(days=3)))
    page = workspace.signed_in("alice").get(f"/submissions/{workspace.jinan}").text
    mail = page[page.index('id="mail"'):page.index('id="events"')]
    assert "查询进度" in mail and "进度查询" in mail  # the question, labelled by its intent
    assert "受理回执" in mail and "发出" in mail  # and our answers


def test_the_cli_corrects_with_the_same_function(workspace: Workspace, tmp_path) -> None:
    from support.helpers import jiebang, write_config

    config = write_config(tmp_path / "cli", db_url=str(workspace.app.settings.database_url),
                          storage={"path": str(workspace.app.settings.storage_path)})
    proc = jiebang("correct", workspace.weifang, "task_types", "theory", "--note", "电话核实", config=config)
    assert proc.returncode == 0 and "resolved TASK_TYPE_MISSING" in proc.stdout.decode(), proc.stderr.decode()
    assert jiebang("correct", workspace.weifang, "direction", "99", config=config).returncode == 2
    with Session(workspace.app.engine) as s:
        assert [(o.field, o.new_value) for o in s.exec(select(FieldOverride)).all()] == [("task_types", ["theory"])]
