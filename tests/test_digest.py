"""The staff digest: its numbers against the database, its workbook, its chart, its mail.

A province database is seeded through the real pipeline (store_raw → Service.cycle →
the delivery job): the project's example mails, a late direct submission, a 青岛 package
over quota, a question for a person, a message that cannot be processed, a mail a
server refused and a bounce of one of our acks.
"""

from __future__ import annotations

import importlib.util
import io
import shutil
import subprocess
import sys
import warnings
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest
from helpers import CST, REPO, SHARED, make_mail, write_config
from sqlmodel import Session, col, func, select

from notifier.models import OutboxMail, OutboxState
from notifier.render import render
from notifier.sender import deliver_pending
from notifier.transport import PermanentSendError
from tracker.app import App
from tracker.config import SHANDONG_CITIES, load_settings
from tracker.digest import build_bundle, direction_label, gather
from tracker.digest_chart import ChartFontMissing, render_chart
from tracker.ingest import store_raw
from tracker.models import MessageState, StoredMessage
from tracker.records_models import (
    CityPackage,
    DeficiencyRecord,
    RecommendationRow,
    Submission,
    SubmissionVersion,
)
from tracker.service import Service
from tracker.workbook import SUBMISSION_COLUMNS, TABLE_COLUMNS

sys.path.insert(0, str(Path(__file__).resolve().parent / "intake"))
from formfactory import FormSpec, make_docx, make_eml, make_table_xlsx, make_uscc  # noqa: E402

