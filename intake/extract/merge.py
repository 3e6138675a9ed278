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
    """Group copies of the same form; keeps the order in which forms first appear.

    A scan tied to no typed form stays a form of its own here (see ``pair_readings``).
    """
    forms, unpaired = pair_readings(readings)
    return forms + [_combine([r]) for r in unpaired]


def pair_readings(
    readings: list[FormReading], listed: list[str] = ()  # type: ignore[assignment]
) -> tuple[list[FormReading], list[FormReading]]:
    """(one merged reading per application, scans that could not be tied to any typed form).

    Typed copies (Word, a PDF's text layer) group by code, name and file name. A scan
    then joins the typed form it matches best by content (OCR garbles a character of a
    name or a code: near matches count) or by file name. When the mail has typed forms
    and a scan matches none of them, or two equally, the scan is not taken for another
    application (whose fields would all look missing): it is returned for staff —
    unless it reads as a whole form (a valid code and a name) of a unit *listed* in the
    mail's 推荐汇总表: that is an application sent as a scan only.
    """
    typed = [r for r in readings if not r.scanned and r.has_content]
    scans = [r for r in readings if r.scanned and r.has_content]
    empty = [r for r in readings if not r.has_content]
    groups: list[list[FormReading]] = []
    for reading in typed:
        _join(reading, groups)
    unpaired: list[FormReading] = []
    has_typed = bool(groups)
    for reading in scans:
        target = _best_for_scan(reading, groups) if has_typed else None
        if target is not None:
            target.append(reading)
        elif has_typed and not _listed(reading, listed):
            unpaired.append(reading)
        else:
            _join(reading, groups, fuzzy=True)
    for reading in empty:
        target = _home_for(reading, groups)
        if target is not None:
            target.append(reading)
        elif has_typed and reading.scanned:
            unpaired.append(reading)
        else:
            groups.append([reading])
    return [_combine(g) for g in groups], unpaired


def _listed(reading: FormReading, listed: list[str]) -> bool:
    unit = norm(reading.application.unit or "")
    return (
        is_valid(reading.application.uscc)
        and bool(unit)
        and any(norm(name) == unit or _near(norm(name), unit, 6) is not None for name in listed)
    )


def _join(reading: FormReading, groups: list[list[FormReading]], fuzzy: bool = False) -> None:
    for group in groups:
        if any(_same(reading, member) or (fuzzy and _match(reading, member) >= 30) for member in group):
            group.append(reading)
            return
    groups.append([reading])


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (names and codes are short)."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def _near(a: str, b: str, per: int) -> int | None:
    """The edit distance of two readings when it is small enough to be OCR noise."""
    if not a or not b or len(a) > 80 or len(b) > 80:
        return None  # names are short; a long cell compared character by character costs n·m
    allowed = max(1, min(len(a), len(b)) // per)
    if abs(len(a) - len(b)) > allowed:
        return None
    d = _distance(a, b)
    return d if d <= allowed else None


def _match(scan: FormReading, other: FormReading) -> int:
    """How strongly a scan's reading says it is a copy of *other* (0: not at all; -1: never)."""
    us, uo = scan.application.uscc or "", other.application.uscc or ""
    if is_valid(us) and is_valid(uo) and us != uo:
        return -1  # two readable, different codes: two units
    score = 0
    if us and uo:
        if us == uo:
            score += 100
        elif len(us) == len(uo) == 18 and sum(x != y for x, y in zip(us, uo, strict=True)) <= 2:
            score += 60
    ns, no = norm(scan.application.unit or ""), norm(other.application.unit or "")
    if ns and no:
        if ns == no:
            score += 50
        else:
            d = _near(ns, no, 6)
            if d is not None:
                score += 40 - 5 * d
    if stem(scan.name) and stem(scan.name) == stem(other.name):
        score += 20
    elif no and no in norm(stem(scan.name)):
        score += 15
    return score


def _best_for_scan(scan: FormReading, groups: list[list[FormReading]]) -> list[FormReading] | None:
    scored = []
    for group in groups:
        marks = [_match(scan, m) for m in group]
        scored.append((-1 if -1 in marks else max(marks), group))
    scored.sort(key=lambda x: -x[0])
    if not scored or scored[0][0] < 15:
        return None
    if len(scored) > 1 and scored[1][0] == scored[0][0]:
        return None  # as like one form as another: staff decide
    return scored[0][1]


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
