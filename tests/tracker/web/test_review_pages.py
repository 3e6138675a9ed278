"""The staff's review pages, each step through the function the CLI calls: formal review
(a fail needs its reason; a dishonest unit cannot pass) and credit checks with their
evidence file; panels and conflicts; the ranking and decisions (a reason and a
confirmation, in bulk); the published list; result notices released once; acceptance and
the excellent results."""

from __future__ import annotations

import io
import re

from docx import Document
from openpyxl import load_workbook
from sqlmodel import Session, select
from support.records import outbox
from support.review_web import marks, review_round
from support.web import Workspace, csrf_of

from tracker.records.queries import find_submission
from tracker.store.tables import CreditCheck, Publication, Recusal, Submission
from tracker.web import uploads


def _sub(ws: Workspace, ref: str) -> Submission:
    with Session(ws.app.engine) as s:
        sub = find_submission(s, ref)
        assert sub is not None
        return sub


def _post(client, path: str, files=None, **data: str):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get("/review/formal").text)
    return client.post(path, data=data | {"csrf_token": token}, files=files)


def _flash(client, answer) -> str:  # type: ignore[no-untyped-def]
    assert answer.status_code == 303, answer.text
    return client.get(answer.headers["location"]).text


def test_formal_review_needs_a_reason_to_fail_and_a_dishonest_unit_cannot_pass(workspace: Workspace) -> None:
    alice = workspace.signed_in("alice")
    ref = workspace.weifang
    listed = alice.get("/review/formal").text
    assert ref in listed and "待审查" in listed and "未查询" in listed
    page = _flash(alice, _post(alice, f"/review/formal/{ref}/verdict", verdict="fail"))
    assert "形式审查不通过须写明原因" in page and _sub(workspace, ref).formal is None

    # the lead unit recorded dishonest, with the query's screenshot: the application fails at once
    unit_key = _sub(workspace, ref).uscc
    assert unit_key
    shot = b"%PDF-1.4 the query result"
    page = _flash(alice, _post(alice, f"/review/formal/{ref}/credit", unit=unit_key, result="dishonest",
                               source="信用山东", note="列入失信名单", files={"evidence": ("查询结果.pdf", shot)}))
    assert "因严重失信，形式审查不通过" in page and "严重失信" in page
    sub = _sub(workspace, ref)
    assert (sub.formal, sub.status) == ("fail", "formal_failed")
    with Session(workspace.app.engine) as s:
        [check] = s.exec(select(CreditCheck)).all()
        assert (check.result, check.source, check.evidence_name) == ("dishonest", "信用山东", "查询结果.pdf")
    link = re.search(r'href="(/review/formal/[^"]+/evidence)"', page)
    assert link and alice.get(link.group(1)).content == shot
    page = _flash(alice, _post(alice, f"/review/formal/{ref}/verdict", verdict="pass"))
    assert "有严重失信记录，不能通过形式审查" in page and _sub(workspace, ref).formal == "fail"

    # a clean record, then the pass
    _post(alice, f"/review/formal/{ref}/credit", unit=unit_key, result="clean", source="信用中国",
          files={"evidence": ("", b"")})
    page = _flash(alice, _post(alice, f"/review/formal/{ref}/verdict", verdict="pass", reason="材料齐全"))
    assert "形式审查：通过" in page
    assert (_sub(workspace, ref).formal, _sub(workspace, ref).status) == ("pass", "under_review")
    # a file above the limit is refused before it is read
    big = _post(alice, f"/review/formal/{ref}/credit", unit=unit_key, result="clean", source="信用中国",
                files={"evidence": ("big.pdf", b"0" * (uploads.LIMIT + uploads.SLACK + 1))})
    assert big.status_code == 413 and "文件过大" in big.text
    # a viewer reads, and changes nothing
    vic = workspace.signed_in("vic")
    assert vic.get(f"/review/formal/{ref}").status_code == 200
    assert _post(vic, f"/review/formal/{ref}/verdict", verdict="fail", reason="x").status_code == 403