TODAY = date(2025, 1, 14)
NOW = datetime(2025, 1, 14, 8, 30, tzinfo=CST)
STAFF = "staff@shandong.cn"
CITIES = {
    "济南市": {"bureau_emails": ["jinan-dsj@dsj.jinan.example"], "contact": "孟晓林", "phone": "0531-94710893"},
    "青岛市": {"bureau_emails": ["qingdao-dsj@dsj.qingdao.example"], "contact": "于海涛", "phone": "0532-79063638"},
}
QUESTION_SUBJECT = "咨询：联合单位可以是省外高校吗"


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("jiebang_examples", REPO / "examples" / "generate.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


class RefusingTransport:
    """An SMTP server that accepts everything except one mailbox (550 user unknown)."""

    def __init__(self, refused: str) -> None:
        self.refused, self.sent = refused, []

    def send(self, message: EmailMessage, *, envelope_from: str, recipients: list[str]) -> None:
        if self.refused in recipients:
            raise PermanentSendError(f"550 5.1.1 <{self.refused}>: Recipient address rejected: User unknown")
        self.sent.append(message)


def dsn_for(message_id: str, recipient: str) -> bytes:
    """A Postfix-style delivery status notification quoting one of our Message-IDs."""
    return f"""Received: from mx.shandong.cn by mx.shandong.cn (Postfix); Mon, 13 Jan 2025 09:00:05 +0800
From: MAILER-DAEMON@mx.shandong.cn (Mail Delivery System)
To: dsjjzcghc@shandong.cn
Subject: Undelivered Mail Returned to Sender
Date: Mon, 13 Jan 2025 09:00:00 +0800
Message-ID: <dsn.20250113@mx.shandong.cn>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.shandong.cn.

<{recipient}>: host mail.example.cn said: 552 5.2.2 mailbox full

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.shandong.cn

Final-Recipient: rfc822; {recipient}
Action: failed
Status: 5.2.2

--b1
Content-Type: text/rfc822-headers

From: dsjjzcghc@shandong.cn
To: {recipient}
Message-ID: {message_id}
Subject: ack

--b1--
""".replace("\n", "\r\n").encode()


def _extra_mails() -> dict[str, bytes]:
    late = FormSpec(unit="山东省数据集团有限公司", uscc=make_uscc("370000", head="91", body="MA3P0Q1R2"),
                    nature="省属企业", direction=8, task_name="数据安全保险分担机制研究",
                    task_types=["theory"], outcomes=["研究报告"], email="late@sddata.example.cn")
    qd = [FormSpec(unit=f"青岛{n}数据科技有限公司", uscc=make_uscc("370202", body=f"MA3Q{i}W0Z0"), nature="其他",
                   city="青岛市", direction=3, task_name=f"公共数据授权运营{n}", task_types=["application"],
                   outcomes=["应用场景"]) for i, n in enumerate("海山川", 1)]
    return {
        "late": make_eml(sender="late@sddata.example.cn", subject="揭榜挂帅申报书-山东省数据集团",
                         attachments=[("申报书.docx", make_docx(late))],
                         received=datetime(2025, 1, 21, 9, 15, tzinfo=CST)),
        "qingdao": make_eml(sender="qingdao-dsj@dsj.qingdao.example", subject="青岛市揭榜挂帅推荐材料",
                            attachments=[("青岛市推荐汇总表.xlsx", make_table_xlsx(qd, city="青岛市"))]
                            + [(f"申报书-{s.unit}.docx", make_docx(s)) for s in qd],
                            received=datetime(2025, 1, 13, 16, 0, tzinfo=CST)),
        "question": make_mail(subject=QUESTION_SUBJECT, sender="asker@university.example.cn",
                              body="您好，我单位拟联合北京的一所高校申报，请问联合单位可以是省外高校吗？",
                              when=datetime(2025, 1, 12, 15, 30, tzinfo=CST)),
    }


@dataclass
class Seeded:
    app: App
    config: Path
    quarantined_pk: int
    bounced_id: int
    failed_id: int


def seed_province(tmp_path: Path, db_url: str) -> Seeded:
    config = write_config(tmp_path, db_url=db_url, cities=CITIES, staff={"digest_to": [STAFF]})
    app = App(load_settings(config))
    app.migrate()
    for raw in [*_generator().build().values(), *_extra_mails().values()]:
        store_raw(app.engine, app.blobs, raw)
    broken = store_raw(app.engine, app.blobs, make_mail(subject="申报材料（第二封）", sender="lost@example.cn"))
    with Session(app.engine) as session:  # its bytes vanished from the store: processing must quarantine it
        app.blobs.path_for(session.get(StoredMessage, broken.message_pk).raw_sha256).unlink()
    service = Service(app)
    service.cycle()
    report = deliver_pending(app.engine, RefusingTransport("zhao@hainuo.example.cn"), sender=app.settings.smtp.from_,
                             load=app.blobs.get)
    assert report.failed == 1 and report.sent >= 5
    with Session(app.engine) as session:
        failed = session.exec(select(OutboxMail).where(OutboxMail.state == OutboxState.failed)).one()
        ack = session.exec(select(OutboxMail).where(OutboxMail.kind == "ack").order_by(OutboxMail.id)).first()
    store_raw(app.engine, app.blobs, dsn_for(ack.message_id, ack.to_addrs[0]))
    service.cycle()
    return Seeded(app, config, broken.message_pk, ack.id, failed.id)


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


def example_digest_context() -> dict:
    """A realistic ``digest`` template context without a database (for the template rules).

    tests/notifier/mail_contexts.py can use it: ``"digest": example_digest_context()``.
    """
    from tracker.digest import (
        CityStatus,
        Count,
        DailyPoint,
        DeadlineItem,
        DeficiencyCount,
        Digest,
        DirectionCount,
        LateItem,
        MailProblem,
        MessageItem,
        QuotaCell,
        SubmissionItem,
    )

    at = datetime(2025, 1, 14, 2, 2, tzinfo=UTC)  # 10:02 in Shanghai
    rows = tuple(DirectionCount(d, direction_label(d), 1 if d == 2 else 0, 2 if d == 6 else 0, (d == 2) + 2 * (d == 6))
                 for d in range(1, 9))
    jinan = CityStatus("济南市", True, 1, at, False, True, True, (QuotaCell(6, direction_label(6), 2, False),), 2)
    others = tuple(CityStatus(c, False, None, None, False, True, False, (), 0) for c in SHANDONG_CITIES[1:])
    item = SubmissionItem("JB2025-0003", "济南云泺信息技术有限公司", direction_label(6), "设区市推荐", "济南市", 1, at)
    return {"chart_src": "cid:chart", "digest": Digest(
        owner="山东省大数据局", role="province", city=None, round_code="JB2025", generated_at=at, today=TODAY,
        since=at, submissions=3, incomplete=1, needs_attention=3,
        statuses=(Count("incomplete", "材料待补正", 1), Count("complete", "材料齐全，待评审", 2)),
        directions=rows, direction_total=DirectionCount(-1, "合计", 1, 2, 3), cities=(jinan, *others),
        messages_since=4, intents_since=(Count("submission", "申报材料", 3), Count("other", "其他来信（需人工答复）", 1)),
        new_submissions=(item,), new_versions=(), errors=(DeficiencyCount("MISSING_PDF_VERSION", "error",
                                                                          "缺少申报书盖章PDF版", 1),),
        warnings=(DeficiencyCount("OCR_USED", "warning", "内容由扫描件识别", 1),),
        late=(LateItem("JB2025-0002", "山东数据交易有限公司", "直报", at, date(2025, 1, 20), "第1版逾期"),),
        quarantined=(MessageItem(9, "lost@example.cn", "申报材料", at, "待处理", "BlobMissing: 0977f257"),),
        mail_problems=(MailProblem(6, "补正通知", "zhao@hainuo.example.cn", "申报材料需补正", "发送失败", "550 5.1.1"),),
        unanswered=(MessageItem(8, "asker@university.example.cn", QUESTION_SUBJECT, at, "其他来信（需人工答复）", ""),),
        deadlines=(DeadlineItem("city_applicant", "其他单位报送所在设区市大数据局", date(2025, 1, 15), 1, "还有1天"),),
        daily=(DailyPoint(date(2025, 1, 8), 1, 0, 1), DailyPoint(date(2025, 1, 13), 1, 2, 3)), recommendations=(),
    )}


# --- tests ------------------------------------------------------------------------------------------
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
    import tracker.digest_chart as chart_module

    monkeypatch.setattr(chart_module, "CJK_FAMILIES", ("No Such Font SC",))
    with pytest.raises(ChartFontMissing, match="fonts-noto-cjk"):
        render_chart((), (), today=TODAY)


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
