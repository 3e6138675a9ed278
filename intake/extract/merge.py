"""Word and PDF copies of one form → one application.

Copies are the same form when they share a valid USCC, else the lead unit's name,
else the file name once version words ("盖章", "PDF版"…) are gone. A copy nothing
could be read from (a scan without OCR) joins the form whose file name it shares,
or the only form there is. The Word copy's values win (typed text, no OCR); the PDF
fills what Word left empty.
"""

from __future__ import annotations

import re
from dataclasses import replace

from intake.extract.fields import FormReading
from intake.extract.labels import nfkc, norm
from intake.extract.uscc import is_valid

WORD_FORMATS = frozenset({"docx", "doc", "wps"})
_VERSION_WORDS = re.compile(
    r"盖章版|盖章|签章版|签章|扫描件|扫描版|扫描|word版|WORD版|Word版|pdf版|PDF版|word|pdf|电子版|"
    r"正式版|最终版|终版|定稿|副本|copy|\(\d\)|_v\d+|-v\d+|版本\d*",
    re.IGNORECASE,
)


def stem(name: str) -> str:
    """A file name without extension, version words, brackets and punctuation."""
    base = nfkc(name).rsplit("/", 1)[-1]
    base = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", base)
    base = _VERSION_WORDS.sub("", base)
    return re.sub(r"[\s()（）\[\]【】_\-—.、,，]+", "", base).lower()


def _same(a: FormReading, b: FormReading) -> bool:
    ua, ub = a.application.uscc, b.application.uscc
    if is_valid(ua) and is_valid(ub):
        return ua == ub
    na, nb = norm(a.application.unit or ""), norm(b.application.unit or "")
    if na and nb:
        return na == nb
    return bool(stem(a.name)) and stem(a.name) == stem(b.name)


def _similarity(a: str, b: str) -> int:
    """Length of the longest common prefix plus common suffix: cheap and enough for names."""
    pre = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    suf = next(
        (i for i, (x, y) in enumerate(zip(a[::-1], b[::-1], strict=False)) if x != y),
        min(len(a), len(b)),
    )
    return pre + suf


def _combine(group: list[FormReading]) -> FormReading:
    names = [r.name for r in group]  # in the order the mail carried them
    group = sorted(group, key=lambda r: (r.format not in WORD_FORMATS, r.scanned, -r.score))
    primary = group[0]
    app = replace(primary.application, documents=names)
    for other in group[1:]:
        for name in (
            "unit",
            "uscc",
            "unit_nature",
            "city",
            "direction",
            "task_name",
            "contact_email",
        ):
            if getattr(app, name) is None and getattr(other.application, name) is not None:
                setattr(app, name, getattr(other.application, name))
        app.task_types = app.task_types or list(other.application.task_types)
        app.partners = app.partners or list(other.application.partners)
    merged = replace(primary, application=app)
    for other in group[1:]:
        merged.directions = merged.directions or set(other.directions)
        merged.outcomes = merged.outcomes or set(other.outcomes)
        merged.outcomes_stated = merged.outcomes_stated or other.outcomes_stated
        merged.uscc_raw = merged.uscc_raw or other.uscc_raw
        merged.in_shandong = (
            merged.in_shandong if merged.in_shandong is not None else other.in_shandong
        )
        merged.nature_from_form = merged.nature_from_form or other.nature_from_form
        merged.has_content = merged.has_content or other.has_content
    # fields came from a scan only if no typed copy had content
    merged.scanned = (
        all(r.scanned for r in group if r.has_content) if merged.has_content else primary.scanned
    )
    return merged


def merge_readings(readings: list[FormReading]) -> list[FormReading]:
    """Group copies of the same form; keeps the order in which forms first appear."""
    groups: list[list[FormReading]] = []
    empty: list[FormReading] = []
    for reading in readings:
        if not reading.has_content:
            empty.append(reading)
            continue
        for group in groups:
            if any(_same(reading, member) for member in group):
                group.append(reading)
                break
        else:
            groups.append([reading])
    for reading in empty:
        target = _home_for(reading, groups)
        if target is None:
            groups.append([reading])
        else:
            target.append(reading)
    return [_combine(g) for g in groups]


def _home_for(reading: FormReading, groups: list[list[FormReading]]) -> list[FormReading] | None:
    if not groups:
        return None
    mine = stem(reading.name)
    exact = [g for g in groups if any(stem(m.name) == mine for m in g)]
    if exact:
        return exact[0]
    if len(groups) == 1:
        return groups[0]
    unit_named = [
        g
        for g in groups
        if g[0].application.unit and norm(g[0].application.unit) in norm(reading.name)
    ]
    if len(unit_named) == 1:
        return unit_named[0]
    scored = sorted(groups, key=lambda g: -max(_similarity(mine, stem(m.name)) for m in g))
    best = max(_similarity(mine, stem(m.name)) for m in scored[0])
    return scored[0] if best >= 4 else None
