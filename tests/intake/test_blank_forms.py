"""A blank form and its printed label text are never a unit (else every later blank form
would be a claim against the first sender of one)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from support import SHARED
from support.records import form

from campaign import RoundPolicy
from examples.generate import mail
from intake.extract.units import form_text
from intake.understand import understand

CST = timezone(timedelta(hours=8))


def _read(attachment: bytes) -> list:
    raw = mail(sender="a@unit.example.cn", name="申报人", subject="揭榜挂帅申报书", body="申报书见附件。",
               when=datetime(2025, 1, 10, tzinfo=CST), mid="<blank@unit.example.cn>",
               attachments=[("申报书.docx", attachment)])
    return understand(raw, RoundPolicy()).applications


@pytest.mark.parametrize("printed", ["法定代表人（签字）", "（单位公章）", "请填写单位全称", "年  月  日", "□ 是 □ 否"])
def test_printed_form_text_is_no_unit(printed: str) -> None:
    assert form_text(printed)
    [app] = _read(form(unit=printed, partners=("联系人（签字）",)))
    assert app.unit != printed and app.partners == []


@pytest.mark.parametrize("name", ["山东省泉河数字经济研究院", "济南云泺信息技术有限公司", "山东大学"])
def test_real_names_are_units(name: str) -> None:
    assert not form_text(name)


@pytest.mark.skipif(not (SHARED / "samples" / "forms" / "申报书模板.docx").is_file(), reason="../shared absent")
def test_the_bureaus_blank_template_names_no_unit() -> None:
    [app] = _read((SHARED / "samples" / "forms" / "申报书模板.docx").read_bytes())
    assert app.unit is None and app.uscc is None and app.partners == []
