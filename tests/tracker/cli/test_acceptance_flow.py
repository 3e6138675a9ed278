"""The year after, through the SPEC section 7 contract: a selected unit asks for acceptance
by mail, is told what is missing against its form's promise, completes it; a stranger's
same mail changes nothing; staff record the result, choose the excellent results and
export them; a unit that has not asked is reminded once."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import docx
import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select
from support.helpers import jiebang
from support.records import T0, application_mail, deliver, make_app, outbox, submissions

from campaign import RoundPolicy
from examples.generate import mail
from intake.understand import understand
from tracker.store.tables import Claim

UNIT = "山东省泉河数字经济研究院"
CONTACT = "a@quanhe.example.cn"
OTHER = "山东海岱数智科技有限公司"


def _run(config: Path, *args: str, code: int = 0) -> str:
    done = jiebang(*args, config=config)
    assert done.returncode == code, (args, done.stdout.decode(), done.stderr.decode())
    return done.stdout.decode() + done.stderr.decode()


def _listed(config: Path) -> dict[str, dict]:
    return {r["reference"]: r for r in json.loads(_run(config, "list", "--json"))}


def _doc(*lines: str) -> bytes:
    d = docx.Document()
    for line in lines:
        d.add_paragraph(line)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _request(sender: str, subject: str, files: list[tuple[str, bytes]], n: int) -> bytes:
    return mail(sender=sender, name="项目负责人", subject=subject, when=T0 + timedelta(days=300 + n),
                mid=f"<accept{n}@example.cn>", body="省大数据局：我单位已完成揭榜任务，现申请验收，材料见附件。",
                attachments=files)


REPORT = ("数据要素收益分配机制研究报告.docx", _doc("数据要素收益分配机制研究报告", "一、研究背景"))
SCENE = ("公共数据授权运营应用场景说明.docx", _doc("应用场景说明", "场景一：…"))
PROOF = ("用户使用证明.docx", _doc("用户使用证明", "兹证明……"))


@pytest.fixture
def selected(tmp_path: Path, db_url: str):
    app = make_app(tmp_path, db_url, acceptance={"due": "2025-12-31"})
    deliver(app,
            application_mail(sender=CONTACT, unit=UNIT, direction=5, types=("理论研究", "应用实践"),
                             outcomes=("研究报告", "应用场景")),
            application_mail(sender="b@haidai.example.cn", unit=OTHER, code17="91370100MA3C5X8Y2",
                             direction=5, nature="民营企业", types=("技术创新",), outcomes=("创新成果",)))
    refs = {s.unit: s.reference for s in submissions(app)}
    config = tmp_path / "config.yaml"
    for ref in refs.values():
        _run(config, "review", "formal", ref, "pass")
        _run(config, "set-status", ref, "selected", "--note", "评审入选")
    return app, config, refs


def test_the_intent_is_read_from_the_request() -> None:
    raw = _request(CONTACT, "关于数据要素收益分配揭榜任务的验收申请", [REPORT, PROOF], 90)
    result = understand(raw, RoundPolicy())
    assert result.intent == "acceptance_request"
    assert {d.name: d.outcomes for d in result.documents} == {REPORT[0]: ["report"], PROOF[0]: ["evidence"]}


@pytest.mark.slow_on_postgresql  # a dozen CLI subprocesses; the records on PostgreSQL: below
def test_acceptance_from_request_to_excellent_results(selected, tmp_path: Path) -> None:
    app, config, refs = selected
    mine, other = refs[UNIT], refs[OTHER]

    # a unit that has not asked is reminded once, five working days before the round's end
    _run(config, "acceptance", "remind", "--today", "2025-12-20")
    assert not [m for m in outbox(app) if m.kind == "acceptance_reminder"]
    _run(config, "acceptance", "remind", "--today", "2025-12-25")
    _run(config, "acceptance", "remind", "--today", "2025-12-26")
    reminders = [m for m in outbox(app) if m.kind == "acceptance_reminder"]
    assert sorted(m.reference for m in reminders) == sorted([mine, other])
    assert "研究报告" in next(m for m in reminders if m.reference == mine).text_body

    # a stranger's request for our unit: a claim, nothing recorded
    deliver(app, _request("someone@elsewhere.example.cn", f"[{mine}] 验收申请", [REPORT, SCENE], 1))
    assert _listed(config)[mine]["acceptance"] is None
    with Session(app.engine) as s:
        assert [c.kind for c in s.exec(select(Claim)).all()] == ["acceptance"]
    assert not [m for m in outbox(app) if m.kind == "acceptance"]

    # the contact's request: recorded; the answer names the missing promised outcome
    deliver(app, _request(CONTACT, "揭榜任务验收申请", [REPORT, PROOF], 2))
    assert _listed(config)[mine]["acceptance"] == "requested"
    assert _listed(config)[mine]["status"] == "selected"  # never reopens the application
    answer = [m for m in outbox(app) if m.kind == "acceptance"][-1]
    assert answer.to_addrs == [CONTACT] and answer.reference == mine and answer.in_reply_to == "<accept2@example.cn>"
    assert "应用场景或实践案例" in answer.text_body and REPORT[0] in answer.text_body
    assert "研究报告" not in answer.text_body.split("尚缺少")[1]

    # complete: the answer says nothing is missing
    deliver(app, _request(CONTACT, f"Re: [{mine}] 验收申请已收到（材料待补充）", [REPORT, SCENE, PROOF], 3))
    answer = [m for m in outbox(app) if m.kind == "acceptance"][-1]
    assert "尚缺少" not in answer.text_body and "齐全" in answer.text_body

    # staff: rework needs a date; then passed; excellent results among the passed only
    assert "until" in _run(config, "acceptance", "decide", other, "rework", "--reason", "缺少软件著作权", code=2)
    _run(config, "acceptance", "decide", other, "rework", "--reason", "缺少软件著作权", "--until", "2026-03-31")
    assert "尚未通过验收" in _run(config, "excellent", "mark", other, code=2)
    _run(config, "acceptance", "decide", mine, "passed", "--reason", "成果齐全，专家组验收通过")
    _run(config, "excellent", "mark", mine, "--note", "机制可复制推广")
    listed = _listed(config)
    assert (listed[mine]["acceptance"], listed[mine]["excellent"]) == ("passed", True)
    assert (listed[other]["acceptance"], listed[other]["excellent"]) == ("rework", False)
    digest = _run(config, "digest")  # the staff's morning view: a section of its own
    assert "评审与验收" in digest and "验收通过：1" in digest and "限期整改：1" in digest
    _run(config, "excellent", "export", "--to-file", str(tmp_path / "优秀成果.xlsx"))
    rows = list(load_workbook(tmp_path / "优秀成果.xlsx").active.iter_rows(values_only=True))
    assert [r[2] for r in rows[1:]] == [UNIT] and rows[1][5] == mine
    assert UNIT in "\n".join(c.text for c in docx.Document(str(tmp_path / "优秀成果.docx")).tables[0].rows[1].cells)
