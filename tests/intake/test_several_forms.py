"""One mail, several forms (issue #22, item 3).

Each form is its own application, unless two are versions of one (same lead unit, same
direction) or copies of one form (its Word, PDF and scan). Between versions the one the
mail body or the file name marks as final counts (定稿/终稿/修改后/v2 …, "以…为准"), else
the later modified (docx core properties, PDF ModDate), else the later in the mail; nothing
of the draft leaks into it, and partners come only from their own form. One lead unit in
two directions is two applications, each with DUPLICATE_LEAD.

The cases are generated here; LibreOffice runs once per module, for the PDF copies.
"""

from __future__ import annotations

import email
import email.policy
import functools
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import docx
import pytest
from support.formfactory import CST, FormSpec, make_docx, make_eml, make_uscc, to_pdf, variant
from support.helpers import jiebang, write_config

from intake.documents.stamps import saved_at
from intake.extract.fields import FormReading
from intake.extract.merge import pair_readings, settle_readings
from intake.model import Application, Understanding
from intake.understand import understand
from tracker.config import load_settings

SAMPLES_CONFIG = Path(__file__).resolve().parents[1] / "support" / "samples-config.yaml"
POLICY = load_settings(SAMPLES_CONFIG).round_policy()
BODY = "您好，附件是我单位的揭榜挂帅申报书，请查收。"

A = FormSpec(unit="山东甲数据科技有限公司", uscc=make_uscc("370102", body="MA3C4D5E6"), nature="省属企业",
             direction=2, task_name="数据产品质量评价关键技术研究与示范", task_types=["theory"],
             outcomes=["研究报告"], partners=["山东大学", "济南数据研究院"], email="jia@example.cn")
A0 = variant(A, partners=[])  # the same unit's form without partners
A_DIR4 = variant(A, direction=4, task_name="公共数据流通交易撮合平台建设", task_types=["application"],
                 outcomes=["应用场景"], partners=["山东财经大学"])
B = FormSpec(unit="青岛乙信息技术有限公司", uscc=make_uscc("370203", body="MA1Q2W3E4"), nature="省属企业",
             city="青岛市", address="山东省青岛市市南区香港中路1号", direction=4,
             task_name="海洋数据流通交易平台建设与运营", task_types=["application"], outcomes=["应用场景"],
             partners=["中国海洋大学"], email="yi@example.cn")
C = FormSpec(unit="中国丙通信集团山东有限公司", uscc=make_uscc("370000", body="MA6P7L8K9"), nature="中央驻鲁企业",
             direction=8, task_name="数据安全监测预警平台研发", task_types=["technology"],
             outcomes=["创新成果"], partners=["山东师范大学", "齐鲁工业大学"], email="bing@example.cn")
# a form whose unit name and code were left blank: nothing but its file name to go by
BLANK = variant(A0, unit="", uscc="")
# two versions of A's application: the draft says other things than the final
DRAFT = variant(A, task_name="数据产品质量评价方法研究", task_types=["theory"], outcomes=["研究报告"],
                partners=["山东大学", "济南数据研究院"])
FINAL = variant(A, task_name="数据产品质量评价关键技术研究与示范", task_types=["theory", "technology"],
                outcomes=["研究报告", "创新成果"], partners=["山东大学"])
FINAL_ALONE = variant(FINAL, partners=[])  # the final dropped every partner
FINAL_DIR4 = variant(FINAL, direction=4)  # the final moved to another direction
DRAFT_UNTYPED = variant(DRAFT, task_types=[])  # a version that ticks no task type


def expected(spec: FormSpec, **over: Any) -> dict[str, Any]:
    app = {"unit": spec.unit or None, "direction": spec.direction, "task_name": spec.task_name,
           "task_types": list(spec.task_types), "partners": list(spec.partners)}
    return {**app, **over}


_WORD: dict[tuple[str, datetime | None], bytes] = {}


def word(spec: FormSpec, saved: datetime | None = None) -> bytes:
    """The form as a .docx (built once), last saved at *saved* if given."""
    key = (repr(spec), saved)
    if key not in _WORD:
        data = make_docx(spec)
        if saved is not None:
            document = docx.Document(io.BytesIO(data))
            document.core_properties.modified = saved
            out = io.BytesIO()
            document.save(out)
            data = out.getvalue()
        _WORD[key] = data
    return _WORD[key]


