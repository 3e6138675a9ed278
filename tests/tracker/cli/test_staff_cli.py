"""The staff commands, run as users run them (a subprocess) on a database seeded by the pipeline."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import Session, func, select
from support.helpers import jiebang
from support.seeding import STAFF, Seeded, seed_province

from notifier.models import OutboxMail
from notifier.wording import title_of
from tracker.reports.workbook import SUBMISSION_COLUMNS
from tracker.store.tables import Event, StoredMessage, Submission, SubmissionVersion

TODAY = ("--today", "2025-01-14")

# Each test runs the commands as subprocesses (seconds apiece): their SQLite runs are in the
# default set, their PostgreSQL runs in the full one (the queries behind them run on
# PostgreSQL by default in tests/tracker/records, reports and web).
pytestmark = pytest.mark.slow_on_postgresql


@pytest.fixture
def seeded(tmp_path: Path, db_url: str) -> Seeded:
    return seed_province(tmp_path, db_url)


def _ok(*args: str, config: Path) -> str:
    proc = jiebang(*args, config=config)
    assert proc.returncode == 0, (args, proc.stdout.decode(), proc.stderr.decode())
    return proc.stdout.decode()


def _counts(seeded: Seeded) -> tuple[int, int, int]:
    with Session(seeded.app.engine) as s:
        return (s.exec(select(func.count()).select_from(Submission)).one(),
                s.exec(select(func.count()).select_from(SubmissionVersion)).one(),
                s.exec(select(func.count()).select_from(OutboxMail)).one())


def test_digest_command_renders_writes_and_queues_once(seeded: Seeded, tmp_path: Path) -> None:
    text = _ok("digest", *TODAY, config=seeded.config)
    assert "揭榜挂帅每日汇总（2025年1月14日）" in text and "还有1天" in text
    before = _counts(seeded)
    page = tmp_path / "out" / "digest.html"
    _ok("digest", "--to-file", str(page), *TODAY, config=seeded.config)
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert openpyxl.load_workbook(page.with_suffix(".xlsx")).sheetnames[0] == "申报汇总"
    assert _counts(seeded) == before  # rendering writes nothing to the database
    assert "digest queued" in _ok("digest", "--send", *TODAY, config=seeded.config)
    assert "already in the outbox" in _ok("digest", "--send", *TODAY, config=seeded.config)
    assert _counts(seeded)[2] == before[2] + 1
    rows = json.loads(_ok("outbox", "--json", config=seeded.config))
    (digest,) = [r for r in rows if r["kind"] == "digest"]
    assert digest["to"] == [STAFF] and digest["state"] == "pending"


def test_export_csv_has_a_bom_and_every_submission(seeded: Seeded, tmp_path: Path) -> None:
    target = tmp_path / "submissions.csv"
    assert "submission(s)" in _ok("export", "--format", "csv", "--output", str(target), config=seeded.config)
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # Excel opens it as UTF-8 only with the BOM
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    listed = json.loads(_ok("list", "--json", config=seeded.config))
    assert tuple(rows[0]) == SUBMISSION_COLUMNS and len(rows) == len(listed) + 1
    by_ref = {r[0]: r for r in rows[1:]}
    for item in listed:
        row = by_ref[item["reference"]]
        assert row[1] == (item["unit"] or "") and row[2] == (item["uscc"] or "")
        # the open problems as staff read them: the one wording per code, never the code
        assert row[14] == "；".join(title_of(code) for code in item["deficiencies"])

    book = tmp_path / "submissions.xlsx"
    _ok("export", "--format", "xlsx", "--output", str(book), config=seeded.config)
    sheet = openpyxl.load_workbook(book)["申报汇总"]
    assert [c.value for c in sheet[1]] == list(SUBMISSION_COLUMNS) and sheet.max_row == len(listed) + 1

    bad = jiebang("export", "--format", "pdf", "--output", str(tmp_path / "x.pdf"), config=seeded.config)
    assert bad.returncode == 2 and b"xlsx or csv" in bad.stderr
    province = jiebang("export", "--recommendation-table", "--output", str(tmp_path / "t"), config=seeded.config)
    assert province.returncode == 2 and "role: city" in province.stderr.decode()


def test_stats_match_the_database(seeded: Seeded) -> None:
    data = json.loads(_ok("stats", "--json", config=seeded.config))
    with Session(seeded.app.engine) as s:
        subs = s.exec(select(Submission)).all()
        messages = s.exec(select(StoredMessage)).all()
        outbox = s.exec(select(OutboxMail)).all()
    assert sum(data["status"].values()) == sum(data["direction"].values()) == len(subs)
    assert data["status"]["材料待补正"] == sum(x.status == "incomplete" for x in subs)
    assert data["channel"] == {"直报": sum(x.channel == "direct" for x in subs),
                               "设区市推荐": sum(x.channel == "via_city" for x in subs)}
    assert data["city"]["青岛市"] == sum((x.city or x.unit_city) == "青岛市" for x in subs)
    assert data["message_state"] == {"已处理": sum(m.state == "processed" for m in messages), "已隔离": 1}
    assert data["message_intent"]["其他来信（需人工答复）"] == 1
    assert sum(data["outbox_state"].values()) == len(outbox)
    assert data["outbox_state"]["发送失败"] == 1 and data["outbox_state"]["被退回"] == 1
    human = _ok("stats", config=seeded.config)
    assert "按榜单方向" in human and "发件箱" in human


def test_reprocess_shows_differences_and_applies_idempotently(seeded: Seeded) -> None:
    clean = json.loads(_ok("reprocess", "--json", config=seeded.config))
    assert clean["changed"] == [] and clean["messages"] >= 10  # the same code finds the same things
    with Session(seeded.app.engine) as s:  # what an older release might have stored
        query = s.exec(select(StoredMessage).where(StoredMessage.intent == "status_query")).first()
        query.intent, query.references = "other", []
        # a direct mail with one application (two workers record mail in either order, and a
        # city package's versions pair with its applications by position)
        versions = s.exec(select(SubmissionVersion).order_by(SubmissionVersion.id)).all()
        per_message = Counter(v.message_pk for v in versions)
        version = next(v for v in versions if per_message[v.message_pk] == 1
                       and v.fields.get("direction") not in (None, 0, 5))
        read = version.fields["direction"]
        version.fields = {**version.fields, "direction": 5}
        s.add(query)
        s.add(version)
        s.commit()
        query_id, version_msg = query.id, version.message_pk
    before = _counts(seeded)

    shown = json.loads(_ok("reprocess", "--json", config=seeded.config))
    changes = {m["id"]: {c["what"]: (c["before"], c["after"]) for c in m["changes"]} for m in shown["changed"]}
    assert changes[query_id]["intent"] == ("other", "status_query")
    assert changes[query_id]["references"] == ("—", "JB2025-0001")
    assert any(what.endswith(" direction") and after == str(read) for what, (_, after) in changes[version_msg].items())
    assert _counts(seeded) == before  # nothing written, nothing sent
    human = _ok("reprocess", config=seeded.config)
    assert "nothing was written" in human

    applied = json.loads(_ok("reprocess", "--apply", "--json", config=seeded.config))
    assert applied["applied"] and {m["id"] for m in applied["changed"]} == {query_id, version_msg}
    again = json.loads(_ok("reprocess", "--apply", "--json", config=seeded.config))
    assert [m["id"] for m in again["changed"]] == [version_msg]  # records are staff's to change
    with Session(seeded.app.engine) as s:
        fixed = s.get(StoredMessage, query_id)
        events = s.exec(select(Event).where(Event.kind == "reprocessed")).all()
    assert (fixed.intent, fixed.references) == ("status_query", ["JB2025-0001"])
    assert [e.message_pk for e in events] == [query_id]  # applied once
    assert _counts(seeded) == before
    one = json.loads(_ok("reprocess", str(query_id), "--json", config=seeded.config))
    assert one["messages"] == 1 and one["changed"] == []


def test_every_staff_command_runs_on_the_seeded_database(seeded: Seeded) -> None:
    reference = json.loads(_ok("list", "--json", config=seeded.config))[0]["reference"]
    for args in (("list",), ("show", reference), ("status", reference), ("messages",), ("outbox",),
                 ("stats",), ("digest", *TODAY)):
        assert _ok(*args, config=seeded.config).strip()
    refused = jiebang("recommend", reference, "--rank", "1", config=seeded.config)
    assert refused.returncode == 2 and "role: city" in refused.stderr.decode()
    help_text = jiebang("--help").stdout.decode()
    for name in ("digest", "export", "stats", "reprocess", "recommend"):
        assert name in help_text


@pytest.mark.parametrize(("option", "value", "named"), [
    ("--direction", "99", "8"), ("--status", "nope", "under_review"), ("--city", "济南", "济南市"),
    ("--channel", "post", "via_city"), ("--has-deficiency", "NOT_A_CODE", "LATE"),
])
def test_a_filter_value_the_round_does_not_have_exits_2_naming_the_allowed(
        tmp_path: Path, option: str, value: str, named: str) -> None:
    from support.helpers import write_config

    config = write_config(tmp_path, db_url=f"sqlite:///{tmp_path / 'jiebang.db'}")
    proc = jiebang("list", option, value, config=config)
    assert proc.returncode == 2
    error = proc.stderr.decode()
    assert option in error and value in error and named in error


def test_outbox_show_prints_a_sent_answer_as_its_recipient_reads_it(seeded: Seeded) -> None:
    with Session(seeded.app.engine) as s:
        mail = s.exec(select(OutboxMail).where(OutboxMail.kind == "ack")).first()
        assert mail is not None
        mail_id, subject, first_line = mail.id, mail.subject, mail.text_body.strip().splitlines()[0]
    shown = _ok("outbox", "--show", str(mail_id), config=seeded.config)
    assert subject in shown and first_line in shown and ", ".join(mail.to_addrs) in shown
    missing = jiebang("outbox", "--show", "999999", config=seeded.config)
    assert missing.returncode == 1 and "999999" in missing.stderr.decode()


@pytest.mark.parametrize("name", ["digest-2025-01-14", "digest.htm", "digest.txt"])
def test_digest_to_file_writes_exactly_that_path(tmp_path: Path, name: str) -> None:
    """`--to-file PATH` writes the HTML digest at PATH itself (no PATH.html beside it, no companion
    written over it); the text, chart and workbook go beside it and are named."""
    from support.helpers import write_config

    config = write_config(tmp_path, db_url=f"sqlite:///{tmp_path / 'jiebang.db'}")
    _ok("db", "upgrade", config=config)
    target = tmp_path / "out" / name
    said = _ok("digest", "--to-file", str(target), *TODAY, config=config)
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not target.with_name(name + ".html").exists()
    written = sorted(p.name for p in target.parent.iterdir())
    assert len(written) == 4 and name in written
    for companion in written:
        if companion != name:
            assert companion in said
    (book,) = [p for p in target.parent.iterdir() if p.suffix == ".xlsx"]
    assert openpyxl.load_workbook(book).sheetnames[0] == "申报汇总"
