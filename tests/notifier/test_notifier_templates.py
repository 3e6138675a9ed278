"""Every template renders with a realistic context; wording covers SPEC §3."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from datetime import datetime

import jinja2
import pytest
from support.mail_contexts import CONTEXTS

from campaign import CODES
from notifier.render import TemplateContextError, render, template_names
from notifier.templates import CONTEXTS as DOCUMENTED
from notifier.templates import KIND_OF_TEMPLATE
from notifier.wording import applicant_items, wording


def test_every_template_has_twins_and_a_documented_context() -> None:
    assert set(template_names()) == set(DOCUMENTED) == set(CONTEXTS) == set(KIND_OF_TEMPLATE)


@pytest.mark.parametrize("name", sorted(CONTEXTS))
def test_example_context_matches_the_documented_one(name: str) -> None:
    assert set(CONTEXTS[name]) == set(typing.get_type_hints(DOCUMENTED[name]))


@pytest.mark.parametrize("name", sorted(CONTEXTS))
def test_template_renders(name: str) -> None:
    out = render(name, CONTEXTS[name])
    assert out.subject and "\n" not in out.subject and len(out.subject) <= 200
    assert out.html.startswith("<!DOCTYPE html>") and "</html>" in out.html
    assert "山东省大数据局" in out.text and "山东省大数据局" in out.html
    for body in (out.subject, out.text, out.html):
        assert "{{" not in body and "{%" not in body and "None" not in body
    for key in ("reference", "unit", "city"):
        value = CONTEXTS[name].get(key)
        if value:
            assert value in out.text and value in out.html
    for item in CONTEXTS[name].get("items", []):
        assert (item.get("fix") or item["status_label"]) in out.text


@pytest.mark.parametrize("name", [n for n in sorted(CONTEXTS) if CONTEXTS[n]])
def test_missing_key_fails_loudly(name: str) -> None:
    context = dict(CONTEXTS[name])
    context.pop(sorted(context)[0])
    with pytest.raises(jinja2.UndefinedError):
        render(name, context)


def test_times_are_shown_in_shanghai() -> None:
    out = render("ack", CONTEXTS["ack"])  # received 02:02 UTC
    assert "2025年1月14日 10:02" in out.text
    with pytest.raises(TemplateContextError):
        render("ack", {**CONTEXTS["ack"], "received_at": datetime(2025, 1, 14, 10, 2)})


def test_deadline_and_numbering_wording() -> None:
    assert "（四）数据流通交易" in render("ack", CONTEXTS["ack"]).text
    assert "2025年1月20日24时前" in render("deficiency", CONTEXTS["deficiency"]).text
    assert "今天是报送截止日" in render("reminder_city", CONTEXTS["reminder_city"]).text
    assert "距截止还有3天" in render("reminder_applicant", CONTEXTS["reminder_applicant"]).text


def test_markup_from_mail_is_escaped_in_html() -> None:
    unit = '<script>alert("x")</script>恶意公司'
    out = render("ack", {**CONTEXTS["ack"], "unit": unit, "files": ['<img src=x onerror=1>.pdf']})
    assert "<script>" not in out.html and "<img src=x" not in out.html
    assert "&lt;script&gt;" in out.html
    assert unit in out.text  # plain text shows it as it is


def test_control_characters_never_reach_output() -> None:
    out = render("ack", {**CONTEXTS["ack"], "unit": "某公司\r\nBcc: evil@x.cn\x00\u2028"})
    assert "\r" not in out.subject + out.text + out.html
    assert "\x00" not in out.text and "\u2028" not in out.html
    assert "\nBcc:" not in out.text


# --------------------------------------------------------------------------- wording


def test_every_code_has_wording_with_its_severity() -> None:
    for code in CODES:
        said = wording(code)
        assert said.severity == CODES[code].severity
        assert said.title and said.fix.endswith("。")


@dataclass
class Finding:
    code: str
    severity: str
    message: str


def test_applicant_items_keep_errors_and_drop_warnings() -> None:
    findings = [
        Finding("USCC_INVALID", "error", "校验位不正确。"),
        Finding("OCR_USED", "warning", "由扫描件识别，请人工核对。"),
        Finding("TABLE_MISMATCH", "error", "claims error but is staff-only"),
        {"code": "LATE", "severity": "error", "message": "2025年1月21日收到。"},
        {"code": "UNVERIFIED_CITY_SENDER", "severity": "warning", "message": "x"},
        Finding("USCC_INVALID", "error", "校验位不正确。"),  # repeated
        Finding("SOMETHING_NEW", "error", "新问题。"),
    ]
    items = applicant_items(findings)
    assert [i["code"] for i in items] == ["USCC_INVALID", "LATE", "SOMETHING_NEW"]
    assert items[0] == {"code": "USCC_INVALID", "title": wording("USCC_INVALID").title,
                        "message": "校验位不正确。", "fix": wording("USCC_INVALID").fix}
    assert items[2]["title"] == "申报材料存在问题"
    text = render("deficiency", {**CONTEXTS["deficiency"], "items": items}).text
    for staff_only in ("人工核对", "staff-only", wording("OCR_USED").title):
        assert staff_only not in text