def test_panels_show_progress_and_conflicts_in_chinese(workspace: Workspace) -> None:
    review_round(workspace)
    alice = workspace.signed_in("alice")
    page = alice.get("/review/panels").text
    assert "第一组" in page and "专家所在单位为揭榜单位" in page
    assert re.search(r"<td>zhang</td><td>山东省泉河数字经济研究院</td><td>0</td><td>1</td>", page)
    assert re.search(r"<td>wang</td><td>山东大学</td><td>0</td><td>2</td>", page)
    done = _flash(alice, _post(alice, "/review/conflicts", expert="wang", reference=workspace.weifang,
                               note="与揭榜单位有合作"))
    assert "工作人员指定回避（与揭榜单位有合作）" in done
    with Session(workspace.app.engine) as s:
        assert [r.reason for r in s.exec(select(Recusal)).all()] == ["staff"]
    invited = _flash(alice, _post(alice, "/review/panels/invite", panel="第一组"))
    assert "已向 wang、zhang 发送邀请邮件" in invited
    mails = [m for m in outbox(workspace.app) if m.kind == "expert_invite"]
    assert len(mails) == 2 and workspace.jinan not in "".join(m.subject for m in mails)
    assert "确认结束评分" in _flash(alice, _post(alice, "/review/panels/close", panel="第一组"))
    closed = _flash(alice, _post(alice, "/review/panels/close", panel="第一组", confirm="1"))
    assert "已结束评分" in closed and "评分已结束" in closed


def test_decisions_need_a_reason_and_a_confirmation_and_may_be_taken_in_bulk(workspace: Workspace) -> None:
    review_round(workspace)
    wang = workspace.signed_in("wang")
    token = csrf_of(wang.get("/expert").text)
    for ref, points in ((workspace.jinan, (25, 26, 18, 17)), (workspace.weifang, (20, 20, 10, 10))):
        assert wang.post(f"/expert/{ref}/score", data=marks(*points) | {"csrf_token": token}).status_code == 303
    alice = workspace.signed_in("alice")
    ranking = alice.get("/review/ranking").text
    assert "86.00" in ranking and "60.00" in ranking

    refs = [workspace.jinan, workspace.weifang]
    token = csrf_of(ranking)
    no_reason = alice.post("/review/decide", data={"csrf_token": token, "reference": refs, "status": "selected",
                                                   "confirm": "1"})
    assert no_reason.status_code == 400 and "请填写决定理由" in no_reason.text
    unconfirmed = alice.post("/review/decide", data={"csrf_token": token, "reference": refs, "status": "selected",
                                                     "note": "排名靠前"})
    assert unconfirmed.status_code == 400 and "确认作出此决定" in unconfirmed.text
    assert {_sub(workspace, r).status for r in refs} == {"under_review"}
    nothing = alice.post("/review/decide", data={"csrf_token": token, "status": "selected", "note": "x", "confirm": "1"})
    assert nothing.status_code == 400 and "请先勾选" in nothing.text

    done = alice.post("/review/decide", data={"csrf_token": token, "reference": refs, "status": "selected",
                                              "note": "评审排名靠前", "confirm": "1"})
    assert "已将 2 项设为“已入选”" in _flash(alice, done)
    assert {_sub(workspace, r).status for r in refs} == {"selected"}


def _selected_and_published(ws: Workspace) -> None:
    review_round(ws)
    with Session(ws.app.engine) as s:
        for ref, status in ((ws.jinan, "selected"), (ws.weifang, "not_selected")):
            sub = find_submission(s, ref)
            assert sub is not None
            sub.status = status
            s.add(sub)
        s.commit()


