"""City role end to end: applications in, ranked recommendations (≤ 2 per direction), the
推荐汇总表 out — and what the city forwards reads back correctly at the province."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import docx
import openpyxl
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select
from support.formfactory import FormSpec, make_docx, make_eml, make_uscc, to_pdf  # noqa: E402
from support.helpers import CST, SHARED, jiebang, write_config
from support.templates import cloned

from campaign import Catalogue, CityBureau, RoundPolicy
from intake.understand import understand
from tracker.app import App
from tracker.config import load_settings
from tracker.pipeline.ingest import store_raw
from tracker.records.city import (
    CityRecommendation,
    QuotaExceeded,
    RecommendError,
    ranked,
    recommend,
    remove,
)
from tracker.records.queries import find_submission
from tracker.reports.digest import direction_label, gather
from tracker.reports.workbook import TABLE_COLUMNS, table_title
from tracker.service import Service
from tracker.store.tables import Submission

CITY = "济南市"
BUREAU = "jinan-dsj@dsj.jinan.example"
SPECS = [  # A, B, C in direction 6 (one too many), D in direction 2, E late
    FormSpec(unit="济南甲数据科技有限公司", uscc=make_uscc("370102", body="MA3C4D5E1"), nature="其他", direction=6,
             task_name="隐私计算数据流通平台", task_types=["technology"], outcomes=["创新成果"], email="a@jia.example.cn"),
    FormSpec(unit="济南乙信息技术有限公司", uscc=make_uscc("370103", body="MA3C4D5E2"), nature="其他", direction=6,
             task_name="可信数据空间关键技术", task_types=["theory", "technology"], outcomes=["研究报告", "创新成果"],
             partners=["北京丙大学"], email="b@yi.example.cn"),
    FormSpec(unit="济南丙网络有限公司", uscc=make_uscc("370104", body="MA3C4D5E3"), nature="其他", direction=6,
             task_name="数联网节点建设", task_types=["application"], outcomes=["应用场景"], email="c@bing.example.cn"),
    FormSpec(unit="济南丁数据集团有限公司", uscc=make_uscc("370105", body="MA3C4D5E4"), nature="其他", direction=2,
             task_name="企业数据合规管理工具", task_types=["technology"], outcomes=["创新成果"], email="d@ding.example.cn"),
    FormSpec(unit="济南戊科技有限公司", uscc=make_uscc("370112", body="MA3C4D5E5"), nature="其他", direction=8,
             task_name="数据分类分级管理平台", task_types=["application"], outcomes=["实践案例"], email="e@wu.example.cn"),
]
PHONES = ["0531-88880001", "0531-88880002", "0531-88880003", "0531-88880004", "0531-88880005"]


def with_phone(data: bytes, phone: str) -> bytes:
    """The form's basic-facts table gains a 联系电话 row, as the real form has."""
    document = docx.Document(io.BytesIO(data))
    table = next(t for t in document.tables if any(r.cells[0].text == "联系人" for r in t.rows))
    cells = table.add_row().cells
    cells[0].text, cells[1].text = "联系电话", phone
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@dataclass
class CitySeed:
    app: App
    config: Path
    refs: dict[str, str]  # unit → reference
    files: dict[str, tuple[bytes, bytes]]  # unit → (docx, pdf)


def seed_city(tmp_path: Path, db_url: str) -> CitySeed:
    """The city's database in ``tmp_path`` on ``db_url``: a copy of the one built once per
    backend and session (``support.templates``), the test's own."""
    refs, files = cloned("city", tmp_path, db_url, _seed_city)
    return CitySeed(App(load_settings(tmp_path / "config.yaml")), tmp_path / "config.yaml",
                    dict(refs), dict(files))  # the test's own dicts (of immutable bytes)


