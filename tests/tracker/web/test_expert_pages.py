"""A review expert in the workspace: only their panels' applications that are not in
conflict with them, those applications' documents and nothing else (404), a score form
that refuses a mark above its maximum in Chinese, their own scores only until the panel
closes, declaring a conflict; and none of the staff's pages (403)."""

from __future__ import annotations

import re

from sqlmodel import Session, select
from support.review_web import marks, review_round
from support.web import PASSWORD, Workspace, csrf_of

from tracker.records.queries import find_submission
from tracker.records.review.experts import panel_named
from tracker.records.review.scores import close_panel
from tracker.reports.documents import documents
from tracker.store.tables import Recusal, Score


def _doc(ws: Workspace, ref: str) -> tuple[int, str]:
    with Session(ws.app.engine) as s:
        sub = find_submission(s, ref)
        assert sub is not None
        [(version, docs)] = documents(s, sub.id or 0)
        return version.number, docs[0].name


def _post(client, path: str, **data: str):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get("/expert").text)
    return client.post(path, data=data | {"csrf_token": token})


def test_an_expert_sees_only_their_panels_applications_without_conflict(workspace: Workspace) -> None:
    review_round(workspace)
    zhang = workspace.signed_in("zhang")  # from the 济南 application's lead unit
    page = zhang.get("/expert")
    assert page.status_code == 200
    assert workspace.weifang in page.text and workspace.jinan not in page.text
    assert "待评分" in page.text
    assert zhang.get(f"/expert/{workspace.jinan}").status_code == 404
    assert zhang.get(f"/expert/{workspace.weifang}").status_code == 200
    # the conflicted application's documents: as if they did not exist
    number, name = _doc(workspace, workspace.jinan)
    for kind in ("file", "preview"):
        assert zhang.get(f"/expert/{workspace.jinan}/v{number}/{kind}", params={"name": name}).status_code == 404
    number, name = _doc(workspace, workspace.weifang)
    got = zhang.get(f"/expert/{workspace.weifang}/v{number}/file", params={"name": name})
    assert got.status_code == 200 and got.content[:2] == b"PK"
    assert zhang.get(f"/expert/{workspace.weifang}/v{number}/file", params={"name": "other.docx"}).status_code == 404

    wang = workspace.signed_in("wang")  # no conflict: both
    listed = wang.get("/expert").text
    assert workspace.jinan in listed and workspace.weifang in listed
    li = workspace.signed_in("li")  # another panel: neither, nor their documents
    assert workspace.jinan not in li.get("/expert").text
    assert li.get(f"/expert/{workspace.weifang}").status_code == 404
    assert li.get(f"/expert/{workspace.weifang}/v{number}/file", params={"name": name}).status_code == 404
    assert li.get("/expert/JB-NOPE-0001").status_code == 404


def test_a_score_above_the_maximum_is_refused_then_saved_and_ranked(workspace: Workspace) -> None:
    review_round(workspace)
    wang = workspace.signed_in("wang")
    ref = workspace.jinan
    form = wang.get(f"/expert/{ref}").text
    assert "创新性（0–30 分）" in form and "申明回避" in form
    refused = _post(wang, f"/expert/{ref}/score", **marks(31, 20, 15, 15), comment="很好")
    assert refused.status_code == 400
    assert "评分未保存" in refused.text and "超出 0–30 分" in refused.text
    assert 'value="31"' in refused.text  # what the expert typed is kept
    with Session(workspace.app.engine) as s:
        assert s.exec(select(Score)).all() == []

    saved = _post(wang, f"/expert/{ref}/score", **marks(25, 26, 18, 17), comment="创新性突出")
    assert saved.status_code == 303
    page = wang.get(saved.headers["location"])
    assert "评分已保存，总分 86 分" in page.text
    with Session(workspace.app.engine) as s:
        [score] = s.exec(select(Score)).all()
        assert score.total == 86 and score.source == "workspace" and score.entered_by == "wang"
    assert "已评分（86 分）" in wang.get("/expert").text

    staff = workspace.signed_in("alice")
    ranking = staff.get("/review/ranking").text
    row = re.search(rf'<tr id="rank-{ref}">(.*?)</tr>', ranking, re.S)
    assert row and "86.00" in row.group(1)