PDF_OF = (A0, FINAL)


@functools.cache
def _pdfs() -> dict[str, bytes] | None:
    made = to_pdf([word(s) for s in PDF_OF])  # one LibreOffice run for the module
    return {repr(s): p for s, p in zip(PDF_OF, made, strict=True)} if made else None


def pdf(spec: FormSpec) -> bytes:
    made = _pdfs()
    if made is None:
        pytest.skip("LibreOffice not installed")
    return made[repr(spec)]


@dataclass
class Case:
    files: list[tuple[str, Any]]  # (file name, bytes or a callable making them)
    apps: list[dict[str, Any]]
    body: str = BODY
    has: set[str] = field(default_factory=set)  # codes the mail must have (every other error is wrong)
    docs: list[list[str]] | None = None  # each application's documents, in order
    dup: set[int] = field(default_factory=set)  # the applications DUPLICATE_LEAD names

    def mail(self) -> bytes:
        return make_eml(sender="shenbao@example.cn", body=self.body,
                        attachments=[(n, d() if callable(d) else d) for n, d in self.files])


JAN5, JAN12 = datetime(2025, 1, 5, 9, 0, tzinfo=UTC), datetime(2025, 1, 12, 16, 30, tzinfo=UTC)

CASES: dict[str, Case] = {
    # -- several units -------------------------------------------------------------------------
    "two_units_each_with_partners": Case(
        [("山东甲申报书.docx", word(A)), ("青岛乙申报书.docx", word(B))], [expected(A), expected(B)]),
    "two_units_same_file_name": Case(
        [("揭榜挂帅申报书.docx", word(A0)), ("揭榜挂帅申报书.docx", word(B))], [expected(A0), expected(B)]),
    "two_units_one_left_its_name_blank": Case(
        [("申报书.docx", word(BLANK)), ("申报书(1).docx", word(B))],
        [expected(BLANK, unit=None), expected(B)]),
    "word_pdf_and_an_unrelated_form": Case(
        [("山东甲申报书.docx", word(A0)), ("山东甲申报书（盖章）.pdf", lambda: pdf(A0)),
         ("青岛乙申报书.docx", word(B))],
        [expected(A0), expected(B)], docs=[["山东甲申报书.docx", "山东甲申报书（盖章）.pdf"], ["青岛乙申报书.docx"]]),
    "word_pdf_and_an_unrelated_form_generic_names": Case(
        [("申报书.docx", word(A0)), ("申报书.pdf", lambda: pdf(A0)), ("申报书(1).docx", word(B))],
        [expected(A0), expected(B)], docs=[["申报书.docx", "申报书.pdf"], ["申报书(1).docx"]]),
    "three_forms": Case(
        [("1.申报书.docx", word(A0)), ("2.申报书.docx", word(B)), ("3.申报书.docx", word(C))],
        [expected(A0), expected(B), expected(C)]),
    # -- one unit, two directions -----------------------------------------------------------------
    "one_unit_two_directions": Case(
        [("申报书-数据治理.docx", word(A)), ("申报书-数据流通交易.docx", word(A_DIR4))],
        [expected(A), expected(A_DIR4)], has={"DUPLICATE_LEAD"}, dup={0, 1}),
    "one_unit_two_directions_same_file_name": Case(
        [("申报书.docx", word(A)), ("申报书(1).docx", word(A_DIR4))],
        [expected(A), expected(A_DIR4)], has={"DUPLICATE_LEAD"}, dup={0, 1}),
    "three_forms_two_of_one_unit": Case(
        [("甲-治理.docx", word(A)), ("乙.docx", word(B)), ("甲-交易.docx", word(A_DIR4))],
        [expected(A), expected(B), expected(A_DIR4)], has={"DUPLICATE_LEAD"}, dup={0, 2}),
    # -- versions of one application ------------------------------------------------------------------
    "draft_then_final_by_file_name": Case(
        [("申报书（初稿）.docx", word(DRAFT)), ("申报书（定稿）.docx", word(FINAL))], [expected(FINAL)],
        docs=[["申报书（定稿）.docx"]]),
    # the final first in the mail, without the partners the draft still lists
    "final_then_draft_by_file_name": Case(
        [("山东甲申报书（定稿）.docx", word(FINAL_ALONE)), ("山东甲申报书（初稿）.docx", word(DRAFT))],
        [expected(FINAL_ALONE)], docs=[["山东甲申报书（定稿）.docx"]]),
    "final_without_partners_takes_none_from_the_draft": Case(
        [("申报书-初稿.docx", word(DRAFT)), ("申报书-终稿.docx", word(FINAL_ALONE))], [expected(FINAL_ALONE)]),
    "body_says_the_final_counts": Case(
        [("申报书（定稿）.docx", word(FINAL_ALONE)), ("申报书（初稿）.docx", word(DRAFT))], [expected(FINAL_ALONE)],
        body="您好，附件为我单位申报书的初稿和定稿，以定稿为准。"),
    "body_names_the_file_that_counts": Case(
        [("山东甲申报书0115.docx", word(FINAL_ALONE)), ("山东甲申报书0110.docx", word(DRAFT))],
        [expected(FINAL_ALONE)], body="您好，附件两份申报书请以“山东甲申报书0115.docx”为准，另一份作废。"),
    "body_voids_the_earlier_one": Case(
        [("山东甲申报书-1.docx", word(FINAL_ALONE)), ("山东甲申报书-2.docx", word(DRAFT))],
        [expected(FINAL_ALONE)], body="您好，“山东甲申报书-2.docx”填写有误，请作废。"),
    "revised_one_by_file_name": Case(
        [("申报书（修改后）.docx", word(FINAL_ALONE)), ("申报书.docx", word(DRAFT))], [expected(FINAL_ALONE)]),
    "v2_over_v1": Case(
        [("申报书_v2.docx", word(FINAL_ALONE)), ("申报书_v1.docx", word(DRAFT))], [expected(FINAL_ALONE)]),
    "later_modified_counts": Case(
        [("山东甲申报书.docx", word(FINAL_ALONE, JAN12)), ("山东甲申报书(1).docx", word(DRAFT, JAN5))],
        [expected(FINAL_ALONE)]),
    "draft_word_final_word_and_pdf": Case(
        [("申报书（初稿）.docx", word(DRAFT)), ("申报书（定稿）.docx", word(FINAL)),
         ("申报书（定稿）.pdf", lambda: pdf(FINAL))],
        [expected(FINAL)], docs=[["申报书（定稿）.docx", "申报书（定稿）.pdf"]]),
    "final_moves_to_another_direction": Case(
        [("申报书（初稿）.docx", word(DRAFT)), ("申报书（定稿）.docx", word(FINAL_DIR4))], [expected(FINAL_DIR4)]),
    # nothing tells which version is final: the later in the mail is recorded, and no
    # deficiency that only one of the two has is mailed (staff look)
    "cannot_tell_which_is_final": Case(
        [("申报书.docx", word(FINAL)), ("申报书(1).docx", word(DRAFT_UNTYPED))], [expected(DRAFT_UNTYPED)]),
}