def _seed_city(tmp_path: Path, db_url: str) -> tuple[dict[str, str], dict[str, tuple[bytes, bytes]]]:
    config = write_config(tmp_path, db_url=db_url, role="city", city=CITY,
                          mailbox={"address": BUREAU}, smtp={"from": BUREAU},
                          cities={CITY: {"bureau_emails": [BUREAU], "contact": "孟晓林", "phone": "0531-94710893"}},
                          staff={"digest_to": ["staff@dsj.jinan.example"]})
    app = App(load_settings(config))
    app.migrate()
    words = [with_phone(make_docx(s), p) for s, p in zip(SPECS, PHONES, strict=True)]
    pdfs = to_pdf(words)
    assert pdfs is not None, "LibreOffice is needed for the sealed PDF versions"
    for i, (spec, word, pdf) in enumerate(zip(SPECS, words, pdfs, strict=True)):
        when = datetime(2025, 1, 16, 9, 0, tzinfo=CST) if i == 4 else datetime(2025, 1, 8 + i, 10, 0, tzinfo=CST)
        store_raw(app.engine, app.blobs, make_eml(
            sender=spec.email, subject=f"揭榜挂帅申报书-{spec.unit}", received=when,
            attachments=[(f"申报书-{spec.unit}.docx", word), (f"申报书-{spec.unit}（盖章）.pdf", pdf)]))
    Service(app).cycle()
    with Session(app.engine) as s:
        refs = {sub.unit: sub.reference for sub in s.exec(select(Submission)).all()}
    app.engine.dispose()  # PostgreSQL copies a template nobody is connected to
    return refs, {s.unit: (w, p) for s, w, p in zip(SPECS, words, pdfs, strict=True)}


def _run(seed: CitySeed, *args: str, code: int = 0) -> tuple[str, str]:
    proc = jiebang(*args, config=seed.config)
    assert proc.returncode == code, (args, proc.stdout.decode(), proc.stderr.decode())
    return proc.stdout.decode(), proc.stderr.decode()


def _template(name: str) -> Path:
    path = SHARED / "samples" / "forms" / name
    if not path.exists():
        pytest.skip("shared sample forms not present")
    return path


@pytest.mark.slow_on_postgresql  # a dozen CLI subprocesses; the ranking rules on PostgreSQL: below
def test_city_flow_end_to_end(tmp_path: Path, db_url: str) -> None:
    seed = seed_city(tmp_path / "city", db_url)
    a, b, c, d, e = (seed.refs[s.unit] for s in SPECS)
    listed = json.loads(_run(seed, "list", "--json")[0])
    assert len(listed) == 5 and {x["channel"] for x in listed} == {"direct"}
    assert [x["reference"] for x in listed if x["late"]] == [e]

    _run(seed, "recommend", a, "--rank", "2")
    moved, _ = _run(seed, "recommend", b, "--rank", "2")
    assert f"{a} {direction_label(6)} 第1位" in moved  # the one already at 2 takes the free rank
    _, refused = _run(seed, "recommend", c, "--rank", "1", code=2)
    line = refused.strip()
    assert "\n" not in line and "最多推荐2项" in line and "At most 2 recommendations per direction" in line
    assert a in line and b in line
    _run(seed, "recommend", d, "--rank", "1")
    _run(seed, "recommend", a, "--rank", "2")  # swap within the direction
    with Session(seed.app.engine) as s:
        order = [(r.direction, r.rank, sub.reference) for r, sub in ranked(s, seed.app.policy)]
    assert order == [(2, 1, d), (6, 1, b), (6, 2, a)]

    out_dir = tmp_path / "forward"
    printed, _ = _run(seed, "export", "--recommendation-table", "--output", str(out_dir), "--date", "2025-01-16")
    assert "3 recommendation(s)" in printed
    expected = [SPECS[3], SPECS[1], SPECS[0]]  # by direction, then rank
    _check_docx(out_dir / f"{CITY}推荐汇总表.docx", expected)
    _check_xlsx(out_dir / f"{CITY}推荐汇总表.xlsx", expected)
    for seq, spec in enumerate(expected, 1):
        (folder,) = out_dir.glob(f"{seq:02d}-{seed.refs[spec.unit]}-*")
        word, pdf = seed.files[spec.unit]
        assert (folder / f"申报书-{spec.unit}.docx").read_bytes() == word
        assert (folder / f"申报书-{spec.unit}（盖章）.pdf").read_bytes() == pdf
    assert not list(out_dir.glob(f"*-{c}-*"))

    _forwarded_package_reads_back(out_dir, expected)

    _run(seed, "recommend", b, "--remove")
    _run(seed, "recommend", c, "--rank", "2")
    with Session(seed.app.engine) as s:
        order = [(r.direction, r.rank, sub.reference) for r, sub in ranked(s, seed.app.policy)]
    assert order == [(2, 1, d), (6, 1, a), (6, 2, c)]  # a moved up when b left

    digest, _ = _run(seed, "digest", "--today", "2025-01-14")
    assert "济南市大数据局 揭榜挂帅每日汇总" in digest and "四、本市推荐" in digest
    assert f"{direction_label(6)} 第2位：{c}" in digest
    assert "其他单位报送所在设区市大数据局：2025年1月15日，还有1天" in digest
    assert f"- {e} 济南戊科技有限公司，直报，2025年1月16日 09:00到达（截止2025年1月15日）" in digest


