"""Issue #23, item 2: a team's tools — assign a submission or a mail to a colleague and see
"mine", internal notes, answer a 需人工答复 mail from its page (threaded, logged, then
handled), assign every row of a filter, saved filters, keys; and the outbox a page at a time."""

from __future__ import annotations

import email
import email.header
import email.policy
from datetime import timedelta

from sqlmodel import Session, select
from starlette.testclient import TestClient
from support.records import T0, application_mail, deliver, outbox
from support.web import PASSWORD, Workspace, add_recommended, csrf_of

from notifier.models import OutboxMail
from tracker.records import accounts
from tracker.store.tables import Event, StoredMessage

QUESTION_FROM = "zhang@question.example.cn"


def _post(client: TestClient, path: str, page: str = "/submissions", **data: str):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get(page).text)
    return client.post(path, data=data | {"csrf_token": token})


def _follow(client: TestClient, answer) -> str:  # type: ignore[no-untyped-def]
    assert answer.status_code == 303, answer.text
    return client.get(answer.headers["location"]).text


def _add_colleague(ws: Workspace, name: str = "bob", role: str = "province", city: str | None = None) -> None:
    with Session(ws.app.engine) as s:
        accounts.add_user(s, name, role, PASSWORD, city=city)
        s.commit()


def _question(ws: Workspace) -> StoredMessage:
    deliver(ws.app, application_mail(sender=QUESTION_FROM, subject="咨询联合单位", attachments=[],
                                     body="您好，请问联合单位可以是省外企业吗？谢谢。", when=T0 + timedelta(days=2)))
    with Session(ws.app.engine) as s:
        msg = s.exec(select(StoredMessage).where(StoredMessage.from_addr == QUESTION_FROM)).one()
        assert msg.intent == "other", msg.intent  # a question no automatic answer covers
        return msg


# --- assignment and "mine" ---------------------------------------------------------------------------
def test_assign_a_submission_and_find_it_under_mine(workspace: Workspace) -> None:
    _add_colleague(workspace)
    alice = workspace.signed_in("alice")
    page = alice.get(f"/submissions/{workspace.jinan}").text
    assert "经办人：<strong id=\"assignee\">未分派" in page and '<option value="bob">' in page
    shown = _follow(alice, _post(alice, f"/submissions/{workspace.jinan}/assign", assignee="bob"))
    assert "已分派给 bob" in shown and '<strong id="assignee">bob</strong>' in shown and "分派经办人" in shown
    bob = workspace.signed_in("bob")
    mine = bob.get("/submissions", params={"mine": "1"}).text
    assert workspace.jinan in mine and workspace.weifang not in mine and "共 1 项" in mine
    everyone = bob.get("/submissions").text
    assert workspace.jinan in everyone and workspace.weifang in everyone
    assert alice.get("/submissions", params={"mine": "1"}).text.count("没有符合条件的申报") == 1
    # the list shows who handles each row; the export of "mine" holds only mine
    assert ">bob</td>" in everyone
    csv = bob.get("/export/submissions.csv", params={"mine": "1"}).content.decode("utf-8-sig")
    assert workspace.jinan in csv and workspace.weifang not in csv
    # un-assigning
    assert "已取消分派" in _follow(alice, _post(alice, f"/submissions/{workspace.jinan}/assign", assignee=""))
    assert workspace.jinan not in bob.get("/submissions", params={"mine": "1"}).text


def test_nobody_is_given_what_they_may_not_handle(workspace: Workspace) -> None:
    alice = workspace.signed_in("alice")
    # a viewer, and a city account for a province-direct application: refused, in Chinese
    for name in ("vic", "jinan", "nobody"):
        shown = _follow(alice, _post(alice, f"/submissions/{workspace.jinan}/assign", assignee=name))
        assert "不能分派给" in shown and '<strong id="assignee">未分派' in shown
    viewer = workspace.signed_in("vic")
    assert _post(viewer, f"/submissions/{workspace.jinan}/assign", assignee="alice").status_code == 403
    assert "分派给" not in viewer.get(f"/submissions/{workspace.jinan}").text  # no form to a read-only account


def test_a_city_account_assigns_only_its_recommendations_to_its_own_colleagues(workspace: Workspace) -> None:
    recommended = add_recommended(workspace)
    _add_colleague(workspace, "jinan2", "city", "济南市")
    city = workspace.signed_in("jinan")
    page = city.get(f"/submissions/{recommended}").text
    assert '<option value="jinan2">' in page and '<option value="alice">' not in page
    assert "已分派给 jinan2" in _follow(city, _post(city, f"/submissions/{recommended}/assign", assignee="jinan2"))
    assert "只能分派给本市的同事" in _follow(city, _post(city, f"/submissions/{recommended}/assign", assignee="alice"))
    # a direct application of a 济南 unit stays out of reach
    assert _post(city, f"/submissions/{workspace.jinan}/assign", assignee="jinan2").status_code == 404