def test_other_experts_scores_only_once_the_panel_is_closed(workspace: Workspace) -> None:
    review_round(workspace)
    wang, zhang = workspace.signed_in("wang"), workspace.signed_in("zhang")
    ref = workspace.weifang
    assert _post(wang, f"/expert/{ref}/score", **marks(20, 20, 10, 10)).status_code == 303
    assert _post(zhang, f"/expert/{ref}/score", **marks(29, 28, 19, 19)).status_code == 303
    mine = wang.get(f"/expert/{ref}").text
    assert "95" not in mine and "zhang" not in mine  # zhang's 95: not before the panel closes
    with Session(workspace.app.engine) as s:
        close_panel(s, panel_named(s, "第一组"), actor="test")
        s.commit()
    closed = wang.get(f"/expert/{ref}").text
    assert "本组评分已结束" in closed and "zhang" in closed and "95" in closed
    assert 'id="score-form"' not in closed
    late = _post(wang, f"/expert/{ref}/score", **marks(1, 1, 1, 1))
    assert late.status_code == 400 and "已结束评分" in late.text


def test_declaring_a_conflict_takes_the_application_off_the_list(workspace: Workspace) -> None:
    review_round(workspace)
    wang = workspace.signed_in("wang")
    ref = workspace.weifang
    assert _post(wang, f"/expert/{ref}/score", **marks(20, 20, 10, 10)).status_code == 303
    unconfirmed = _post(wang, f"/expert/{ref}/recuse", note="曾为该单位顾问")
    assert "确认申明回避" in wang.get(unconfirmed.headers["location"]).text
    done = _post(wang, f"/expert/{ref}/recuse", note="曾为该单位顾问", confirm="1")
    assert done.status_code == 303 and done.headers["location"] == "/expert"
    listed = wang.get("/expert").text
    assert "已申明回避" in listed and f">{ref}<" not in listed
    assert wang.get(f"/expert/{ref}").status_code == 404
    with Session(workspace.app.engine) as s:
        [recusal] = s.exec(select(Recusal)).all()
        assert (recusal.reason, recusal.note) == ("declared", "曾为该单位顾问")
        assert s.exec(select(Score)).all() == []  # the score already given is withdrawn
    staff = workspace.signed_in("alice").get("/review/panels").text
    assert "专家本人申明回避（曾为该单位顾问）" in staff


def test_an_expert_is_refused_every_staff_page_of_the_review(workspace: Workspace) -> None:
    review_round(workspace)
    zhang = workspace.signed_in("zhang")
    for path in ("/review/formal", f"/review/formal/{workspace.weifang}", "/review/panels", "/review/ranking",
                 "/review/publication", "/review/publication/list.xlsx", "/acceptance", "/acceptance/excellent.xlsx",
                 f"/submissions/{workspace.weifang}"):
        answer = zhang.get(path)
        assert answer.status_code == 403, path
        assert "评审专家账号不能访问此页面" in answer.text
    for path in ("/review/decide", f"/review/formal/{workspace.weifang}/verdict", "/review/publication/release"):
        assert _post(zhang, path, confirm="1").status_code == 403, path
    # and staff have no expert pages
    assert workspace.signed_in("alice").get("/expert").status_code == 403


def test_an_expert_signs_in_to_their_own_page(workspace: Workspace) -> None:
    review_round(workspace)
    client = workspace.client()
    page = client.get("/login")
    answer = client.post("/login", data={"username": "wang", "password": PASSWORD, "csrf_token": csrf_of(page.text),
                                         "next": "/submissions"})
    assert answer.status_code == 303 and answer.headers["location"] == "/expert"
    nav = client.get("/expert").text
    assert 'href="/expert"' in nav and 'href="/review/formal"' not in nav
    assert 'href="/review/formal"' in workspace.signed_in("alice").get("/submissions").text