RANKS = (1, 1, 2)  # of the expected rows: (二) first, then (六) 1 and 2


def _table_rows(specs: list[FormSpec]) -> list[list[str]]:
    labels = {"theory": "理论研究", "technology": "技术创新", "application": "应用实践"}
    return [[str(i), direction_label(s.direction), str(rank), s.unit, "、".join(s.partners) or "无", s.task_name,
             "、".join(labels[t] for t in s.task_types), "王晓明", PHONES[SPECS.index(s)]]
            for i, (s, rank) in enumerate(zip(specs, RANKS, strict=True), 1)]


def _check_docx(path: Path, specs: list[FormSpec]) -> None:
    document = docx.Document(str(path))
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "附件2" and texts[1] == table_title(CITY)
    assert texts[2].startswith(f"推荐单位（盖章）：{CITY}大数据局") and texts[2].endswith("填报日期：2025年1月16日")
    assert texts[3].startswith("注：1.每个榜单方向每市推荐数量不超过2个")
    assert document.sections[0].orientation == 1  # landscape, as the form
    (table,) = document.tables
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    template = docx.Document(str(_template("推荐汇总表模板.docx")))
    assert tuple(rows[0]) == TABLE_COLUMNS == tuple(c.text for c in template.tables[0].rows[0].cells)
    assert rows[1:] == _table_rows(specs)


def _check_xlsx(path: Path, specs: list[FormSpec]) -> None:
    ws = openpyxl.load_workbook(path).active
    template = openpyxl.load_workbook(_template("推荐汇总表模板.xlsx")).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0][0] == "附件2" and rows[1][0] == table_title(CITY)
    assert rows[2][0] == f"推荐单位（盖章）：{CITY}大数据局" and rows[2][6] == "填报日期：2025年1月16日"
    assert rows[3] == [c.value for c in template[4]]  # the notice's header row, same place
    assert {str(r) for r in ws.merged_cells.ranges} == {str(r) for r in template.merged_cells.ranges}
    body = [[str(v) if v is not None else "" for v in r] for r in rows[4:4 + len(specs)]]
    assert body == _table_rows(specs)
    assert rows[4 + len(specs)][0].startswith("注：")


