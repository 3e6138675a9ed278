"""SPEC section 6 on the public samples, as the bureau would run it after intake: a
dishonest partner fails its application, experts from a lead and from a partner unit are
conflicts and their scores refused, one bad row imports nothing, finals follow the
trimmed mean, the 公示名单 lists exactly the selected ones, and results go out once."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml
from docx import Document
from openpyxl import load_workbook
from support.helpers import SHARED, jiebang
from support.records import deliver, make_app, outbox, submissions

from campaign.review import ReviewRules, final_of

SAMPLES = SHARED / "samples"
pytestmark = pytest.mark.skipif(not SAMPLES.exists(), reason="../shared/samples not beside the checkout")
PASSWORD = b"expert review 2025 autumn\n"


def _run(config: Path, *args: str, code: int = 0, stdin: bytes | None = None) -> str:
    done = jiebang(*args, config=config, input=stdin)
    assert done.returncode == code, (args, done.stdout.decode(), done.stderr.decode())
    return done.stdout.decode() + done.stderr.decode()


@pytest.mark.slow
def test_review_of_the_sample_round(tmp_path: Path, db_url: str) -> None:
    cities = yaml.safe_load((SAMPLES / "config.yaml").read_text(encoding="utf-8"))["cities"]
    app = make_app(tmp_path, db_url, cities=cities)
    deliver(app, *[p.read_bytes() for p in sorted((SAMPLES / "mails").glob("*.eml"))])
    config = tmp_path / "config.yaml"
    refs = {s.unit: s.reference for s in submissions(app)}
    shunguang, jirong = refs["山东省舜光数字经济研究院"], refs["中国稷榕科技集团有限公司山东分公司"]
    yitu, wenmo = refs["山东沂图信息产业股份有限公司"], refs["济南汶墨数据集团有限公司"]

    _run(config, "credit", "record", "齐鲁清图大学", "--result", "dishonest", "--source", "信用山东")
    listed = {r["reference"]: r for r in json.loads(_run(config, "list", "--json"))}
    assert (listed[jirong]["formal"], listed[jirong]["status"]) == ("fail", "formal_failed")
    for ref in (shunguang, yitu, wenmo):
        _run(config, "review", "formal", ref, "pass")

    experts = {"lead": "山东省舜光数字经济研究院", "partner": "山东睿泊信息产业股份有限公司",
               "e3": "山东大学", "e4": "中国石油大学（华东）", "e5": "山东师范大学"}
    for name, unit in experts.items():
        _run(config, "user", "add", name, "--role", "expert", "--email", f"{name}@experts.example.cn",
             "--unit", unit, "--password-stdin", stdin=PASSWORD)
    conflicts = {(c["expert"], c["reference"]): c["reason"]
                 for c in json.loads(_run(config, "review", "conflicts", "--json"))}
    assert conflicts[("lead", shunguang)] == "lead_unit" and conflicts[("partner", wenmo)] == "partner_unit"
    _run(config, "panel", "add", "综合组", "--directions", "2,4", "--experts", ",".join(experts))

    sheet = tmp_path / "sheet.xlsx"
    _run(config, "review", "sheet", "--panel", "综合组", "--to-file", str(sheet))
    wb = load_workbook(sheet)
    ws = wb.active
    pairs = [(r[0].value, r[2].value) for r in ws.iter_rows(min_row=2)]
    assert ("lead", shunguang) not in [(e, r) for r, e in pairs] and ("partner", wenmo) not in [(e, r) for r, e in pairs]
    marks: dict[tuple[str, str], float] = {}
    for i, row in enumerate(ws.iter_rows(min_row=2)):
        values = (20 + i % 7, 21 + i % 5, 12 + i % 6, 13 + i % 4)
        for cell, value in zip(row[3:7], values, strict=True):
            cell.value = value
        marks[(row[0].value, row[2].value)] = sum(values)
    wb.save(sheet)
    bad = tmp_path / "bad.xlsx"
    ws.append([wenmo, "济南汶墨数据集团有限公司", "partner", 20, 20, 15, 15])  # a conflicted expert's row
    wb.save(bad)
    assert "回避" in _run(config, "review", "import", str(bad), code=2)
    assert all(r["scores"] == 0 for r in json.loads(_run(config, "review", "ranking", "--json")))
    _run(config, "review", "import", str(sheet))
    ranking = {r["reference"]: r for r in json.loads(_run(config, "review", "ranking", "--json"))}
    for ref in (shunguang, yitu, wenmo):
        totals = [t for (r, _), t in marks.items() if r == ref]
        assert ranking[ref]["final"] == final_of(totals, ReviewRules()).final
    assert len({ranking[r]["direction"] for r in (yitu, wenmo)}) == 1  # one direction, ranked 1 and 2 (or tied)
    assert sorted(ranking[r]["rank"] for r in (yitu, wenmo)) in ([1, 2], [1, 1])

    _run(config, "set-status", yitu, "selected", code=2)
    _run(config, "set-status", yitu, "selected", "--note", "排名第一")
    _run(config, "set-status", shunguang, "selected", "--note", "排名第一")
    _run(config, "set-status", wenmo, "not_selected", "--note", "名额所限")
    _run(config, "publish", "--to-file", str(tmp_path / "公示名单"))
    table = Document(str(tmp_path / "公示名单.docx")).tables[0]
    assert sorted((row.cells[1].text, row.cells[2].text) for row in table.rows[1:]) == sorted(
        [("数据治理", "山东省舜光数字经济研究院"), ("数据流通交易", "山东沂图信息产业股份有限公司")])
    rows = list(load_workbook(tmp_path / "公示名单.xlsx").active.iter_rows(min_row=2, values_only=True))
    assert sorted(r[2] for r in rows) == ["山东沂图信息产业股份有限公司", "山东省舜光数字经济研究院"]

    _run(config, "publish", "--release")
    _run(config, "publish", "--release")
    results = Counter(tuple(m.to_addrs) for m in outbox(app) if m.kind == "result")
    assert results and set(results.values()) == {1}
    assert results[("jinan-dsj@dsj.jinan.example",)] == 1 and results[("qingdao-dsj@dsj.qingdao.example",
                                                                         "sjfzc@dsj.qingdao.example")] == 1
    # every applicant with an address of its own on file (a bureau that sent the form gets its list)
    bureaus = {a for c in cities.values() for a in c["bureau_emails"]}
    own = [s for s in submissions(app) if set(s.contacts) - bureaus]
    assert sum(n for to, n in results.items() if not set(to) & bureaus) == len(own) > 0
