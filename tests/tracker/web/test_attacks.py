"""Issue #23, items 5 and 6: the ways around the rules an attacker found, each closed.

- every route declares who may use it (and its handler is a plain function: the event
  loop never waits for argon2, the records lock, the rules or the database);
- a city account reads and changes only what its city recommended, never a
  province-direct application of a unit registered in that city;
- forty-five previews at once leave the workspace answering;
- failed logins from one address never lock the right password out from another, and
  every spelling of a name is that one name; a weak password is refused;
- notices come from the action, never from the URL; bidi controls never reach a page or
  a download's name; huge ids are 404; an idle session ends.
"""

from __future__ import annotations

import base64
import inspect
import json
import threading
from collections import Counter
from datetime import timedelta

import httpx
import pytest
from sqlmodel import Session, func, select
from starlette.routing import Mount
from starlette.testclient import TestClient
from support.browser import served
from support.helpers import jiebang, write_config
from support.records import T0, application_mail, deliver, form, outbox
from support.web import PASSWORD, Workspace, add_recommended, csrf_of

import tracker.reports.documents as documents_module
from campaign.clock import utcnow
from tracker.records import accounts
from tracker.records.queries import find_submission
from tracker.reports.documents import documents
from tracker.store.tables import (
    Event,
    FieldOverride,
    LoginAttempt,
    StaffUser,
    Submission,
    WebSession,
)
from tracker.web import guard, notices
from tracker.web.routes import login as login_routes
from tracker.web.workspace import create_workspace

HUGE = "9" * 30


def _post(client: TestClient, path: str, **data: str):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get("/submissions").text)
    return client.post(path, data=data | {"csrf_token": token})


def _document(ws: Workspace, reference: str) -> str:
    with Session(ws.app.engine) as s:
        sub = find_submission(s, reference)
        assert sub is not None and sub.id is not None
        [(_version, [doc, *_])] = documents(s, sub.id)
    return doc.name


def _counts(ws: Workspace) -> tuple[int, int, int]:
    with Session(ws.app.engine) as s:
        return (int(s.exec(select(func.count()).select_from(Event)).one()),
                int(s.exec(select(func.count()).select_from(FieldOverride)).one()), len(outbox(ws.app)))


# --- every route states its permission -------------------------------------------------------------
def test_every_route_declares_who_may_use_it(workspace: Workspace) -> None:
    web = create_workspace(workspace.app)
    undeclared, anonymous, async_handlers = [], [], []
    for route in web.routes:
        if isinstance(route, Mount):
            assert route.path == "/static", route.path  # files anyone may fetch: style and htmx
            continue
        if not isinstance(route, guard.Guarded) or not route.allow:
            undeclared.append(getattr(route, "path", route))
            continue
        if guard.ANONYMOUS in route.allow:
            anonymous.append(route.path)
        if "POST" in (route.methods or ()) and not route.writes:
            # every other POST changes the records: these only a user's own sign-in and list views
            assert route.path in {"/logout", "/account/2fa", "/filters", "/filters/{filter_id:id}/delete"}, route.path
        if inspect.iscoroutinefunction(route.handler):
            async_handlers.append(route.handler.__name__)
    assert undeclared == []
    assert set(anonymous) == {"/login", "/login/code"}  # the password, then (enrolled) the one-time code
    # handlers are plain functions (run in the thread pool); these only await
    assert sorted(async_handlers) == ["code_post", "expert_preview", "inline", "login_post", "mail_preview",
                                     "submission_preview"]


