"""Does one answer say one thing? The checks behind the notice-coherence tests.

Every mail jiebang sends an applicant or a city bureau describes one situation and the
one next step that fits it. :func:`incoherences` reads a rendered mail the way its reader
would and lists what contradicts itself:

* a mail that says the material arrived late / is not accepted / the deadline has passed
  asks for no correction or resend (and its subject has no 补正);
* a mail that sends the applicant to its city bureau never asks it to reply to us;
* no instruction is given twice (the same sentence, or nearly the same one);
* a date is never presented as a deadline still to meet when the mail it answers arrived
  after it;
* two statements that contradict each other never stand in one mail;
* no code, state or other machine word reaches the reader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from difflib import SequenceMatcher

from campaign import CODES

CST = timezone(timedelta(hours=8))

# the material is not (or no longer) accepted: nothing can be corrected or resent
CLOSED = ("不予受理", "不予采用", "申报已截止", "已超过截止时间", "已超过申报截止时间", "逾期送达")
# an instruction to correct or send (again): a sentence that asks ("请…") for one of these
RESEND = re.compile(r"请[^。！？\n]*?(重新发送|重新报送|补发|补正|补充报送|修改完善|按上述要求修改)")
# the applicant belongs to its city bureau: we are not the address
ELSEWHERE = ("不属于中央驻鲁或省属", "请勿再向我局报送", "无需再向省大数据局报送", "不能直接向省大数据局报送")
REPLY_TO_US = re.compile(r"请[^。！？\n]*?回复本邮件")
# 2025年1月20日24时前 / 于2025年1月15日前: a deadline still to meet
DEADLINE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日\s*(?:24\s*时)?前")
PASSED_WORDS = ("已过", "已截止", "已超过", "超过")
# pairs of statements that cannot both be true of one application
CONTRADICTIONS = (
    ("原则上不予受理", "是否受理由"),
    ("没有需要补正", "尚待补正"),
    ("不予采用", "以最新报送的材料为准"),
    ("无需也不能再", "请于"),
)
MACHINE_WORDS = frozenset(CODES) | {"incomplete", "complete", "under_review", "selected", "not_selected",
                                    "withdrawn", "via_city", "None"}


@dataclass(frozen=True)
class Mail:
    """A rendered answer and when the mail it answers reached us (the moment it speaks of)."""

    name: str  # what the test calls it: "deficiency × late, v1 stands"
    subject: str
    text: str
    answered_at: datetime | None = None


def sentences(text: str) -> list[str]:
    """The text as sentences (split at 。！？ and line ends), without list markers."""
    out = []
    for part in re.split(r"[。！？\n]", text):
        part = re.sub(r"^[\s\-–—·•\d.、（）()]*(情况|处理|处理要求)?[:：]?", "", part).strip()
        if part and not part.startswith("——"):
            out.append(part)
    return out


def _norm(sentence: str) -> str:
    return re.sub(r"[\W_]+", "", sentence)


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=CST)


def incoherences(mail: Mail) -> list[str]:
    """What in *mail* contradicts another part of it (empty: it says one thing)."""
    found: list[str] = []
    text, subject = mail.text, mail.subject
    said = sentences(text)

    if any(w in text for w in CLOSED):
        for s in said:
            if RESEND.search(s):
                found.append(f"says the material is late/not accepted, yet asks: 「{s}」")
        if "补正" in subject:
            found.append(f"says the material is late/not accepted, yet the subject says 补正: 「{subject}」")

    if any(w in text for w in ELSEWHERE) or "设区市大数据局报送" in subject:
        for s in said:
            if REPLY_TO_US.search(s):
                found.append(f"sends the applicant to its city bureau, yet asks it to reply to us: 「{s}」")
            elif RESEND.search(s) and "设区市" not in s and "市大数据局" not in s:
                found.append(f"sends the applicant to its city bureau, yet asks to resend: 「{s}」")

    asks = [s for s in said if "请" in s]
    for i, a in enumerate(asks):
        for b in asks[i + 1:]:
            if _norm(a) == _norm(b) or SequenceMatcher(None, _norm(a), _norm(b)).ratio() >= 0.75:
                found.append(f"gives one instruction twice: 「{a}」 / 「{b}」")
    steps = [s for s in said if RESEND.search(s)]
    if len(steps) > 1:
        found.append(f"asks to resend {len(steps)} times: " + " / ".join(f"「{s}」" for s in steps))

    if mail.answered_at is not None:
        for s in said:
            if any(w in s for w in PASSED_WORDS):
                continue
            for m in DEADLINE.finditer(s):
                day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
                if _end_of(day) <= mail.answered_at:
                    found.append(f"presents {day} as a deadline to meet, but the mail it answers came "
                                 f"{mail.answered_at:%Y-%m-%d %H:%M}: 「{s}」")

    for a, b in CONTRADICTIONS:
        if a in text and b in text:
            found.append(f"says both 「{a}」 and 「{b}」")

    for word in re.findall(r"[A-Za-z_]{4,}", subject + "\n" + text):
        if word in MACHINE_WORDS:
            found.append(f"shows the machine word {word!r}")
    return found
