"""The staff digest: its numbers against the database, its workbook, its chart, its mail.

A province database is seeded through the real pipeline (store_raw → Service.cycle →
the delivery job): the project's example mails, a late direct submission, a 青岛 package
over quota, a question for a person, a message that cannot be processed, a mail a
server refused and a bounce of one of our acks.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import warnings
from collections import Counter
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import Session, col, func, select
from support.digests import QUESTION_SUBJECT, TODAY, example_digest_context
from support.formfactory import FormSpec, make_docx, make_eml, make_uscc  # noqa: E402
from support.helpers import CST, REPO, SHARED
from support.seeding import STAFF, RefusingTransport, Seeded, seed_province

from notifier.models import OutboxMail, OutboxState
from notifier.render import render
from notifier.sender import deliver_pending
from tracker.config import SHANDONG_CITIES
from tracker.pipeline.ingest import store_raw
from tracker.reports.chart import ChartFontMissing, render_chart
from tracker.reports.digest import build_bundle, direction_label, gather
from tracker.reports.workbook import SUBMISSION_COLUMNS, TABLE_COLUMNS
from tracker.service import Service
from tracker.store.tables import (
    CityPackage,
    DeficiencyRecord,
    MessageState,
    RecommendationRow,
    StoredMessage,
    Submission,
    SubmissionVersion,
)

NOW = datetime(2025, 1, 14, 8, 30, tzinfo=CST)
@pytest.fixture
def seeded(tmp_path: Path, db_url: str) -> Seeded:
    return seed_province(tmp_path, db_url)


# --- reading the HTML back --------------------------------------------------------------------------
class Tables(HTMLParser):
    """Every <table id=…> as rows of (row attributes, cell texts)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[tuple[dict, list[str]]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "table":
            self._table = a.get("id", "")
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append((a, []))
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1][1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _html(seeded: Seeded) -> tuple[str, str]:
    with Session(seeded.app.engine) as session:
        bundle = build_bundle(session, seeded.app.policy, now=NOW, today=TODAY)
    out = render("digest", bundle.context("cid:chart"))
    return out.html, out.text


def test_example_context_follows_the_template_rules() -> None:
    """What tests/notifier/test_notifier_templates.py asks of every template, for ``digest``."""
    import typing

    import jinja2

    from notifier.templates import CONTEXTS, KIND_OF_TEMPLATE

    context = example_digest_context()
    assert set(context) == set(typing.get_type_hints(CONTEXTS["digest"])) and KIND_OF_TEMPLATE["digest"] == "digest"
    out = render("digest", context)
    assert out.subject and "\n" not in out.subject and len(out.subject) <= 200
    assert out.html.startswith("<!DOCTYPE html>") and "</html>" in out.html
    assert "山东省大数据局" in out.text and "山东省大数据局" in out.html
    for body in (out.subject, out.text, out.html):
        assert "{{" not in body and "{%" not in body and "None" not in body
    assert "2025年1月14日 10:02" in out.text  # Shanghai time
    for key in sorted(context):
        with pytest.raises(jinja2.UndefinedError):
            render("digest", {k: v for k, v in context.items() if k != key})


def test_digest_numbers_match_the_database(seeded: Seeded) -> None:
    html, text = _html(seeded)
    tables = Tables(html).tables
    with Session(seeded.app.engine) as s:
        subs = s.exec(select(Submission).where(Submission.status != "withdrawn")).all()
        open_rows = s.exec(select(DeficiencyRecord).where(DeficiencyRecord.state == "open")).all()
        intents = Counter(m.intent for m in s.exec(select(StoredMessage)).all()
                          if m.state != MessageState.quarantined)
        packages = {p.city: p for p in s.exec(select(CityPackage).where(col(CityPackage.current).is_(True))).all()}
        rec_rows = s.exec(select(RecommendationRow)).all()
        late_refs = {sub.reference for sub in s.exec(select(Submission).where(col(Submission.late).is_(True))).all()}
    assert len(subs) >= 7 and late_refs

    by_direction = {int(a["data-direction"]): cells for a, cells in tables["by-direction"][1:]}
    for d in range(1, 9):
        mine = [x for x in subs if x.direction == d]
        assert by_direction[d] == [direction_label(d), str(sum(x.channel == "direct" for x in mine)),
                                   str(sum(x.channel == "via_city" for x in mine)), str(len(mine))]
    assert by_direction[-1][1:] == [str(sum(x.channel == "direct" for x in subs)),
                                    str(sum(x.channel == "via_city" for x in subs)), str(len(subs))]
    assert f"共{len(subs)}项" in html and f"共{len(subs)}项" in text

    head, values = tables["statuses"]
    assert dict(zip(head[1], values[1], strict=True))["材料待补正"] == str(sum(x.status == "incomplete" for x in subs))

    cities = {a["data-city"]: cells for a, cells in tables["by-city"][1:]}
    assert list(cities) == list(SHANDONG_CITIES)
    for city, cells in cities.items():
        assert cells[1] == ("已收到" if city in packages else "未收到")
    assert cities["济南市"][2] == str(packages["济南市"].version)
    qd_rows = sum(r.package_id == packages["青岛市"].id and r.direction == 3 for r in rec_rows)
    assert qd_rows == 3 and f"{direction_label(3)} 3/2" in cities["青岛市"][4]
    assert cities["青岛市"][5] == str(sum(x.city == "青岛市" and x.channel == "via_city" for x in subs))

    errors = {a["data-code"]: int(cells[2]) for a, cells in tables["deficiency-errors"] if "data-code" in a}
    assert errors == dict(Counter(r.code for r in open_rows if r.severity == "error"))
    assert {"LATE", "CITY_QUOTA_EXCEEDED", "WRONG_CHANNEL", "MISSING_PDF_VERSION"} <= set(errors)

    shown = {a["data-key"]: int(cells[1]) for a, cells in tables["intents"] if "data-key" in a}
    assert shown == {**{k: v for k, v in intents.items() if k}, "quarantined": 1}

    late_cells = [cells[0] for _, cells in tables["late"]]
    assert late_refs <= set(late_cells)
    quarantined = tables["quarantined"]
    assert len(quarantined) == 1 and quarantined[0][1][0] == f"#{seeded.quarantined_pk}"
    assert "BlobMissing" in quarantined[0][1][4]
    problems = {cells[0]: cells for _, cells in tables["mail-problems"]}
    assert set(problems) == {f"#{seeded.bounced_id}", f"#{seeded.failed_id}"}
    assert problems[f"#{seeded.failed_id}"][4] == "发送失败" and "550" in problems[f"#{seeded.failed_id}"][5]
    assert problems[f"#{seeded.bounced_id}"][4] == "被退回"
    (question,) = tables["unanswered"]
    assert question[1][1:3] == ["asker@university.example.cn", QUESTION_SUBJECT]
    assert question[1][3] == "2025年1月12日 15:30"  # Asia/Shanghai

    deadlines = {cells[0]: cells[2] for _, cells in tables["deadlines"][1:]}
    assert deadlines == {"其他单位报送所在设区市大数据局": "还有1天", "中央驻鲁、省属单位报送省大数据局": "还有6天",
                         "各市大数据局报送推荐材料": "还有6天"}
    assert 'src="cid:chart"' in html
    for line in ("还有1天", QUESTION_SUBJECT, f"#{seeded.quarantined_pk}", "CITY_QUOTA_EXCEEDED"):
        assert line in text


def test_digest_counts_only_what_arrived_since_the_last_digest(seeded: Seeded) -> None:
    service = Service(seeded.app)
    assert service.digest(TODAY) is True
    assert service.digest(TODAY) is False  # once a day
    with Session(seeded.app.engine) as s:
        row = s.exec(select(OutboxMail).where(OutboxMail.kind == "digest")).one()
        total = s.exec(select(func.count()).select_from(Submission)).one()
    assert row.dedupe_key == "digest:2025-01-14" and row.to_addrs == [STAFF]
    assert row.auto_submitted == "auto-generated" and "申报" in row.subject
    names = {a["name"]: a for a in row.attachments}
    assert names["累计申报趋势.png"]["cid"] == "chart" and names["揭榜挂帅汇总-2025-01-14.xlsx"]["cid"] is None
    assert all(a["sha256"] in seeded.app.blobs for a in row.attachments)

    store_raw(seeded.app.engine, seeded.app.blobs, make_eml(
        sender="new@later.example.cn", subject="揭榜挂帅申报书",
        attachments=[("申报书.docx", make_docx(FormSpec(unit="山东后来数据有限公司", nature="省属企业",
                                                     uscc=make_uscc("370000", body="MA3X9Y8Z7"), direction=7)))],
        received=datetime(2025, 1, 14, 11, 0, tzinfo=CST)))
    service.cycle()
    with Session(seeded.app.engine) as s:
        digest = gather(s, seeded.app.policy, now=datetime.now(UTC), today=date(2025, 1, 15))
    assert digest.since is not None
    assert [i.unit for i in digest.new_submissions] == ["山东后来数据有限公司"]
    assert digest.messages_since == 1 and digest.submissions == total + 1

    sent = deliver_pending(seeded.app.engine, RefusingTransport("nobody@x"), sender=seeded.app.settings.smtp.from_,
                           load=seeded.app.blobs.get)
    assert sent.failed == 0
    with Session(seeded.app.engine) as s:
        assert s.get(OutboxMail, row.id).state == OutboxState.sent


def test_digest_workbook_rows_and_columns(seeded: Seeded) -> None:
    with Session(seeded.app.engine) as s:
        bundle = build_bundle(s, seeded.app.policy, now=NOW, today=TODAY)
        subs = s.exec(select(Submission).order_by(Submission.reference)).all()
        n_defs = s.exec(select(func.count()).select_from(DeficiencyRecord)).one()
        n_msgs = s.exec(select(func.count()).select_from(StoredMessage)).one()
        n_out = s.exec(select(func.count()).select_from(OutboxMail)).one()
        qd = s.exec(select(CityPackage).where(CityPackage.city == "青岛市")).one()
        qd_rows = s.exec(select(RecommendationRow).where(RecommendationRow.package_id == qd.id)).all()
        firsts = dict(s.exec(select(SubmissionVersion.submission_id, func.min(SubmissionVersion.received_at))
                             .group_by(SubmissionVersion.submission_id)).all())
    wb = openpyxl.load_workbook(io.BytesIO(bundle.workbook))
    assert wb.sheetnames == ["申报汇总", "问题清单", "推荐汇总表-济南市", "推荐汇总表-青岛市", "邮件记录"]

    sheet = list(wb["申报汇总"].iter_rows(values_only=True))
    assert sheet[0] == SUBMISSION_COLUMNS and len(sheet) == len(subs) + 1
    col_of = {name: i for i, name in enumerate(sheet[0])}
    for sub, row in zip(subs, sheet[1:], strict=True):
        assert row[col_of["受理编号"]] == sub.reference and row[col_of["揭榜单位"]] == sub.unit
        assert row[col_of["统一社会信用代码"]] == sub.uscc and row[col_of["榜单方向"]] == direction_label(sub.direction)
        assert row[col_of["版本数"]] == sub.versions and row[col_of["逾期"]] == ("是" if sub.late else "否")
        first = firsts[sub.id].astimezone(CST).replace(tzinfo=None)
        assert abs((row[col_of["首次收到"]] - first).total_seconds()) < 1  # Shanghai wall time

    assert wb["问题清单"].max_row == n_defs + 1
    assert wb["邮件记录"].max_row == n_msgs + n_out + 1

    table = list(wb["推荐汇总表-青岛市"].iter_rows(values_only=True))
    assert table[0][0] == "附件2" and "青岛市" in table[1][0] and table[2][0].startswith("推荐单位（盖章）：青岛市")
    assert table[3] == TABLE_COLUMNS == _template_header()
    body = [r for r in table[4:] if isinstance(r[0], int)]
    expected = sorted(qd_rows, key=lambda r: (r.direction, r.rank))
    assert [(r[1], r[2], r[3]) for r in body] == [(direction_label(r.direction), r.rank, r.unit) for r in expected]
    assert [r[0] for r in body] == list(range(1, len(body) + 1))


def _template_header() -> tuple[str, ...]:
    """The column headers of the notice's 推荐汇总表 form (shared samples), as a tuple."""
    form = SHARED / "samples" / "forms" / "推荐汇总表模板.xlsx"
    if not form.exists():
        pytest.skip("shared sample forms not present")
    rows = list(openpyxl.load_workbook(form).active.iter_rows(values_only=True))
    return next(tuple(r) for r in rows if r[0] == "序号")


def test_chart_draws_chinese_with_a_cjk_font(seeded: Seeded) -> None:
    with Session(seeded.app.engine) as s:
        digest = gather(s, seeded.app.policy, now=NOW, today=TODAY)
    assert digest.daily[-1].total == digest.submissions
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chart = render_chart(digest.daily, digest.deadlines, today=digest.today)
    assert not [w for w in caught if "missing from font" in str(w.message)]
    assert chart.png.startswith(b"\x89PNG\r\n\x1a\n") and len(chart.png) > 10_000
    assert chart.font_family == "Noto Sans CJK SC" and "NotoSansCJK" in chart.font_file
    from matplotlib.ft2font import FT2Font

    font = FT2Font(chart.font_file)
    assert all(font.get_char_index(ord(ch)) for ch in "累计申报数量截止直报设区市推荐")


def test_chart_fails_loudly_without_a_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    import tracker.reports.chart as chart_module

    monkeypatch.setattr(chart_module, "CJK_FAMILIES", ("No Such Font SC",))
    with pytest.raises(ChartFontMissing, match="fonts-noto-cjk"):
        render_chart((), (), today=TODAY)


@pytest.mark.browser  # real Chromium (the digest's numbers and HTML: the tests above)
def test_digest_html_renders_in_headless_chromium(seeded: Seeded, tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "chromium is needed (scripts/test.sh installs it)"
    page = tmp_path / "digest.html"
    proc = subprocess.run([sys.executable, "-m", "tracker.cli", "digest", "--to-file", str(page),
                           "--today", "2025-01-14", "--config", str(seeded.config)],
                          capture_output=True, timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr.decode()
    shot = tmp_path / "shot.png"
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run",
              f"--user-data-dir={tmp_path / 'chromium'}", "--enable-logging=stderr", "--v=0"]
    run = subprocess.run([*common, "--window-size=1000,2400", f"--screenshot={shot}", page.as_uri()],
                         capture_output=True, timeout=120)
    assert run.returncode == 0, run.stderr.decode(errors="replace")[-2000:]
    console = [line for line in run.stderr.decode(errors="replace").splitlines() if "CONSOLE" in line]
    assert console == []
    dom = subprocess.run([*common, "--dump-dom", page.as_uri()], capture_output=True, timeout=120)
    assert dom.returncode == 0 and "揭榜挂帅每日汇总" in dom.stdout.decode()
    assert 'id="chart"' in dom.stdout.decode() and "data:image/png;base64," in dom.stdout.decode()
    from PIL import Image

    image = Image.open(shot).convert("L")
    assert image.size == (1000, 2400)
    dark = sum(image.histogram()[:128])
    assert dark > 20_000  # text, tables and the chart were drawn, not a blank page
    for suffix in (".txt", ".png", ".xlsx"):
        assert page.with_suffix(suffix).stat().st_size > 0