def test_the_published_list_and_result_notices_released_once(workspace: Workspace) -> None:
    _selected_and_published(workspace)
    alice = workspace.signed_in("alice")
    page = alice.get("/review/publication").text
    assert "已入选 1 项" in page and "尚未发布公示" in page
    xlsx = alice.get("/review/publication/list.xlsx")
    rows = [[c.value for c in r] for r in load_workbook(io.BytesIO(xlsx.content)).worksheets[0].iter_rows()]
    assert "山东省泉河数字经济研究院" in str(rows) and "潍坊市数据港科技有限公司" not in str(rows)
    doc = Document(io.BytesIO(alice.get("/review/publication/list.docx").content))
    assert doc.tables[0].rows[1].cells[2].text == "山东省泉河数字经济研究院"

    published = _flash(alice, _post(alice, "/review/publication/publish", date="2025-09-26", confirm="1"))
    assert "已发布公示：1 项，公示期 2025-09-26 至 2025-10-09" in published
    with Session(workspace.app.engine) as s:
        [row] = s.exec(select(Publication)).all()
        assert row.references == [workspace.jinan]

    assert "确认发送结果通知" in _flash(alice, _post(alice, "/review/publication/release"))
    first = _flash(alice, _post(alice, "/review/publication/release", confirm="1"))
    assert "本次发送申报单位 2 家" in first
    again = _flash(alice, _post(alice, "/review/publication/release", confirm="1"))
    assert "本次发送申报单位 0 家" in again
    results = [m for m in outbox(workspace.app) if m.kind == "result" and m.reference]
    assert sorted(m.reference for m in results) == sorted([workspace.jinan, workspace.weifang])


def test_acceptance_decisions_and_the_excellent_results(workspace: Workspace) -> None:
    _selected_and_published(workspace)
    alice = workspace.signed_in("alice")
    ref = workspace.jinan
    page = alice.get("/acceptance").text
    assert ref in page and workspace.weifang not in page and "未申请" in page
    assert "须写明理由" in _flash(alice, _post(alice, f"/acceptance/{ref}/decide", result="passed"))
    assert "须给出整改期限" in _flash(alice, _post(alice, f"/acceptance/{ref}/decide", result="rework", reason="缺报告"))
    rework = _flash(alice, _post(alice, f"/acceptance/{ref}/decide", result="rework", reason="缺研究报告",
                                 until="2026-03-31"))
    assert "限期整改（期限 2026-03-31）" in rework
    assert "尚未通过验收" in _flash(alice, _post(alice, f"/acceptance/{ref}/excellent", mark="1"))
    _post(alice, f"/acceptance/{ref}/decide", result="passed", reason="成果齐全")
    marked = _flash(alice, _post(alice, f"/acceptance/{ref}/excellent", mark="1", note="应用效果突出"))
    assert "已评为优秀成果" in marked and "验收通过" in marked
    book = load_workbook(io.BytesIO(alice.get("/acceptance/excellent.xlsx").content)).worksheets[0]
    assert [c.value for c in book[2]][5:] == [ref, book[2][6].value, "应用效果突出"]
    assert alice.get("/acceptance/excellent.docx").status_code == 200
    assert "已移出优秀成果" in _flash(alice, _post(alice, f"/acceptance/{ref}/excellent", mark="0"))


def test_a_submissions_page_shows_what_happened_after_intake(workspace: Workspace) -> None:
    review_round(workspace)
    wang = workspace.signed_in("wang")
    token = csrf_of(wang.get("/expert").text)
    wang.post(f"/expert/{workspace.jinan}/score", data=marks(25, 26, 18, 17) | {"csrf_token": token})
    part = workspace.signed_in("alice").get(f"/submissions/{workspace.jinan}/after-intake", headers={"hx-request": "1"})
    assert part.status_code == 200 and "<html" not in part.text
    assert "形式审查通过" in part.text and "wang 86 分" in part.text and "未申请" in part.text
    assert workspace.signed_in("jinan").get(f"/submissions/{workspace.jinan}/after-intake").status_code == 403
