"""Who may see and do what: the login contract, CSRF, anonymous, viewer, city, sessions."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select
from starlette.testclient import TestClient
from support.helpers import jiebang, write_config
from support.web import PASSWORD, Workspace, add_recommended, csrf_of, login

from tracker.records.queries import find_submission
from tracker.store.tables import Claim, Event, LoginAttempt, WebSession
from tracker.web.workspace import create_workspace

# every page, with a placeholder for a reference; POSTs with what they need
GETS = ["/submissions", "/submissions/{ref}", "/submissions/{ref}/v1/file?name=x.docx",
        "/submissions/{ref}/v1/preview?name=x.docx", "/confirm", "/mail", "/mail/messages/1/raw",
        "/digest", "/digest/view", "/city?city=济南市", "/export/submissions.csv", "/export/submissions.xlsx",
        "/export/recommendation.xlsx?city=济南市"]
POSTS = [("/submissions/{ref}/correct", {"field": "task_types", "value": "technology"}),
         ("/submissions/{ref}/status", {"status": "withdrawn"}),
         ("/confirm/1/confirm", {}), ("/confirm/1/reject", {}),
         ("/mail/requeue", {"message": "1"}), ("/mail/outbox/1/resend", {}),
         ("/city/recommend?city=济南市", {"reference": "{ref}", "rank": "1"})]


def _state(ws: Workspace) -> tuple:
    """Everything a POST could change."""
    with Session(ws.app.engine) as s:
        subs = tuple((x.status, tuple(x.task_types)) for x in (find_submission(s, ws.jinan), find_submission(s, ws.weifang)))
        claims = tuple(c.state for c in s.exec(select(Claim)).all())
        events = len(s.exec(select(Event)).all())
    return subs, claims, events


# --- the login contract ------------------------------------------------------------------------
def test_the_login_form_and_a_plain_client_logging_in(workspace: Workspace) -> None:
    client = workspace.client()
    page = client.get("/login")
    assert page.status_code == 200
    for field in ('name="username"', 'name="password"', 'type="hidden" name="csrf_token"'):
        assert field in page.text
    answer = client.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": csrf_of(page.text)})
    assert answer.status_code == 303 and answer.headers["location"] == "/submissions"
    cookie = answer.headers["set-cookie"]
    assert "jb_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    listing = client.get("/submissions")
    assert listing.status_code == 200 and workspace.jinan in listing.text and workspace.weifang in listing.text
    one = client.get(f"/submissions/{workspace.weifang}")
    assert one.status_code == 200 and "潍坊市数据港科技有限公司" in one.text


@pytest.mark.parametrize("token", [None, "", "forged-token-of-the-right-length-000000"])
def test_a_login_without_the_forms_token_opens_no_session(workspace: Workspace, token: str | None) -> None:
    client = workspace.client()
    client.get("/login")
    data = {"username": "alice", "password": PASSWORD} | ({"csrf_token": token} if token is not None else {})
    answer = client.post("/login", data=data)
    assert answer.status_code == 403 and "jb_session" not in answer.headers.get("set-cookie", "")
    assert client.get("/submissions").status_code == 303
    with Session(workspace.app.engine) as s:
        assert s.exec(select(WebSession)).all() == []


def test_a_wrong_password_opens_no_session_and_five_failures_lock_that_address(workspace: Workspace) -> None:
    client = workspace.client()
    for _ in range(5):
        page = client.get("/login")
        answer = client.post("/login", data={"username": "alice", "password": "wrong", "csrf_token": csrf_of(page.text)})
        assert answer.status_code == 401 and "jb_session" not in answer.headers.get("set-cookie", "")
    page = client.get("/login")
    locked = client.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": csrf_of(page.text)})
    assert locked.status_code == 429 and "jb_session" not in locked.headers.get("set-cookie", "")
    assert client.get("/submissions").status_code == 303
    with Session(workspace.app.engine) as s:  # in the database: every process sees the same count
        assert len(s.exec(select(LoginAttempt)).all()) == 5  # the refused sixth never reached the password


def test_next_never_leaves_the_site(workspace: Workspace) -> None:
    client = workspace.client()
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        page = client.get("/login", params={"next": target})
        answer = client.post("/login", data={"username": "alice", "password": PASSWORD, "next": target,
                                             "csrf_token": csrf_of(page.text)})
        assert answer.headers["location"] == "/submissions"
        client.cookies.clear()
    page = client.get("/login")
    answer = client.post("/login", data={"username": "alice", "password": PASSWORD, "next": f"/submissions/{workspace.jinan}",
                                         "csrf_token": csrf_of(page.text)})
    assert answer.headers["location"] == f"/submissions/{workspace.jinan}"


# --- anonymous, viewer, city -----------------------------------------------------------------------
def test_anonymous_gets_the_login_page_and_no_data(workspace: Workspace) -> None:
    client = workspace.client()
    for path in GETS:
        answer = client.get(path.format(ref=workspace.jinan))
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login"), path
        assert workspace.jinan not in answer.text and "泉河" not in answer.text
    before = _state(workspace)
    for path, data in POSTS:
        answer = client.post(path.format(ref=workspace.jinan), data={k: v.format(ref=workspace.jinan) for k, v in data.items()})
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login"), path
    assert _state(workspace) == before


def test_a_viewer_reads_and_changes_nothing(workspace: Workspace) -> None:
    client = workspace.signed_in("vic")
    assert client.get(f"/submissions/{workspace.jinan}").status_code == 200
    token = csrf_of(client.get("/submissions").text)
    before = _state(workspace)
    for path, data in POSTS:
        fields = {k: v.format(ref=workspace.jinan) for k, v in data.items()} | {"csrf_token": token}
        assert client.post(path.format(ref=workspace.jinan), data=fields).status_code == 403, path
    assert _state(workspace) == before


def test_a_city_user_sees_only_what_its_city_recommended(workspace: Workspace) -> None:
    recommended = add_recommended(workspace)
    client = workspace.signed_in("jinan")
    listing = client.get("/submissions")
    assert recommended in listing.text and workspace.weifang not in listing.text
    assert workspace.jinan not in listing.text  # registered in 济南, but sent direct to the province
    # even asking for another city's list by its filter shows only its own
    assert workspace.weifang not in client.get("/submissions", params={"city": "潍坊市"}).text
    for path in (f"/submissions/{workspace.weifang}", f"/submissions/{workspace.weifang}/v1/file?name=x.docx",
                 f"/submissions/{workspace.weifang}/v1/preview?name=x.docx"):
        answer = client.get(path)
        assert answer.status_code == 404 and "潍坊市数据港" not in answer.text, path
    token = csrf_of(listing.text)
    answer = client.post(f"/submissions/{workspace.weifang}/correct", data={"field": "task_types", "value": "theory",
                                                                             "csrf_token": token})
    assert answer.status_code == 404
    # deciding a status is the province's: not even for its own city's submission
    own = client.post(f"/submissions/{recommended}/status", data={"status": "withdrawn", "csrf_token": token})
    assert own.status_code == 403 and 'action="/submissions/' + recommended + '/status"' not in \
        client.get(f"/submissions/{recommended}").text
    for path in ("/confirm", "/mail", "/digest", "/export/submissions.xlsx"):
        assert client.get(path).status_code == 403, path
    assert client.get(f"/submissions/{recommended}").status_code == 200


# --- CSRF on every POST -----------------------------------------------------------------------------
@pytest.mark.parametrize("token", [None, "wrong"])
def test_a_post_without_this_sessions_token_changes_nothing(workspace: Workspace, token: str | None) -> None:
    client = workspace.signed_in("alice")
    other = workspace.signed_in("jinan")  # another session's token is wrong here too
    before = _state(workspace)
    for path, data in POSTS:
        fields = {k: v.format(ref=workspace.jinan) for k, v in data.items()}
        if token == "wrong":
            fields["csrf_token"] = csrf_of(other.get("/submissions").text)
        assert client.post(path.format(ref=workspace.jinan), data=fields).status_code == 403, path
    assert _state(workspace) == before


# --- sessions ----------------------------------------------------------------------------------------
def test_logout_and_disable_end_sessions(workspace: Workspace, tmp_path) -> None:
    client = workspace.signed_in("alice")
    token = csrf_of(client.get("/submissions").text)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/submissions").status_code == 303
    client = workspace.signed_in("jinan")
    with Session(workspace.app.engine) as s:
        stored = s.exec(select(WebSession)).one()
        assert client.cookies.get("jb_session") not in (stored.token_hash, None)  # only its hash is kept
    config = write_config(tmp_path / "cli", db_url=str(workspace.app.settings.database_url))
    proc = jiebang("user", "disable", "jinan", config=config)
    assert proc.returncode == 0, proc.stderr.decode()
    assert client.get("/submissions").status_code == 303
    fresh = workspace.client()
    page = fresh.get("/login")
    assert fresh.post("/login", data={"username": "jinan", "password": PASSWORD,
                                      "csrf_token": csrf_of(page.text)}).status_code == 401


@pytest.mark.slow_on_postgresql  # seven CLI subprocesses; accounts on PostgreSQL: the tests above
def test_user_commands(tmp_path, db_url) -> None:
    config = write_config(tmp_path, db_url=db_url)
    strong = "泉城 spring water 2025\n".encode()
    added = jiebang("user", "add", "alice", "--role", "province", "--password-stdin", config=config, input=strong)
    assert added.returncode == 0, added.stderr.decode()
    city = jiebang("user", "add", "ji", "--role", "city", "--city", "济南市", "--password-stdin", config=config,
                   input=strong)
    assert city.returncode == 0, city.stderr.decode()
    assert jiebang("user", "add", "x", "--role", "city", "--password-stdin", config=config, input=strong).returncode == 2
    assert jiebang("user", "add", "alice", "--role", "viewer", "--password-stdin", config=config,
                   input=strong).returncode == 2
    listed = jiebang("user", "list", "--json", config=config)
    import json

    assert [(u["name"], u["role"], u["city"], u["active"]) for u in json.loads(listed.stdout)] == [
        ("alice", "province", None, True), ("ji", "city", "济南市", True)]
    assert jiebang("user", "disable", "ji", config=config).returncode == 0
    assert [u["active"] for u in json.loads(jiebang("user", "list", "--json", config=config).stdout)] == [True, False]


def test_every_answer_carries_the_security_headers(workspace: Workspace) -> None:
    client = workspace.signed_in("alice")
    for path in ("/login", "/submissions", f"/submissions/{workspace.jinan}", "/static/htmx.min.js"):
        headers = client.get(path).headers
        assert "default-src 'self'" in headers["content-security-policy"], path
        assert headers["x-frame-options"] == "SAMEORIGIN" and headers["x-content-type-options"] == "nosniff"
    assert "HttpOnly" in workspace.client().get("/login").headers["set-cookie"]
    assert client.get("/").headers["location"] == "/submissions"
    assert client.get("/static/htmx.min.js").text.startswith("/* htmx 2.0.11")


def test_login_helper_used_by_the_others(workspace: Workspace) -> None:
    client = workspace.client()
    login(client, "alice", PASSWORD)
    assert workspace.weifang in client.get("/submissions").text


def test_rate_limit_per_address_and_session_expiry(workspace: Workspace) -> None:
    from datetime import timedelta

    from tracker.records import accounts
    from tracker.store.tables import StaffUser

    with Session(workspace.app.engine) as s:
        for name in ("a1", "a2", "a3", "a4", "a5"):  # five names, one address
            with pytest.raises(accounts.LoginFailed):
                accounts.login(s, name, "x", "10.0.0.9")
        with pytest.raises(accounts.TooManyAttempts):
            accounts.login(s, "alice", PASSWORD, "10.0.0.9")
        assert accounts.login(s, "alice", PASSWORD, "10.0.0.10").name == "alice"  # another address may
        user = s.exec(select(StaffUser).where(StaffUser.name == "alice")).one()
        stale = accounts.open_session(s, user, lifetime=timedelta(seconds=-1))
        fresh = accounts.open_session(s, user)
        assert accounts.signed_in(s, stale) is None and accounts.signed_in(s, fresh) is not None
        assert accounts.signed_in(s, "guessed") is None
        accounts.prune(s)  # expired sessions go; the fresh one stays
        assert len(s.exec(select(WebSession)).all()) == 1


def test_cookies_are_secure_behind_tls(workspace: Workspace) -> None:
    client = TestClient(create_workspace(workspace.app), base_url="https://testserver", follow_redirects=False)
    page = client.get("/login")
    assert "Secure" in page.headers["set-cookie"]
    answer = client.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": csrf_of(page.text)})
    assert "jb_session=" in answer.headers["set-cookie"] and "Secure" in answer.headers["set-cookie"]
