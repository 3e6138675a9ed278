"""Issue #23, item 7: two-factor sign-in — a 6-digit code (or a recovery code) on a second
page after the password, no session before it, no code twice; and, with
``web.require_2fa_for_province``, no province account without it. Also: review experts
reach none of the staff's pages."""

from __future__ import annotations

import json
import re

import pyotp
import pytest
from sqlmodel import Session, select
from starlette.testclient import TestClient
from support.helpers import jiebang, write_config
from support.web import PASSWORD, Workspace, csrf_of

from tracker.records import accounts, twofactor
from tracker.store.tables import StaffTwoFactor, WebSession


def _enrol(ws: Workspace, name: str) -> twofactor.Enrolment:
    with Session(ws.app.engine) as s:
        user = accounts.find_user(s, name)
        assert user is not None
        enrolment = twofactor.enrol(s, user)
        s.commit()
    return enrolment


def _password(client: TestClient, name: str, target: str = "/submissions"):  # type: ignore[no-untyped-def]
    page = client.get("/login")
    return client.post("/login", data={"username": name, "password": PASSWORD, "next": target,
                                       "csrf_token": csrf_of(page.text)})


def _code(client: TestClient, code: str, path: str = "/login/code"):  # type: ignore[no-untyped-def]
    page = client.get(path)
    assert page.status_code == 200, page.text
    target = re.search(r'name="next" value="([^"]*)"', page.text)
    assert target, "the code page carries the page asked for"
    return client.post("/login/code", data={"code": code, "next": target.group(1), "csrf_token": csrf_of(page.text)})


def _sessions(ws: Workspace) -> int:
    with Session(ws.app.engine) as s:
        return len(s.exec(select(WebSession)).all())


def test_an_enrolled_account_gives_its_code_on_a_second_page_before_any_page_opens(workspace) -> None:
    enrolment = _enrol(workspace, "alice")
    client = workspace.client()
    answer = _password(client, "alice", target="/mail")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login/code")
    assert "jb_session" not in client.cookies and _sessions(workspace) == 0  # half signed in: no session
    assert client.get("/submissions").status_code == 303  # … and no page
    assert client.get("/mail").headers["location"].startswith("/login")
    code_page = client.get("/login/code")
    assert "验证码" in code_page.text and "password" not in code_page.text  # the code alone, not with the password
    # a wrong code: asked again, in Chinese
    wrong = _code(client, "000000" if pyotp.TOTP(enrolment.secret).now() != "000000" else "111111",
                  answer.headers["location"])
    assert wrong.status_code == 401 and "验证码错误" in wrong.text
    assert 'name="next" value="/mail"' in wrong.text  # asked again, still on the way to /mail
    signed = _code(client, pyotp.TOTP(enrolment.secret).now(), answer.headers["location"])
    assert signed.status_code == 303 and signed.headers["location"] == "/mail"  # where the clerk was going
    assert client.get("/mail").status_code == 200


def test_a_code_works_once_and_a_recovery_code_once(workspace) -> None:
    enrolment = _enrol(workspace, "alice")
    code = pyotp.TOTP(enrolment.secret).now()
    first = workspace.client()
    _password(first, "alice")
    assert _code(first, code).status_code == 303
    replay = workspace.client()  # the same code seen over a shoulder, within its 30 seconds
    _password(replay, "alice")
    refused = _code(replay, code)
    assert refused.status_code == 401 and "已使用过" in refused.text
    assert "jb_session" not in replay.cookies
    # a recovery code, typed with capitals and spaces, opens a session once
    recovery = enrolment.recovery_codes[0]
    assert _code(replay, " " + recovery.upper().replace("-", " - ") + " ").status_code == 303
    again = workspace.client()
    _password(again, "alice")
    assert _code(again, recovery).status_code == 401
    with Session(workspace.app.engine) as s:
        assert twofactor.recovery_left(s, accounts.find_user(s, "alice").id) == 9  # type: ignore[union-attr]
        assert s.get(StaffTwoFactor, accounts.find_user(s, "alice").id).secret == enrolment.secret  # type: ignore[union-attr]


def test_five_wrong_codes_end_the_step_and_the_password_is_asked_again(workspace) -> None:
    enrolment = _enrol(workspace, "alice")
    client = workspace.client()
    _password(client, "alice")
    right = pyotp.TOTP(enrolment.secret).now()
    wrong = "123456" if right != "123456" else "654321"
    for _ in range(twofactor.MAX_CODE_FAILURES - 1):
        assert _code(client, wrong).status_code == 401
    page = client.get("/login/code")
    last = client.post("/login/code", data={"code": wrong, "csrf_token": csrf_of(page.text)})
    assert last.status_code == 401 and "请重新输入用户名和密码" in last.text
    gone = client.get("/login/code")
    assert "请重新输入用户名和密码" in gone.text and 'name="password"' in gone.text
    late = client.post("/login/code", data={"code": right, "csrf_token": csrf_of(gone.text)})
    assert "jb_session" not in client.cookies and late.status_code in (401, 429)  # wrong codes count per address too
    assert client.get("/login/code").status_code == 401  # no challenge cookie: the login form again