@functools.cache
def read(name: str) -> Understanding:
    return understand(CASES[name].mail(), POLICY)


def _key(app: dict[str, Any]) -> tuple[Any, ...]:
    return (app["unit"], app["direction"], app["task_name"], sorted(app["task_types"]), app["partners"])


def right(name: str) -> int:
    """How many of the case's applications came out exactly right (unit, direction, task,
    task types, partners), each matched once."""
    got = [_key(a.contract()) for a in read(name).applications]
    count = 0
    for want in map(_key, CASES[name].apps):
        if want in got:
            got.remove(want)
            count += 1
    return count


def tally() -> tuple[int, int, int, list[str]]:
    """(applications right, applications the cases have, applications read, cases not wholly
    right) — the figures benchmarks/README.md quotes."""
    ok = total = produced = 0
    wrong = []
    for name, case in CASES.items():
        try:
            n, made = right(name), len(read(name).applications)
        except pytest.skip.Exception:
            continue
        ok, total, produced = ok + n, total + len(case.apps), produced + made
        if n != len(case.apps) or made != len(case.apps):
            wrong.append(name)
    return ok, total, produced, wrong


@pytest.mark.parametrize("name", list(CASES))
def test_each_form_is_its_own_application(name: str) -> None:
    case, got = CASES[name], read(name)
    apps = [a.contract() for a in got.applications]
    assert [_key(a) for a in apps] == [_key(a) for a in case.apps], apps
    if case.docs is not None:
        assert [a["documents"] for a in apps] == case.docs
    errors = {d.code for d in got.deficiencies if d.severity == "error"}
    assert errors <= case.has, got.deficiencies
    assert case.has <= {d.code for d in got.deficiencies}, got.deficiencies


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.dup or len(c.apps) > 1])
def test_duplicate_lead_names_exactly_the_one_units_applications(name: str) -> None:
    case, got = CASES[name], read(name)
    dups = [d for d in got.deficiencies if d.code == "DUPLICATE_LEAD"]
    assert {d.application for d in dups} == case.dup
    assert all(d.severity == "error" for d in dups)
    for d in dups:  # one lead unit, the directions it leads: the sender sent them all
        assert A.unit in d.message and "1个方向" in d.message