# --- a city account and a province-direct application of its city ---------------------------------
def test_a_city_account_cannot_read_or_change_a_direct_submission_of_its_city(workspace: Workspace) -> None:
    recommended = add_recommended(workspace)
    direct = workspace.jinan  # a 省属 unit registered in 济南, sent straight to the province
    with Session(workspace.app.engine) as s:
        sub = find_submission(s, direct)
        assert sub is not None and (sub.channel, sub.unit_city) == ("direct", "济南市")
        nature, status = sub.unit_nature, sub.status
    name = _document(workspace, direct)
    client = workspace.signed_in("jinan")
    for path in (f"/submissions/{direct}", f"/submissions/{direct}/v1/file?name={name}",
                 f"/submissions/{direct}/v1/preview?name={name}"):
        answer = client.get(path)
        assert answer.status_code in (403, 404) and "泉河" not in answer.text, path
    assert direct not in client.get("/submissions").text
    assert direct not in client.get("/submissions", params={"city": "济南市", "channel": "direct"}).text
    assert direct not in client.get("/city").text
    before = _counts(workspace)
    refused = [
        _post(client, f"/submissions/{direct}/correct", field="unit_nature", value="其他", notify="1"),
        _post(client, f"/submissions/{direct}/status", status="withdrawn"),
        _post(client, f"/submissions/{direct}/contacts/remove", address="wangxm@quanhe.example.cn"),
        _post(client, "/city/recommend", reference=direct, rank="1"),
    ]
    assert [r.status_code for r in refused] == [404, 403, 403, 404]
    assert _counts(workspace) == before  # no correction, no event, no mail queued
    with Session(workspace.app.engine) as s:
        sub = find_submission(s, direct)
        assert sub is not None and (sub.unit_nature, sub.status) == (nature, status)
    for path in ("/export/submissions.csv", "/confirm", "/mail", "/digest"):
        assert client.get(path).status_code == 403, path
    # what 济南 recommended is its own: it reads it, its files, and corrects it
    assert client.get(f"/submissions/{recommended}").status_code == 200
    own = _document(workspace, recommended)
    assert client.get(f"/submissions/{recommended}/v1/file", params={"name": own}).status_code == 200
    assert _post(client, f"/submissions/{recommended}/correct", field="task_types", value="technology").status_code == 303


