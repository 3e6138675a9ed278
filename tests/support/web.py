"""Web workspace tests: a workspace with data: two submissions from two cities (one lacking its 任务类别), a
stranger's claim, and one account per role; clients signed in as each."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session
from starlette.testclient import TestClient

from support.records import T0, application_mail, city_package, deliver, form, make_app, submissions
from support.templates import cloned
from tracker.app import App
from tracker.config import load_settings
from tracker.records import accounts
from tracker.web.workspace import create_workspace

PASSWORD = "correct horse 电池"
JINAN_SENDER = "wangxm@quanhe.example.cn"
WEIFANG_SENDER = "liu@weifang-data.example.cn"
STRANGER = "grabber@stranger.example.net"
RECOMMENDED = "济南云泺信息技术有限公司"  # recommended by 济南's bureau (``add_recommended``)
USERS = {"alice": ("province", None), "vic": ("viewer", None), "jinan": ("city", "济南市"),
         "weifang": ("city", "潍坊市")}


@dataclass
class Workspace:
    app: App
    jinan: str  # reference of the 济南 submission (complete)
    weifang: str  # reference of the 潍坊 submission (TASK_TYPE_MISSING)

    def client(self) -> TestClient:
        return TestClient(create_workspace(self.app), follow_redirects=False)

    def signed_in(self, name: str) -> TestClient:
        client = self.client()
        login(client, name, PASSWORD)
        return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no csrf_token in the page"
    return found.group(1)


def login(client: TestClient, name: str, password: str) -> None:
    page = client.get("/login")
    answer = client.post("/login", data={"username": name, "password": password, "csrf_token": csrf_of(page.text)})
    assert answer.status_code == 303, answer.text


def add_users(app: App) -> None:
    with Session(app.engine) as session:
        for name, (role, city) in USERS.items():
            accounts.add_user(session, name, role, PASSWORD, city=city)
        session.commit()


def make_workspace(tmp_path, db_url) -> Workspace:
    """The workspace in ``tmp_path`` on ``db_url`` (an empty database): a copy of the one
    built once per backend and session (``support.templates``), the test's own."""
    jinan, weifang = cloned("workspace", tmp_path, db_url, _build_workspace)
    return Workspace(App(load_settings(tmp_path / "config.yaml")), jinan, weifang)


def _build_workspace(tmp_path, db_url) -> tuple[str, str]:
    app = make_app(tmp_path, db_url, processing={"workers": 0})
    deliver(app, application_mail(sender=JINAN_SENDER))
    deliver(app, application_mail(sender=WEIFANG_SENDER, unit="潍坊市数据港科技有限公司", code17="91370700MA3C4D5E6",
                                  nature="省属单位", city="潍坊市", direction=4, types=(), when=T0 + timedelta(hours=1)))
    by_unit = {s.unit: s.reference for s in submissions(app)}
    jinan, weifang = by_unit["山东省泉河数字经济研究院"], by_unit["潍坊市数据港科技有限公司"]
    # a stranger quotes the 济南 reference: held as a claim
    deliver(app, application_mail(sender=STRANGER, subject=f"Re: [{jinan}] 补充材料", when=T0 + timedelta(days=1),
                                  partners=("某某伪造科技有限公司",)))
    add_users(app)
    app.engine.dispose()  # PostgreSQL copies a template nobody is connected to
    return jinan, weifang


def add_recommended(ws: Workspace) -> str:
    """济南's bureau recommends one unit in a city package: the reference of the one
    submission a 济南 city account sees (the others came direct to the province)."""
    deliver(ws.app, city_package(rows=[(1, 6, RECOMMENDED, "隐私计算数据流通平台")], with_pdf=False, forms=[
        (f"申报书-{RECOMMENDED}.docx", form(unit=RECOMMENDED, code17="91370102MA3CY1L5N", nature="其他",
                                           city="济南市", direction=6))]))
    [ref] = [s.reference for s in submissions(ws.app) if s.unit == RECOMMENDED]
    return ref