def test_inspect_shows_duplicate_lead(tmp_path: Path) -> None:
    mail = tmp_path / "two-directions.eml"
    mail.write_bytes(CASES["one_unit_two_directions"].mail())
    proc = jiebang("inspect", str(mail), "--json", config=SAMPLES_CONFIG)
    assert proc.returncode == 0, proc.stderr.decode()
    result = json.loads(proc.stdout)
    assert [a["direction"] for a in result["applications"]] == [2, 4]
    assert [d["code"] for d in result["deficiencies"]].count("DUPLICATE_LEAD") == 2


# -- through the tracker: two submissions, each answered about its own application --------------


def _run_once(tmp_path: Path, mail: bytes) -> tuple[Path, list[email.message.EmailMessage]]:
    config = write_config(tmp_path, db_url=f"sqlite:///{tmp_path}/jiebang.db")
    inbox = tmp_path / "var" / "inbox"
    for sub in ("tmp", "new", "cur"):
        (inbox / sub).mkdir(parents=True, exist_ok=True)
    (inbox / "new" / "1.several.eml").write_bytes(mail)
    proc = jiebang("run", "--once", config=config)
    assert proc.returncode == 0, proc.stderr.decode()
    sent = sorted((tmp_path / "var" / "outbox" / "new").iterdir())
    return config, [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                    for p in sent]


def _text(mail: email.message.EmailMessage) -> str:
    body = mail.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def test_run_once_records_two_submissions_each_acknowledged_for_its_own_form(tmp_path: Path) -> None:
    config, sent = _run_once(tmp_path, make_eml(
        sender="shenbao@example.cn", subject="揭榜挂帅申报书（两家单位）", body=BODY,
        received=datetime(2025, 1, 10, 10, 0, tzinfo=CST),
        attachments=[("山东甲申报书.docx", word(A)), ("青岛乙申报书.docx", word(B))]))
    listed = json.loads(jiebang("list", "--json", config=config).stdout)
    assert sorted((s["unit"], s["direction"]) for s in listed) == [(A.unit, 2), (B.unit, 4)]
    assert all(s["deficiencies"] == [] for s in listed)
    by_ref = {s["reference"]: s for s in listed}
    acks = [m for m in sent if any(ref in str(m["Subject"]) for ref in by_ref)]
    assert len(acks) == 2
    for mail in acks:
        [ref] = [r for r in by_ref if r in str(mail["Subject"])]
        mine, other = (A, B) if by_ref[ref]["unit"] == A.unit else (B, A)
        text = _text(mail)
        assert mine.unit in text and mine.task_name in text
        assert other.unit not in text and other.task_name not in text
        assert ("山东甲申报书.docx" in text) == (mine is A) and ("青岛乙申报书.docx" in text) == (mine is B)