def _forwarded_package_reads_back(out_dir: Path, specs: list[FormSpec]) -> None:
    """What the city mails on to the province is understood as its package, in rank order."""
    files = [(p.name, p.read_bytes()) for p in sorted(out_dir.rglob("*")) if p.is_file() and p.suffix != ".xlsx"]
    raw = make_eml(sender=BUREAU, subject=f"{CITY}揭榜挂帅推荐材料报送", attachments=files,
                   received=datetime(2025, 1, 18, 10, 0, tzinfo=CST))
    province = RoundPolicy(catalogue=Catalogue(deadlines={"direct": date(2025, 1, 20), "city_applicant": date(2025, 1, 15),
                                                          "city_bureau": date(2025, 1, 20)}),
                           cities={CITY: CityBureau(CITY, (BUREAU,))}, own_addresses=frozenset({"dsjjzcghc@shandong.cn"}))
    result = understand(raw, province)
    assert (result.intent, result.channel, result.city) == ("submission", "via_city", CITY)
    assert [(r.rank, r.direction, r.unit) for r in result.recommendations] == [
        (1, 2, specs[0].unit), (1, 6, specs[1].unit), (2, 6, specs[2].unit)]
    assert sorted(x.unit for x in result.applications) == sorted(s.unit for s in specs)
    codes = {x.code for x in result.deficiencies}
    assert not codes & {"MISSING_RECOMMENDATION_TABLE", "TABLE_MISMATCH", "CITY_QUOTA_EXCEEDED",
                        "MISSING_WORD_VERSION", "MISSING_PDF_VERSION", "UNVERIFIED_CITY_SENDER"}, codes


def test_ranking_rules_and_the_database_guard(tmp_path: Path, db_url: str) -> None:
    seed = seed_city(tmp_path, db_url)
    policy = seed.app.policy
    with Session(seed.app.engine) as s:
        a, b, c, d = (find_submission(s, seed.refs[x.unit]) for x in SPECS[:4])
        assert recommend(s, policy, a, 1, actor="王") != []
        assert recommend(s, policy, a, 1, actor="王") == []  # the same again changes nothing
        recommend(s, policy, b, 1, actor="王")  # b takes rank 1, a moves down
        with pytest.raises(QuotaExceeded):
            recommend(s, policy, c, 2, actor="王")
        with pytest.raises(RecommendError, match="1或2"):
            recommend(s, policy, d, 3, actor="王")
        s.commit()
        assert [(r.rank, x.reference) for r, x in ranked(s, policy)] == [(1, b.reference), (2, a.reference)]
        assert remove(s, policy, b, actor="王") and not remove(s, policy, b, actor="王")
        s.commit()
        assert [(r.rank, x.reference) for r, x in ranked(s, policy)] == [(1, a.reference)]
        c_id, a_id = c.id, a.id
    # the database keeps ranks positive and unique per direction (the quota itself is the
    # catalogue's, enforced by recommend()), so two staff at once can never take one place
    for bad in (dict(rank=0, submission_id=c_id), dict(rank=1, submission_id=c_id), dict(rank=2, submission_id=a_id)):
        with Session(seed.app.engine) as s, pytest.raises(IntegrityError):
            s.add(CityRecommendation(round_code="JB2025", city=CITY, direction=6, **bad))
            s.commit()
    province = RoundPolicy(role="province")
    with Session(seed.app.engine) as s, pytest.raises(RecommendError, match="role: city"):
        recommend(s, province, find_submission(s, seed.refs[SPECS[3].unit]), 1, actor="王")


def test_city_digest_and_the_migration(tmp_path: Path, db_url: str) -> None:
    seed = seed_city(tmp_path, db_url)
    with Session(seed.app.engine) as s:
        recommend(s, seed.app.policy, find_submission(s, seed.refs[SPECS[3].unit]), 1, actor="王")
        s.commit()
        digest = gather(s, seed.app.policy, now=datetime(2025, 1, 14, 9, 0, tzinfo=CST), today=date(2025, 1, 14))
    assert digest.owner == "济南市大数据局" and digest.cities == ()
    assert [(r.rank, r.unit) for r in digest.recommendations] == [(1, SPECS[3].unit)]
    assert digest.direction_total.direct == 5 and [x.reference for x in digest.late] == [seed.refs[SPECS[4].unit]]
    with seed.app.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert [d for d in diff if "city_recommendation" in repr(d)] == []