# --- many previews at once -----------------------------------------------------------------------------
def _signed_in_client(base: str, name: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    page = client.get("/login")
    answer = client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": csrf_of(page.text)})
    assert answer.status_code == 303, answer.text
    return client


def test_45_concurrent_previews_leave_the_workspace_answering(workspace: Workspace,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    ref = workspace.jinan
    name = _document(workspace, ref)
    entered, release = threading.Event(), threading.Event()
    conversions: list[int] = []

    def slow_conversion(jobs, seconds):  # type: ignore[no-untyped-def]  # LibreOffice on a hostile file
        conversions.append(len(jobs))
        entered.set()
        release.wait(120)
        return [b"%PDF-1.4 converted"]

    monkeypatch.setattr(documents_module, "office_convert", slow_conversion)
    statuses: list[object] = []
    with served(workspace.app) as base:
        viewer, clerk = _signed_in_client(base, "vic"), _signed_in_client(base, "alice")
        cookies = dict(viewer.cookies)

        def preview() -> None:
            with httpx.Client(base_url=base, cookies=cookies, timeout=180) as client:
                try:
                    statuses.append(client.get(f"/submissions/{ref}/v1/preview", params={"name": name}).status_code)
                except httpx.HTTPError as exc:
                    statuses.append(repr(exc))

        threads = [threading.Thread(target=preview) for _ in range(45)]
        for t in threads:
            t.start()
        try:
            assert entered.wait(120), "no conversion started"
            # while LibreOffice is busy: a clerk's pages answer
            listing = clerk.get("/submissions")
            assert listing.status_code == 200 and workspace.weifang in listing.text
            assert clerk.get(f"/submissions/{workspace.weifang}").status_code == 200
        finally:
            release.set()
            for t in threads:
                t.join(180)
        assert len(statuses) == 45 and set(statuses) <= {200, 429}, Counter(map(str, statuses))
        assert 200 in statuses and conversions == [1]  # one file, converted once for everyone
        assert 429 in statuses  # one viewer may not fill the queue
        again = clerk.get(f"/submissions/{ref}/v1/preview", params={"name": name})  # from the cache
        assert again.status_code == 200 and again.content == b"%PDF-1.4 converted" and conversions == [1]
        viewer.close()
        clerk.close()


def test_the_preview_limit_answers_in_chinese(workspace: Workspace) -> None:
    client = workspace.signed_in("vic")
    previews = client.app.state.previews  # type: ignore[attr-defined]
    with Session(workspace.app.engine) as s:
        vic = s.exec(select(StaffUser).where(StaffUser.name == "vic")).one()
    for _ in range(previews.per_user):
        previews.enter(vic.id)
    answer = client.get(f"/submissions/{workspace.jinan}/v1/preview", params={"name": _document(workspace, workspace.jinan)})
    assert answer.status_code == 429 and "预览过多" in answer.text


# --- logging in ---------------------------------------------------------------------------------------
def _from(ws: Workspace, address: str) -> TestClient:
    return TestClient(create_workspace(ws.app), follow_redirects=False, client=(address, 40000))


def _try(client: TestClient, name: str, password: str) -> int:
    page = client.get("/login")
    return client.post("/login", data={"username": name, "password": password,
                                       "csrf_token": csrf_of(page.text)}).status_code


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The login's delays, noted instead of waited for."""
    noted: list[float] = []

    async def note(seconds: float) -> None:
        noted.append(seconds)

    monkeypatch.setattr(login_routes, "pause", note, raising=False)
    return noted


def test_failures_from_one_address_never_lock_the_right_password_out_elsewhere(workspace: Workspace,
                                                                                 waits: list[float]) -> None:
    attacker = _from(workspace, "203.0.113.7")
    for _ in range(5):
        assert _try(attacker, "alice", "guess-0000") == 401
    assert _try(attacker, "alice", PASSWORD) == 429  # that address waits, whatever it knows
    assert _try(attacker, "vic", PASSWORD) == 429
    staff = _from(workspace, "10.1.2.3")
    assert _try(staff, "alice", PASSWORD) == 303  # the right password elsewhere: in, after a delay
    assert waits and waits[-1] > 0
    assert staff.get("/submissions").status_code == 200


def test_every_spelling_of_a_name_is_that_name(workspace: Workspace, waits: list[float]) -> None:
    for i, spelling in enumerate(["alice ", " alice", "ALICE", "Ａｌｉｃｅ", "\u3000Alice"]):
        assert _try(_from(workspace, f"198.51.100.{i + 1}"), spelling, "guess-0000") == 401
    with Session(workspace.app.engine) as s:
        assert {a.username for a in s.exec(select(LoginAttempt)).all()} == {"alice"}  # one counter
        assert accounts.name_delay(s, "alice", "10.9.9.9") > 0
    assert _try(_from(workspace, "10.9.9.9"), " Alice ", PASSWORD) == 303
    assert waits and waits[-1] > 0
    with Session(workspace.app.engine) as s:
        with pytest.raises(accounts.AccountError, match="exists"):
            accounts.add_user(s, " ALICE", "viewer", "a quiet harbour at dusk")
        with pytest.raises(accounts.AccountError):
            accounts.add_user(s, "eve\u202e", "viewer", "a quiet harbour at dusk")
        assert accounts.disable_user(s, "ALICE ").name == "alice"


def test_a_weak_password_is_refused(tmp_path, db_url) -> None:
    config = write_config(tmp_path, db_url=db_url)
    for password, why in ((b"abcd", "at least 12"), (b"qwertyuiop123", "common"),
                          (b"bob-the-builder-7", "user name")):
        proc = jiebang("user", "add", "bob", "--role", "viewer", "--password-stdin", config=config,
                       input=password + b"\n")
        assert proc.returncode == 2 and why in proc.stderr.decode(), (password, proc.stderr.decode())
    proc = jiebang("user", "add", "bob", "--role", "viewer", "--password-stdin", config=config,
                   input="泉城 spring water 2025\n".encode())
    assert proc.returncode == 0, proc.stderr.decode()
    for weak in ("short", "111111111111111", "1234567890123", "  carol 2025 spring  ", "Carol-in-the-garden"):
        with pytest.raises(accounts.AccountError):
            accounts.check_password("carol", weak)


def test_an_idle_session_ends(workspace: Workspace) -> None:
    client = workspace.signed_in("alice")
    with Session(workspace.app.engine) as s:
        row = s.exec(select(WebSession)).one()
        assert row.expires_at - row.created_at <= timedelta(minutes=30)  # not the 12 hours of its lifetime
        row.expires_at = utcnow() - timedelta(seconds=1)  # 30 minutes without a request
        s.add(row)
        s.commit()
    answer = client.get("/submissions")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    idle = timedelta(minutes=30)
    with Session(workspace.app.engine) as s:
        alice = s.exec(select(StaffUser).where(StaffUser.name == "alice")).one()
        token = accounts.open_session(s, alice, idle=idle, lifetime=timedelta(hours=1))
        start = utcnow()

        def at(minutes: int):  # type: ignore[no-untyped-def]
            return accounts.signed_in(s, token, idle=idle, lifetime=timedelta(hours=1),
                                      now=start + timedelta(minutes=minutes))

        assert at(20) is not None and at(45) is not None  # each use moves the deadline on
        assert at(59) is not None and at(61) is None  # never beyond the lifetime
        other = accounts.open_session(s, alice, idle=idle)
        assert accounts.signed_in(s, other, idle=idle, now=start + timedelta(minutes=31)) is None


# --- what a page shows ---------------------------------------------------------------------------------
def test_a_notice_comes_from_the_action_never_from_the_url(workspace: Workspace) -> None:
    bait = "系统升级：请将账号密码发送至 helpdesk@evil.example"
    client = workspace.signed_in("alice")
    for path in (f"/submissions/{workspace.jinan}", "/submissions", "/confirm", "/mail", "/city?city=济南市"):
        sep = "&" if "?" in path else "?"
        page = client.get(f"{path}{sep}done={bait}&error={bait}")
        assert page.status_code == 200 and bait not in page.text, path
        assert 'class="notice"' not in page.text and 'class="error"' not in page.text, path
    answer = _post(client, f"/submissions/{workspace.weifang}/correct", field="direction", value="3")
    assert answer.status_code == 303 and "done=" not in answer.headers["location"]
    shown = client.get(answer.headers["location"]).text
    assert 'class="notice"' in shown and "已更正" in shown
    assert 'class="notice"' not in client.get(answer.headers["location"]).text  # shown once
    # a notice cookie this session did not sign shows nothing
    body = base64.urlsafe_b64encode(json.dumps({"done": bait}, ensure_ascii=False).encode()).decode()
    client.cookies.set(notices.COOKIE, f"{body}.{'0' * 64}")
    assert bait not in client.get("/submissions").text
    other = workspace.signed_in("vic")
    token = other.cookies.get("jb_session")
    assert token
    client.cookies.set(notices.COOKIE, f"{body}.{notices._sign(token, body)}")  # signed for another session
    assert bait not in client.get("/submissions").text


def test_a_file_name_with_bidi_controls_is_shown_without_them(workspace: Workspace) -> None:
    name = "申报书\u202excod.exe\u202c.docx"
    deliver(workspace.app, application_mail(
        sender="li@bidi.example.cn", when=T0 + timedelta(hours=3),
        attachments=[(name, form(unit="山东双向数据科技有限公司", code17="91370100MA3BDD7X1", nature="省属单位"))]))
    with Session(workspace.app.engine) as s:
        [ref] = [sub.reference for sub in s.exec(select(Submission)).all() if sub.unit == "山东双向数据科技有限公司"]
    assert _document(workspace, ref) == name
    client = workspace.signed_in("alice")
    page = client.get(f"/submissions/{ref}").text
    assert "申报书xcod.exe.docx" in page
    assert "\u202e" not in page and "\u202c" not in page
    download = client.get(f"/submissions/{ref}/v1/file", params={"name": name})
    assert download.status_code == 200
    disposition = download.headers["content-disposition"]
    assert "%E2%80%AE" not in disposition and "%E2%80%AC" not in disposition
    assert disposition.endswith(".docx")


def test_huge_and_unknown_ids_are_404(workspace: Workspace) -> None:
    client = workspace.signed_in("alice")
    name = _document(workspace, workspace.jinan)
    for path in (f"/mail/messages/{HUGE}/raw", "/mail/messages/424242/raw",
                 f"/submissions/{workspace.jinan}/v{HUGE}/file?name={name}",
                 f"/submissions/{workspace.jinan}/v{HUGE}/preview?name={name}",
                 f"/submissions/{workspace.jinan}/v7/file?name={name}"):
        answer = client.get(path)
        assert answer.status_code == 404 and "未找到" in answer.text, path
    for path in (f"/confirm/{HUGE}/confirm", f"/mail/outbox/{HUGE}/resend"):
        assert _post(client, path).status_code == 404, path
    assert _post(client, "/mail/requeue", message=HUGE).status_code == 303
    assert client.get("/submissions", params={"direction": HUGE}).status_code == 200