def test_run_once_one_unit_two_directions_opens_duplicate_lead_on_both(tmp_path: Path) -> None:
    config, sent = _run_once(tmp_path, CASES["one_unit_two_directions"].mail())
    listed = json.loads(jiebang("list", "--json", config=config).stdout)
    assert sorted(s["direction"] for s in listed) == [2, 4]
    assert all(s["deficiencies"] == ["DUPLICATE_LEAD"] for s in listed)
    notices = [m for m in sent if any(s["reference"] in str(m["Subject"]) for s in listed)]
    assert len(notices) == 2 and all("每个揭榜单位限牵头申报1个方向" in _text(m) for m in notices)


# -- the pieces, without mail ---------------------------------------------------------------------


def _reading(name: str, direction: int | None, *, scanned: bool = False, task: str = A.task_name) -> FormReading:
    fmt = "docx" if name.endswith(".docx") else "pdf"
    app = Application(unit=A.unit, uscc=A.uscc, direction=direction, task_name=task, documents=[name])
    return FormReading(app, name=name, format=fmt, scanned=scanned,
                       directions={direction} if direction else set(), has_content=True)


def test_a_pdf_whose_direction_reads_otherwise_is_still_the_word_files_copy() -> None:
    word_, pdf_ = _reading("申报书.docx", 2), _reading("申报书（盖章）.pdf", 4)
    [one], unpaired = settle_readings([word_, pdf_])
    assert not unpaired and one.form.application.direction == 2
    assert one.form.application.documents == ["申报书.docx", "申报书（盖章）.pdf"]


def test_a_scan_of_one_units_two_forms_goes_with_its_direction_or_to_staff() -> None:
    two = [_reading("治理.docx", 2), _reading("交易.docx", 4, task=A_DIR4.task_name)]
    forms, unpaired = pair_readings([*two, _reading("扫描件.pdf", 4, scanned=True)])
    assert [f.application.documents for f in forms] == [["治理.docx"], ["交易.docx", "扫描件.pdf"]]
    forms, unpaired = pair_readings([*two, _reading("扫描件.pdf", None, scanned=True)])
    assert [r.name for r in unpaired] == ["扫描件.pdf"]  # as like one as the other: staff decide


def test_the_body_may_say_the_latest_counts() -> None:
    old, new = _reading("申报书.docx", 2, task="旧任务名称"), _reading("申报书(1).docx", 2, task="新任务名称")
    [one], _ = settle_readings([old, new], body="以最后发送的为准。")
    assert (one.how, one.form.application.task_name) == ("body", "新任务名称")
    [one], _ = settle_readings([old, new], modified=["2025-01-12T08:00:00Z", "2025-01-10T08:00:00Z"])
    assert (one.how, one.form.application.task_name) == ("modified", "旧任务名称")


def test_saved_at_reads_word_and_pdf_stamps() -> None:
    assert saved_at(word(FINAL_ALONE, JAN12), "docx") == "2025-01-12T16:30:00Z"
    assert saved_at(b"%PDF-1.7 /ModDate(D:20250110083000+08'00') /CreationDate(D:20250101)", "pdf") \
        == "2025-01-10T00:30:00Z"
    assert saved_at(b"%PDF-1.4 /CreationDate (D:20250110083000)", "pdf") == "2025-01-10T00:30:00Z"  # China's time
    assert saved_at(b"<xmp:ModifyDate>2025-01-10T08:30:00Z</xmp:ModifyDate>", "pdf") == "2025-01-10T08:30:00Z"
    assert saved_at(b"not a pdf at all", "pdf") is None and saved_at(b"PK\x03\x04junk", "docx") is None
    assert saved_at(b"/ModDate(D:20251399)", "pdf") is None  # no 13th month


def test_a_word_of_error_voids_only_the_file_it_names() -> None:
    draft, final = _reading("申报书（初稿）.docx", 2, task="旧任务名称"), _reading("申报书（定稿）.docx", 2)
    [one], _ = settle_readings([draft, final], body="附件为“申报书（定稿）.docx”，如有错误请联系我们。")
    assert (one.how, one.form.application.task_name) == ("name", A.task_name)  # not voided: 定稿 counts
    [one], _ = settle_readings([final, draft], body="“申报书（定稿）.docx”填写有误，以初稿为准。")
    assert (one.how, one.form.application.task_name) == ("body", "旧任务名称")