def test_bulk_assign_every_row_the_filter_matches(workspace: Workspace) -> None:
    _add_colleague(workspace)
    alice = workspace.signed_in("alice")
    page = alice.get("/submissions", params={"city": "潍坊市"}).text
    assert "整批分派符合当前筛选的 1 项" in page
    shown = _follow(alice, _post(alice, "/submissions/assign", page="/submissions?city=潍坊市",
                                 assignee="bob", city="潍坊市"))
    assert "已将符合条件的 1 项分派给 bob" in shown
    mine = workspace.signed_in("bob").get("/submissions", params={"mine": "1"}).text
    assert workspace.weifang in mine and workspace.jinan not in mine
    assert "请选择经办人" in _follow(alice, _post(alice, "/submissions/assign", assignee=""))


def test_a_city_accounts_bulk_assignment_stays_within_its_scope(workspace: Workspace) -> None:
    recommended = add_recommended(workspace)
    _add_colleague(workspace, "jinan2", "city", "济南市")
    city = workspace.signed_in("jinan")
    assert "已将符合条件的 1 项" in _follow(city, _post(city, "/submissions/assign", assignee="jinan2"))
    mine = workspace.signed_in("jinan2").get("/submissions", params={"mine": "1"}).text
    assert recommended in mine and workspace.jinan not in mine


# --- internal notes ----------------------------------------------------------------------------------
def test_internal_notes_are_shown_on_the_page_logged_and_never_mailed(workspace: Workspace) -> None:
    alice = workspace.signed_in("alice")
    before = len(outbox(workspace.app))
    shown = _follow(alice, _post(alice, f"/submissions/{workspace.jinan}/note", text="已电话联系王老师，周五前补交盖章页"))
    assert "已添加内部备注" in shown and "已电话联系王老师，周五前补交盖章页" in shown and "添加内部备注" in shown
    assert "仅工作人员可见" in shown
    assert len(outbox(workspace.app)) == before
    assert "备注为空" in _follow(alice, _post(alice, f"/submissions/{workspace.jinan}/note", text="   "))
    with Session(workspace.app.engine) as s:
        assert [e.actor for e in s.exec(select(Event).where(Event.kind == "note_added")).all()] == ["alice（网页）"]
    assert _post(workspace.signed_in("vic"), f"/submissions/{workspace.jinan}/note", text="x").status_code == 403
    # a city account never reaches a note of a direct application
    assert workspace.signed_in("jinan").get(f"/submissions/{workspace.jinan}").status_code == 404


# --- a mail that needs a person ----------------------------------------------------------------------
def test_answer_a_question_from_its_page_threaded_logged_and_handled(workspace: Workspace) -> None:
    msg = _question(workspace)
    alice = workspace.signed_in("alice")
    listed = alice.get("/mail").text
    review = listed[listed.index('id="review"'):listed.index('id="held"')]
    assert "咨询联合单位" in review and f'href="/mail/messages/{msg.id}"' in review
    page = alice.get(f"/mail/messages/{msg.id}").text
    assert "请问联合单位可以是省外企业吗" in page and "待处理" in page and "（请在此填写答复内容）" in page
    # the draft as it stands is not an answer
    untouched = _follow(alice, _post(alice, f"/mail/messages/{msg.id}/answer", page="/mail",
                                     text="您好！\n（请在此填写答复内容）"))
    assert "请先把" in untouched
    answer = "您好！\n可以。联合单位不限于省内，但牵头单位须在山东省内注册。"
    shown = _follow(alice, _post(alice, f"/mail/messages/{msg.id}/answer", page="/mail", text=answer))
    assert "答复已写入发件箱" in shown and "已处理" in shown and "已发出的答复" in shown
    [row] = [o for o in outbox(workspace.app) if o.to_addrs == [QUESTION_FROM]]
    assert row.in_reply_to == msg.message_id and msg.message_id in row.references  # in the sender's thread
    assert "牵头单位须在山东省内注册" in row.text_body and "咨询联合单位" in row.text_body
    assert row.subject == "关于您来信的答复"
    with Session(workspace.app.engine) as s:
        kinds = [e.kind for e in s.exec(select(Event).where(Event.message_pk == msg.id)).all()]
    assert "mail_answered" in kinds and "mail_handled" in kinds
    listed = alice.get("/mail").text
    assert "咨询联合单位" not in listed[listed.index('id="review"'):listed.index('id="held"')]
    # once handled, no second answer
    again = _follow(alice, _post(alice, f"/mail/messages/{msg.id}/answer", page="/mail", text="再次答复"))
    assert "此来信已处理" in again


