"""Every kind of notice in every situation says one thing (``support.coherence``).

The items are the real ones: each deficiency code's finding as intake's rule words it
(the table-driven cases of tests/intake/test_checks.py) with the code's fix from the
catalogue, so a rule that repeats or contradicts its code's fix fails here. The pipeline
counterpart, with the contexts the tracker builds, is
tests/tracker/outreach/test_notice_coherence.py.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from support.coherence import Mail, incoherences, sentences
from support.mail_contexts import CONTEXTS

from campaign import CODES, RoundPolicy
from campaign.codes import quota_exceeded_message
from intake.checks import run_checks
from notifier.render import render, situation, template_names
from notifier.templates import DeficiencyItem
from notifier.wording import applicant_items, late_version_item, wording

_spec = importlib.util.spec_from_file_location(
    "intake_check_cases", Path(__file__).resolve().parents[1] / "intake" / "test_checks.py")
assert _spec is not None and _spec.loader is not None
_cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_cases)

ON_TIME = datetime(2025, 1, 14, 2, 2, tzinfo=UTC)  # 10:02 in Shanghai, before every deadline
AFTER = datetime(2025, 1, 22, 2, 0, tzinfo=UTC)  # after the province's deadline
DEADLINE = date(2025, 1, 20)
UNIT, REF = "山东数据交易有限公司", "JB2025-0007"


def _findings(code: str) -> list[Any]:
    return [d for d in run_checks(_cases.CASES[code]()).deficiencies if d.code == code]


# the applicant-facing codes whose finding a per-message rule words, and the cross rules'
FINDINGS: dict[str, list[Any]] = {code: _findings(code) for code in sorted(_cases.CASES)
                                  if CODES[code].severity == "error"}
FINDINGS["CITY_QUOTA_EXCEEDED"] = [{"code": "CITY_QUOTA_EXCEEDED", "severity": "error",
                                    "message": quota_exceeded_message("济南市", "（六）数据流通利用技术", 3, 2)}]
FINDINGS["DUPLICATE_LEAD"] = [{"code": "DUPLICATE_LEAD", "severity": "error",
                               "message": f"{UNIT}作为揭榜单位在本轮申报中牵头了2个方向；每个揭榜单位限牵头申报1个方向。"}]


def item(code: str) -> DeficiencyItem:
    (found,) = applicant_items(FINDINGS[code][:1])
    return found


def _unknown_city() -> DeficiencyItem:
    """WRONG_CHANNEL for a unit whose city has no bureau in the configuration."""
    facts = _cases.CASES["WRONG_CHANNEL"]()
    facts = dataclasses.replace(facts, policy=RoundPolicy(catalogue=facts.policy.catalogue))
    (found,) = applicant_items(run_checks(facts).deficiencies)
    assert "所在设区市大数据局" in found["message"]
    return found


CORRECTABLE = [c for c in sorted(FINDINGS) if c not in ("LATE", "WRONG_CHANNEL")]
LATE_STANDS = late_version_item([2], 1, AFTER, DEADLINE)


def test_every_applicant_code_has_a_finding_here() -> None:
    applicant_codes = {c for c, d in CODES.items() if d.severity == "error" and c != "ACCEPTANCE_OUTCOME_MISSING"}
    assert applicant_codes <= set(FINDINGS), applicant_codes - set(FINDINGS)


@pytest.mark.parametrize("code", sorted(FINDINGS))
def test_one_wording_per_code(code: str) -> None:
    """The rule says what it found; the catalogue says what to do — never both the same step."""
    fix = wording(code).fix
    for finding in applicant_items(FINDINGS[code]):
        for said in sentences(finding["message"]):
            assert "请" not in said, f"{code}: the finding gives a step of its own: {said}"
        assert not incoherences(Mail(code, "", finding["message"] + "\n" + fix)), code


def _deficiency(items: list[DeficiencyItem], received: datetime = ON_TIME, deadline: date | None = DEADLINE,
                reference: str | None = REF) -> dict[str, Any]:
    return {"reference": reference, "unit": UNIT if reference else None, "items": items,
            "received_at": received, "deadline": deadline}


DEFICIENCY = {
    **{f"open × {c}": _deficiency([item(c)]) for c in CORRECTABLE},
    "open × every correctable code": _deficiency([item(c) for c in CORRECTABLE]),
    "open × no attachment, no reference": _deficiency([item("NO_ATTACHMENT")], reference=None),
    "open × no deadline known": _deficiency([item("USCC_INVALID")], deadline=None),
    # a notice written after the deadline about a version that came before it (a staff correction)
    "closed × every correctable code": _deficiency([item(c) for c in CORRECTABLE], received=AFTER),
    "late, nothing earlier": _deficiency([item("LATE")], received=AFTER, deadline=None),
    "late, nothing earlier, other findings too": _deficiency(
        [item("NO_ATTACHMENT"), item("USCC_INVALID"), item("LATE")], received=AFTER, deadline=DEADLINE),
    "late, version 1 stands": _deficiency([LATE_STANDS], received=AFTER, deadline=None),
    "wrong channel, city not configured": _deficiency([_unknown_city(), item("USCC_INVALID")]),
    "wrong channel, late as well": _deficiency([_unknown_city(), item("LATE")], received=AFTER, deadline=None),
}


@pytest.mark.parametrize("case", sorted(DEFICIENCY))
def test_deficiency_notice_says_one_thing(case: str) -> None:
    context = DEFICIENCY[case]
    out = render("deficiency", context)
    for body in (out.text, _visible(out.html)):
        assert not incoherences(Mail(case, out.subject, body, context["received_at"])), incoherences(
            Mail(case, out.subject, body, context["received_at"]))
    kind = situation(context)
    assert ("补正" in out.subject) == (kind == "open"), (case, out.subject)
    if kind == "late":
        assert "原则上不予受理" in out.text or "以按时送达的第1版为准" in out.text
        assert "请于" not in out.text
    if kind == "wrong_channel":
        assert "所在设区市大数据局" in out.text and "回复本邮件" not in out.text
    if kind == "closed":
        assert "申报已截止" in out.text and "处理：" not in out.text


def test_no_attachment_gives_its_instruction_once() -> None:
    out = render("deficiency", DEFICIENCY["open × no attachment, no reference"])
    assert out.text.count("作为邮件附件") == 1 and out.text.count("重新发送") == 1


def test_a_fix_shared_by_two_findings_is_said_once() -> None:
    twice = applicant_items([{"code": "UNREADABLE_DOCUMENT", "severity": "error", "message": f"附件“{n}”无法打开。"}
                             for n in ("a.docx", "b.docx")])
    out = render("deficiency", _deficiency(twice))
    assert out.text.count(wording("UNREADABLE_DOCUMENT").fix) == 1 and "b.docx" in out.text


def _status(items: list[DeficiencyItem], label: str = "材料待补正") -> dict[str, Any]:
    return {"reference": REF, "unit": UNIT, "status_label": label, "versions": 2, "last_received_at": AFTER,
            "items": items}


def _no_fix(i: DeficiencyItem) -> DeficiencyItem:
    return DeficiencyItem(code=i["code"], title=i["title"], message=i["message"], fix="")


STATUS = {
    "complete": (_status([], "材料齐全，待评审"), ON_TIME),
    "incomplete, deadline open": (_status([item(c) for c in CORRECTABLE]), ON_TIME),
    "incomplete, deadline passed": (_status([_no_fix(item(c)) for c in CORRECTABLE], "材料不完整（申报已截止）"), AFTER),
    "late, nothing earlier": (_status([item("LATE")], "逾期送达"), AFTER),
    "late, version 1 stands and is complete": (_status([LATE_STANDS], "材料齐全，待评审"), AFTER),
    "late, version 1 stands with a problem": (
        _status([LATE_STANDS, _no_fix(item("OUTCOME_MISSING"))], "材料不完整（申报已截止）"), AFTER),
    "wrong channel": (_status([item("WRONG_CHANNEL")], "应向所在设区市大数据局报送"), ON_TIME),
    "decided": (_status([], "已入选"), AFTER),
}


@pytest.mark.parametrize("case", sorted(STATUS))
def test_status_reply_says_one_thing(case: str) -> None:
    context, asked = STATUS[case]
    out = render("status", context)
    for body in (out.text, _visible(out.html)):
        found = incoherences(Mail(case, out.subject, body, asked))
        assert not found, found
    if "stands" in case:
        assert "以按时送达的第1版为准" in out.text and "没有需要" not in out.text
    if "passed" in case or "problem" in case:
        assert "申报已截止" in out.text and "处理：理论研究" not in out.text


def _package(rows: list[list[DeficiencyItem]], items: list[DeficiencyItem], received: datetime,
             deadline: date | None = DEADLINE) -> dict[str, Any]:
    return {"city": "济南市", "received_at": received, "version": 1, "deadline": deadline, "items": items,
            "rows": [{"reference": f"JB2025-00{n + 10}", "rank": n + 1, "unit": f"济南{n}号数据有限公司",
                      "direction_name": "数据流通利用技术", "problems": problems} for n, problems in enumerate(rows)]}


PACKAGE = {
    "clean": _package([[], []], [], ON_TIME),
    "one problem in two rows": _package([[item("MISSING_PDF_VERSION")], [item("MISSING_PDF_VERSION")]],
                                        [item("MISSING_RECOMMENDATION_TABLE")], ON_TIME),
    "over quota": _package([[item("CITY_QUOTA_EXCEEDED")], []], [], ON_TIME),
    "late": _package([[item("LATE"), item("MISSING_PDF_VERSION")], [item("LATE")]],
                     [item("MISSING_RECOMMENDATION_TABLE")], AFTER, None),
    "late, earlier versions stand": _package([[LATE_STANDS], [LATE_STANDS]], [], AFTER, None),
    "problems, deadline passed": _package([[item("MISSING_WORD_VERSION")]], [], AFTER),
}


@pytest.mark.parametrize("case", sorted(PACKAGE))
def test_package_receipt_says_one_thing(case: str) -> None:
    context = PACKAGE[case]
    out = render("package_receipt", context)
    for body in (out.text, _visible(out.html)):
        found = incoherences(Mail(case, out.subject, body, context["received_at"]))
        assert not found, found
    if case == "one problem in two rows":
        assert out.text.count(wording("MISSING_PDF_VERSION").fix) == 1
        assert out.text.count("重新报送") == 1
    if case.startswith("late"):
        assert "请于" not in out.text and "重新报送。" not in out.text.replace("不能再补正或重新报送。", "")


REDIRECT = {
    "city deadline open": ({"deadline_city_applicant": date(2025, 1, 15)}, ON_TIME),
    "city deadline passed": ({"deadline_city_applicant": None}, datetime(2025, 1, 17, 2, 0, tzinfo=UTC)),
    "bureau without contacts": ({"bureau": {"contact": "", "phone": "", "emails": []}, "unit": None}, ON_TIME),
}


@pytest.mark.parametrize("case", sorted(REDIRECT))
def test_redirect_sends_to_the_city_bureau_not_to_us(case: str) -> None:
    change, received = REDIRECT[case]
    out = render("redirect", {**CONTEXTS["redirect"], **change})
    for body in (out.text, _visible(out.html)):
        found = incoherences(Mail(case, out.subject, body, received))
        assert not found, found
        assert "回复本邮件" not in body and "济南市大数据局" in body
    if case == "city deadline open":
        assert "2025年1月15日24时前" in out.text and "王老师" in out.text and "jnsdsj@jn.shandong.cn" in out.text


@pytest.mark.parametrize("name", [n for n in template_names() if n != "digest"])
def test_every_template_example_says_one_thing(name: str) -> None:
    """Every kind, with its example context (the reminder with real findings)."""
    context = dict(CONTEXTS[name])
    if "items" in context and name != "status_list":
        context["items"] = [item(c) for c in CORRECTABLE]
    if "rows" in context:
        context["rows"] = [{**row, "problems": [item("USCC_INVALID")]} for row in context["rows"]]
    out = render(name, context)
    at = context.get("received_at") or ON_TIME
    for body in (out.text, _visible(out.html)):
        found = incoherences(Mail(name, out.subject, body, at))
        assert not found, found


def _visible(html: str) -> str:
    """The words of an HTML body, one block a line (what its reader sees)."""
    import re

    text = re.sub(r"<(br|/p|/li|/tr|/h\d|/ol|/ul)[^>]*>", "\n", html)
    return re.sub(r"<[^>]+>", "", text)