def test_required_for_province_accounts_when_configured(workspace) -> None:
    workspace.app.settings.web.require_2fa_for_province = True
    client = workspace.client()
    refused = _password(client, "alice")
    assert refused.status_code == 403 and "须启用两步验证" in refused.text and "jb_session" not in client.cookies
    viewer = workspace.client()
    assert _password(viewer, "vic").status_code == 303  # only province accounts must
    enrolment = _enrol(workspace, "alice")
    _password(client, "alice")
    assert _code(client, pyotp.TOTP(enrolment.secret).now()).status_code == 303


def test_the_shipped_configuration_does_not_require_it(workspace) -> None:
    assert workspace.app.settings.web.require_2fa_for_province is False
    assert _password(workspace.client(), "alice").headers["location"] == "/submissions"


def test_a_user_enrols_on_the_account_page_and_sees_the_secret_once(workspace) -> None:
    client = workspace.signed_in("vic")  # a read-only account may protect its own sign-in
    page = client.get("/account")
    assert "未启用" in page.text
    shown = client.post("/account/2fa", data={"csrf_token": csrf_of(page.text)})
    assert shown.status_code == 200
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', shown.text)
    assert secret and "otpauth://totp/" in shown.text
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", shown.text)
    assert len(codes) == 10
    later = client.get("/account")
    assert secret.group(1) not in later.text and codes[0] not in later.text and "剩余未使用的恢复码 10 个" in later.text
    again = client.post("/account/2fa", data={"csrf_token": csrf_of(later.text)})
    assert again.status_code == 303  # replacing it is the administrator's (a stolen session cannot)
    assert "联系系统管理员" in client.get("/account").text
    fresh = workspace.client()
    _password(fresh, "vic")
    assert _code(fresh, pyotp.TOTP(secret.group(1)).now()).status_code == 303


@pytest.mark.slow_on_postgresql  # CLI subprocesses
def test_user_2fa_command_prints_the_secret_and_codes_once_and_off_ends_it(workspace, tmp_path) -> None:
    config = write_config(tmp_path / "cli", db_url=str(workspace.app.settings.database_url))
    proc = jiebang("user", "2fa", "Alice ", config=config)
    assert proc.returncode == 0, proc.stderr.decode()
    printed = proc.stdout.decode()
    secret = re.search(r"secret \(.*\): ([A-Z2-7]+)", printed)
    assert secret and "otpauth://totp/" in printed and len(re.findall(r"^  [a-z0-9]{5}-[a-z0-9]{5}$", printed, re.M)) == 10
    client = workspace.client()
    _password(client, "alice")
    assert _code(client, pyotp.TOTP(secret.group(1)).now()).status_code == 303
    assert jiebang("user", "2fa", "nobody", config=config).returncode == 2
    listed = {u["name"]: u["two_factor"] for u in json.loads(jiebang("user", "list", "--json", config=config).stdout)}
    assert listed["alice"] is True and listed["vic"] is False
    assert jiebang("user", "2fa", "alice", "--off", config=config).returncode == 0
    assert _password(workspace.client(), "alice").headers["location"] == "/submissions"


# --- review experts: none of the staff's pages ---------------------------------------------------
def _add_expert(ws: Workspace) -> None:
    with Session(ws.app.engine) as s:
        accounts.add_user(s, "zhuanjia", "expert", PASSWORD)
        s.commit()


def test_an_expert_account_is_refused_every_staff_page(workspace) -> None:
    _add_expert(workspace)
    client = workspace.signed_in("zhuanjia")
    for path in ("/", "/submissions", f"/submissions/{workspace.jinan}", "/mail", "/confirm", "/city", "/digest",
                 "/account"):
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert "评审专家账号不能访问此页面" in answer.text, path
        assert workspace.jinan not in answer.text  # nothing of a submission, not even its reference's row
    token = csrf_of(client.get("/mail").text)
    assert client.post(f"/submissions/{workspace.jinan}/note", data={"csrf_token": token}).status_code in (403, 404, 405)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303  # but may sign out
    assert client.get("/submissions").status_code == 303


def test_every_route_that_does_not_name_experts_refuses_them(workspace) -> None:
    from starlette.routing import Mount

    from tracker.web import guard
    from tracker.web.workspace import create_workspace

    _add_expert(workspace)
    client = workspace.signed_in("zhuanjia")
    token = csrf_of(client.get("/mail").text)
    values = {"reference": workspace.jinan, "fmt": "csv", "action": "confirm", "version": "1"}
    checked = 0
    for route in create_workspace(workspace.app).routes:
        if isinstance(route, Mount) or not isinstance(route, guard.Guarded) or route.allow == guard.ANONYMOUS:
            continue
        if guard.EXPERT in route.allow:
            continue
        path = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values.get(m.group(1), "1"), route.path)
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            answer = client.request(method, path, data={"csrf_token": token} if method == "POST" else None)
            assert answer.status_code == 403, (method, route.path, answer.status_code)
            checked += 1
    assert checked > 30