def test_close_a_question_without_an_answer_and_assign_one(workspace: Workspace) -> None:
    msg = _question(workspace)
    _add_colleague(workspace)
    alice = workspace.signed_in("alice")
    shown = _follow(alice, _post(alice, f"/mail/messages/{msg.id}/assign", page="/mail", assignee="bob"))
    assert '<strong id="assignee">bob</strong>' in shown
    listed = alice.get("/mail").text
    assert "<td>bob</td>" in listed[listed.index('id="review"'):listed.index('id="held"')]
    assert "不能分派给" in _follow(alice, _post(alice, f"/mail/messages/{msg.id}/assign", page="/mail",
                                              assignee="jinan"))  # a city account: no province mail
    from tracker.reports.digest import unanswered

    with Session(workspace.app.engine) as s:
        assert [m.id for m in unanswered(s, workspace.app.policy)] == [msg.id]  # the digest asks staff
    closed = _follow(alice, _post(alice, f"/mail/messages/{msg.id}/handled", page="/mail"))
    with Session(workspace.app.engine) as s:
        assert unanswered(s, workspace.app.policy) == ()  # closed: the digest no longer asks
    assert "已标记为已处理（未发答复）" in closed and "发送答复" not in closed
    assert not [o for o in outbox(workspace.app) if o.to_addrs == [QUESTION_FROM]]
    assert "咨询联合单位" not in alice.get("/mail").text.split('id="review"')[1].split('id="held"')[0]
    assert workspace.signed_in("jinan").get(f"/mail/messages/{msg.id}").status_code == 403
    assert alice.get("/mail/messages/999999").status_code == 404


def test_the_answer_is_a_threaded_chinese_mail(workspace: Workspace) -> None:
    msg = _question(workspace)
    alice = workspace.signed_in("alice")
    _post(alice, f"/mail/messages/{msg.id}/answer", page="/mail", text="您好！\n可以。")
    with Session(workspace.app.engine) as s:
        row = s.exec(select(OutboxMail).where(OutboxMail.in_reply_to == msg.message_id)).one()
    from notifier.compose import build_message  # what the transport sends

    built = email.message_from_bytes(build_message(row, sender="jbgs@dsj.shandong.example", load=None).as_bytes(),
                                     policy=email.policy.default)
    assert built["In-Reply-To"] == msg.message_id and msg.message_id in built["References"]
    assert built["Subject"] and "关于您来信的答复" in str(email.header.make_header(email.header.decode_header(
        built["Subject"])))
    body = built.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    assert "可以。" in body.get_content() and "自动发送" not in body.get_content()  # a person wrote it


# --- saved filters and the outbox's pages ------------------------------------------------------------
def test_saved_filters_are_each_users_own(workspace: Workspace) -> None:
    alice = workspace.signed_in("alice")
    shown = _follow(alice, _post(alice, "/filters", page="/submissions?city=潍坊市", name="潍坊 全部", city="潍坊市"))
    assert "已保存筛选“潍坊 全部”" in shown and "已保存的筛选" in shown
    assert 'href="/submissions?city=%E6%BD%8D%E5%9D%8A%E5%B8%82"' in shown
    assert "没有任何筛选条件" in _follow(alice, _post(alice, "/filters", name="空"))
    vic = workspace.signed_in("vic")
    assert "潍坊 全部" not in vic.get("/submissions").text
    with Session(workspace.app.engine) as s:
        from tracker.store.tables import SavedFilter

        saved_id = s.exec(select(SavedFilter)).one().id
    assert _post(vic, f"/filters/{saved_id}/delete").status_code == 404  # not vic's
    assert "已删除筛选" in _follow(alice, _post(alice, f"/filters/{saved_id}/delete"))
    assert "潍坊 全部" not in alice.get("/submissions").text


def test_the_outbox_is_paged(workspace: Workspace) -> None:
    from tracker.web import listing

    total = len(outbox(workspace.app))
    assert total >= 2
    listing.OUTBOX_PER_PAGE, saved = 1, listing.OUTBOX_PER_PAGE
    try:
        alice = workspace.signed_in("alice")
        first = alice.get("/mail").text
        assert f"发件箱（共 {total} 封）" in first and f"第 1/{total} 页" in first
        assert first.count('class="m-') == 1
        last = alice.get("/mail", params={"outbox_page": "999"}).text
        assert f"第 {total}/{total} 页" in last
    finally:
        listing.OUTBOX_PER_PAGE = saved


def test_keys_skip_link_and_search_shortcut_are_on_every_page(workspace: Workspace) -> None:
    alice = workspace.signed_in("alice")
    page = alice.get("/submissions").text
    assert '<a class="skip" href="#main">跳到正文</a>' in page and 'id="main"' in page
    assert '<script src="/static/keys.js" defer></script>' in page and 'id="search"' in page
    script = alice.get("/static/keys.js")
    assert script.status_code == 200 and "kbd-current" in script.text


def test_the_export_names_open_problems_in_chinese(workspace: Workspace) -> None:
    import csv
    import io

    from notifier.wording import title_of

    data = workspace.signed_in("alice").get("/export/submissions.csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(data)))
    column = rows[0].index("未解决问题")
    [weifang] = [r for r in rows[1:] if r[0] == workspace.weifang]
    assert weifang[column] == title_of("TASK_TYPE_MISSING") and "TASK_TYPE_MISSING" not in data
