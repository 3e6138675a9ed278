"""After intake, through the SPEC section 6 contract, as the bureau's staff would run it:
credit checks and formal review, experts and their conflicts, a paper meeting's sheet,
the ranking, decisions, the published list and the result notices."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from support.helpers import jiebang
from support.records import T0, application_mail, deliver, make_app, outbox, submissions

from campaign.review import ReviewRules, final_of
from examples.generate import mail

PASSWORD = b"panel review 2025 spring\n"
LEAD_A, PARTNER_A = "山东省泉河数字经济研究院", "济南联合数据科技有限公司"
UNIT_B, UNIT_C, BAD_PARTNER = "潍坊市数据港科技有限公司", "淄博智算信息技术有限公司", "某某失信工程有限公司"


def _run(config: Path, *args: str, code: int = 0, stdin: bytes | None = None) -> str:
    done = jiebang(*args, config=config, input=stdin)
    assert done.returncode == code, (args, done.stdout.decode(), done.stderr.decode())
    return done.stdout.decode() + done.stderr.decode()


def _json(config: Path, *args: str) -> list[dict]:
    return json.loads(_run(config, *args, "--json"))


@pytest.fixture
def round_(tmp_path: Path, db_url: str):
    app = make_app(tmp_path, db_url)
    deliver(app,
            application_mail(sender="a@quanhe.example.cn", unit=LEAD_A, code17="12370000MA3QH7K2X",
                             direction=2, partners=(PARTNER_A,)),
            application_mail(sender="b@shujugang.example.cn", unit=UNIT_B, code17="91370700MA3C4D5E6",
                             city="潍坊市", nature="民营企业", direction=2, when=T0),
            application_mail(sender="c@zhisuan.example.cn", unit=UNIT_C, code17="91370300MA3D7E8F9",
                             city="淄博市", nature="民营企业", direction=2, partners=(BAD_PARTNER,)))
    refs = {s.unit: s.reference for s in submissions(app)}
    assert set(refs) == {LEAD_A, UNIT_B, UNIT_C}, refs
    return app, tmp_path / "config.yaml", refs


def _expert(config: Path, name: str, unit: str) -> None:
    _run(config, "user", "add", name, "--role", "expert", "--email", f"{name}@experts.example.cn",
         "--unit", unit, "--password-stdin", stdin=PASSWORD)


@pytest.mark.slow_on_postgresql  # a score of CLI subprocesses; the records on PostgreSQL: below
def test_review_from_credit_check_to_result_notices(round_, tmp_path: Path) -> None:
    app, config, refs = round_
    a, b, c = refs[LEAD_A], refs[UNIT_B], refs[UNIT_C]

    # credit: a partner recorded dishonest fails its application at once (no mail yet)
    before = len(outbox(app))
    evidence = tmp_path / "信用中国查询.pdf"
    evidence.write_bytes(b"%PDF-1.4 screenshot of the query")
    _run(config, "credit", "record", BAD_PARTNER, "--result", "dishonest", "--source", "信用中国",
         "--evidence", str(evidence))
    listed = {r["reference"]: r for r in _json(config, "list")}
    assert listed[c]["formal"] == "fail" and listed[c]["status"] == "formal_failed"
    assert len(outbox(app)) == before
    # formal review: fail needs a reason; a pass puts it under review
    assert "原因" in _run(config, "review", "formal", b, "fail", code=2)
    _run(config, "review", "formal", a, "pass")
    _run(config, "review", "formal", b, "pass")
    listed = {r["reference"]: r for r in _json(config, "list")}
    assert (listed[a]["formal"], listed[a]["status"]) == ("pass", "under_review")
    assert listed[b]["formal"] == "pass"
    assert "失信" in _run(config, "review", "formal", c, "pass", code=2)  # the partner is still dishonest

    # experts: one from A's lead unit, one from A's partner, three independent
    _expert(config, "zhang", LEAD_A)
    _expert(config, "li", PARTNER_A)
    for name, unit in (("wang", "山东大学"), ("zhao", "中国海洋大学"), ("sun", "山东财经大学")):
        _expert(config, name, unit)
    found = {(x["expert"], x["reference"]): x["reason"] for x in _json(config, "review", "conflicts")}
    assert found[("zhang", a)] == "lead_unit" and found[("li", a)] == "partner_unit"
    assert ("wang", a) not in found and ("zhang", b) not in found
    _run(config, "panel", "add", "第一组", "--directions", "2", "--experts", "zhang,li,wang,zhao,sun")
    _run(config, "review", "invite", "--panel", "第一组")
    _run(config, "review", "invite", "--panel", "第一组")  # once per expert and panel
    invites = [m for m in outbox(app) if m.kind == "expert_invite"]
    assert sorted(m.to_addrs[0] for m in invites) == sorted(f"{n}@experts.example.cn"
                                                            for n in ("zhang", "li", "wang", "zhao", "sun"))
    assert all("/login" in m.text_body and not any(u in m.text_body for u in (LEAD_A, UNIT_B, UNIT_C))
               for m in invites)  # a sign-in link, never an application's data

    # the blank sheet: one row per (application, expert), conflicts and failed ones left out
    sheet = tmp_path / "sheet.xlsx"
    _run(config, "review", "sheet", "--panel", "第一组", "--to-file", str(sheet))
    wb = load_workbook(sheet)
    ws = wb.active
    header = [cell.value for cell in ws[1]]
    criteria = [cr.name for cr in ReviewRules().criteria]
    assert header[:3] == ["受理编号", "揭榜单位", "专家"] and header[3:3 + len(criteria)] == criteria
    pairs = {(row[0].value, row[2].value) for row in ws.iter_rows(min_row=2)}
    assert pairs == {(a, "wang"), (a, "zhao"), (a, "sun"),
                     (b, "zhang"), (b, "li"), (b, "wang"), (b, "zhao"), (b, "sun")}

    marks = {("wang", a): (25, 26, 18, 17), ("zhao", a): (20, 22, 15, 15), ("sun", a): (28, 27, 19, 18),
             ("zhang", b): (29, 29, 19, 19), ("li", b): (10, 10, 8, 8), ("wang", b): (24, 25, 16, 17),
             ("zhao", b): (22, 24, 16, 16), ("sun", b): (26, 26, 17, 18)}
    for row in ws.iter_rows(min_row=2):
        for cell, value in zip(row[3:3 + len(criteria)], marks[(row[2].value, row[0].value)], strict=True):
            cell.value = value
    # one bad row (above the maximum) and a conflicted pair written in by hand: nothing imported
    bad = tmp_path / "bad.xlsx"
    ws.cell(row=2, column=4, value=31)
    ws.append([a, LEAD_A, "zhang", 20, 20, 15, 15])
    wb.save(bad)
    said = _run(config, "review", "import", str(bad), code=2)
    assert "第 2 行" in said and f"第 {ws.max_row} 行" in said and "回避" in said
    assert all(r["scores"] == 0 for r in _json(config, "review", "ranking"))
    # the corrected sheet imports
    ws.cell(row=2, column=4, value=marks[(ws.cell(row=2, column=3).value, ws.cell(row=2, column=1).value)][0])
    ws.delete_rows(ws.max_row)
    wb.save(sheet)
    _run(config, "review", "import", str(sheet))

    ranking = {r["reference"]: r for r in _json(config, "review", "ranking", "--direction", "2")}
    assert set(ranking) == {a, b}  # the formally failed one is not ranked
    for ref in (a, b):
        totals = [sum(v) for (_, r), v in marks.items() if r == ref]
        expected = final_of(totals, ReviewRules())
        assert ranking[ref]["scores"] == len(totals)
        assert ranking[ref]["final"] == expected.final and ranking[ref]["spread"] == expected.spread
        assert ranking[ref]["flag"] == (max(totals) - min(totals) > 20)
    assert ranking[b]["scores"] == 5 and ranking[b]["flag"]  # 96 vs 36: the experts disagree
    first = max((a, b), key=lambda r: ranking[r]["final"])
    assert ranking[first]["rank"] == 1 and {ranking[a]["rank"], ranking[b]["rank"]} == {1, 2}

    # decisions need a reason
    assert "note" in _run(config, "set-status", b, "selected", code=2)
    _run(config, "set-status", b, "selected", "--note", "评审排名第一")
    _run(config, "set-status", a, "not_selected", "--note", "名额所限")

    # the published list: exactly the selected units with their directions
    _run(config, "publish", "--to-file", str(tmp_path / "公示名单"), "--date", "2025-09-26")
    doc = Document(str(tmp_path / "公示名单.docx"))
    cells = [[c.text for c in row.cells] for row in doc.tables[0].rows]
    assert cells[0] == ["序号", "榜单方向", "揭榜单位", "联合单位", "揭榜任务名称"]
    assert [row[1:3] for row in cells[1:]] == [["数据治理", UNIT_B]]
    assert "2025年10月9日" in "\n".join(p.text for p in doc.paragraphs)  # 5 working days, National Day skipped
    rows = list(load_workbook(tmp_path / "公示名单.xlsx").active.iter_rows(values_only=True))
    assert rows[0] == ("序号", "榜单方向", "揭榜单位", "联合单位", "揭榜任务名称")
    assert [r[1:3] for r in rows[1:]] == [("数据治理", UNIT_B)]

    # result notices: released by staff, each applicant once, however often released
    _run(config, "publish", "--release")
    _run(config, "publish", "--release")
    results = [m for m in outbox(app) if m.kind == "result"]
    assert sorted(m.to_addrs[0] for m in results) == ["a@quanhe.example.cn", "b@shujugang.example.cn",
                                                      "c@zhisuan.example.cn"]
    by_ref = {m.reference: m for m in results}
    assert "已入选" in by_ref[b].text_body and "2025年10月9日" in by_ref[b].text_body
    assert "未入选" in by_ref[a].text_body
    assert "失信" in by_ref[c].text_body and BAD_PARTNER in by_ref[c].text_body
    assert all(m.in_reply_to for m in results)  # threaded in the applicant's conversation
    for m in results:  # each its own result: no other applicant's unit
        others = {LEAD_A, UNIT_B, UNIT_C} - {next(u for u, r in refs.items() if r == m.reference)}
        assert not any(o in m.text_body for o in others)


def test_an_objection_during_the_notice_period_is_a_staff_item_on_that_application(round_, tmp_path: Path) -> None:
    app, config, refs = round_
    b = refs[UNIT_B]
    _run(config, "review", "formal", b, "pass")
    _run(config, "set-status", b, "selected", "--note", "评审入选")
    _run(config, "publish", "--to-file", str(tmp_path / "公示名单"))  # today: the 公示期 is open
    before = {m.id for m in outbox(app)}
    deliver(app, mail(sender="tipster@example.net", name="某群众", subject="对揭榜单位公示名单的异议",
                      body=f"省大数据局：公示名单中的{UNIT_B}申报材料存在弄虚作假情况，特此反映。",
                      when=T0, mid="<objection1@example.net>"))
    rows = _json(config, "review", "objections")
    assert [(r["reference"], r["from"], r["state"]) for r in rows] == [(b, "tipster@example.net", "open")]
    new = [m for m in outbox(app) if m.id not in before]
    assert [m.kind for m in new] == ["receipt"] and new[0].to_addrs == ["tipster@example.net"]
    assert UNIT_B not in new[0].text_body  # the objector learns nothing of the record
    assert {r["reference"]: r for r in _json(config, "list")}[b]["status"] == "selected"
    _run(config, "review", "objection", str(rows[0]["id"]), code=2)  # handling needs a note
    _run(config, "review", "objection", str(rows[0]["id"]), "--note", "经核查，材料属实，异议不成立")
    assert _json(config, "review", "objections")[0]["state"] == "handled"
