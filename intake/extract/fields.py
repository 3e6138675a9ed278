"""One 申报书 document → the application's fields, plus what the checks need to know."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from campaign import current
from campaign.catalogue import OUTCOME_WORDS
from intake.extract import uscc as uscc_mod
from intake.extract.checkboxes import grid_choices, has_marks, scan_marks, ticked_anywhere
from intake.extract.directions import aliases, direction_from_scope, direction_hint, directions_in
from intake.extract.labels import clean_value, nfkc, norm
from intake.extract.nature import nature_from_cues, nature_from_ticks, nature_from_words
from intake.extract.negation import stated
from intake.extract.pairs import FormView, view_of
from intake.extract.units import (
    OTHER_PROVINCES,
    city_in,
    lead_unit,
    partners_of,
    registered_name,
    table_units,
)
from intake.model import Application, Document, Nature, TaskType


def task_types() -> dict[TaskType, tuple[str, ...]]:
    """How forms write each 任务类别 in the round in force (read when a form is, not at import)."""
    return {t.key: t.words for t in current().task_types}  # type: ignore[misc]


# How forms write each kind of 预期成果 (the catalogue declares them).
OUTCOMES: dict[str, tuple[str, ...]] = dict(OUTCOME_WORDS)
# bounded parts and a boundary in front: linear on any input (the unbounded form took
# 114 s on a line of 250,000 dots, every start position scanning to the end)
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]{1,64}@(?:[A-Za-z0-9\-]{1,63}\.){1,8}[A-Za-z]{2,24}"
                    r"(?![A-Za-z0-9\-])")


@dataclass
class FormReading:
    """The extracted application plus facts only the checks use."""

    application: Application
    name: str = ""
    format: str = "other"
    scanned: bool = False
    directions: set[int] = field(default_factory=set)  # every direction the form names
    # the one direction the notice's scope words point to clearly when the form names none;
    # the weakest source, taken only after the subject, body and a recommendation table
    # (settle_scope)
    scope_direction: int | None = None
    outcomes: set[str] = field(default_factory=set)
    outcomes_stated: bool = False  # an outcome section / value exists at all
    uscc_raw: str | None = None
    in_shandong: bool | None = None  # from a valid USCC, else from the address
    nature_from_form: bool = False
    nature_source: str | None = None  # "words" | "ticks" | "cues": how unit_nature was read
    recommender: str | None = None
    has_content: bool = False  # any field at all was read

    @property
    def score(self) -> int:
        """How many fields were read: the fuller copy of a form is the one to trust."""
        app = self.application
        return sum(
            bool(v)
            for v in (
                app.unit,
                app.uscc,
                app.unit_nature,
                app.city,
                app.direction,
                app.task_name,
                app.task_types,
                app.contact_email,
            )
        )


def _first(values: list[str]) -> str | None:
    return next((clean_value(v) for v in values if clean_value(v)), None)


def _horizontal_pairs(view: FormView) -> None:
    """A one-row column table that is not a unit list is a horizontal form: read it as pairs."""
    from intake.extract.pairs import Pair

    for table in view.column_tables:
        listing = any(
            w in norm("".join(table.header)) for w in ("序号", "承担任务", "分工", "姓名")
        )
        if len(table.rows) != 1 or listing or table_units(table)[2]:
            continue  # a numbered list (partners, team) is not the applicant's own row
        for name, cell in zip(table.fields, table.rows[0], strict=False):
            if name and cell and name != "seq":
                view.pairs.append(Pair(name, cell, "table"))


def _task_types(view: FormView, tables: list[list[list[str]]]) -> set[TaskType]:
    for value in view.values("task_types"):
        # "应用实践（不涉及理论研究和技术创新）", "仅开展应用实践": what the words choose
        chosen, marked = stated(value, task_types(), complement=True)
        if chosen or marked:
            return chosen
    for table in tables:
        grid = grid_choices(table, task_types())
        if grid:
            return grid
    return ticked_anywhere(view.lines, task_types())


def _outcomes(view: FormView) -> tuple[set[str], bool]:
    values = view.values("outcomes")
    found: set[str] = set()
    for value in values:
        chosen, marked = stated(value, OUTCOMES)  # "不申请专利" promises no patent
        found |= chosen
        if marked:  # a tick list plus free sentences: the sentences count too
            found |= {
                k
                for line in value.splitlines()
                if not _has_box(line)
                for k in stated(line, OUTCOMES)[0]
            }
    if not found:
        found = ticked_anywhere(view.lines, OUTCOMES)
    return found, bool(values) or bool(found)


def _has_box(line: str) -> bool:
    from intake.extract.checkboxes import has_marks

    return has_marks(line)


# "（请从以下方向中选择一个：…": the template's hint names no choice ("方向…一" is no 方向一)
_HINT_WORDS = re.compile(r"请从|请选择|选择一个|选择其一|以下")


# fields whose text names who and where, never what the task is about
_IDENTITY = frozenset({"unit", "partners", "address", "region", "city", "email", "recommender", "contact",
                       "phone", "uscc", "nature"})


def _from_scope(view: FormView, title: str, units: list[str]) -> int | None:
    """The direction the notice's scope words point to clearly, when the form names none."""
    strong = [*view.values("direction"), _first(view.values("task_name")) or "", title]
    strong = [s for s in strong if s.strip()]
    skip = units + [p.value for p in view.pairs + view.sections if p.field in _IDENTITY]
    body = []
    for line in view.lines:
        for text in strong:
            line = line.replace(text, " ") if len(text) >= 4 else line
        body.append(line)
    return direction_from_scope(strong, body, skip)


def settle_scope(forms: list[FormReading]) -> None:
    """Forms that name no direction, after the mail and a recommendation table had their say:
    the direction their scope words point to (``FormReading.scope_direction``)."""
    for form in forms:
        if not form.directions and form.application.direction is None and form.scope_direction:
            form.application.direction = form.scope_direction
            form.directions = {form.scope_direction}


def _directions(view: FormView, tables: list[list[list[str]]], title: str) -> set[int]:
    for value in view.values("direction"):
        found = directions_in(value)
        if len(found) >= 4 and not has_marks(value):
            continue  # the template's list of all directions, nothing chosen from it
        if found:
            return found
    for table in tables:
        grid = grid_choices(table, aliases())
        if grid:
            return grid
    ticked = ticked_anywhere(view.lines, aliases())
    if ticked:
        return ticked
    for line in view.lines[:15] + [title]:  # "揭榜挂帅申报书（数据安全方向）"
        if ("方向" in line or "申报书" in line) and not _HINT_WORDS.search(line):
            hint = direction_hint(line)
            if hint:
                return {hint}
    hint = direction_hint(_first(view.values("task_name")) or "")
    return {hint} if hint else set()


def _completed(code: str, lines: list[str]) -> str:
    """A code a narrow PDF cell wrapped over lines ("91370212MA3C" / "4D5E6A")."""
    if len(code) >= 18 or len(code) < 6:
        return code
    flat = uscc_mod.normalize("".join(lines))
    at = flat.find(code)
    while at >= 0:
        whole = flat[at : at + 18]
        if uscc_mod.is_valid(whole):
            return whole
        at = flat.find(code, at + 1)
    for i, line in enumerate(lines):  # the tail may sit on a later line, after other cells
        if code in uscc_mod.normalize(line):
            for later in lines[i + 1 : i + 3]:
                tokens: list[str] = re.findall(r"[0-9A-Z]+", nfkc(later).upper())
                for token in tokens:
                    if uscc_mod.is_valid(code + token):
                        return code + token
    return code


def _uscc(view: FormView, lead: str | None) -> tuple[str | None, str | None]:
    """(normalised code or None, raw text as written)."""
    for value in view.values("uscc"):
        raw = clean_value(value.splitlines()[0])
        head = re.match(r"[0-9A-Za-z\s\-]*", nfkc(raw))
        code = _completed(uscc_mod.normalize(head.group(0) if head else ""), view.lines)
        raw = code if uscc_mod.is_valid(code) else raw
        if len(code) >= 15 and code.isalnum():
            return code, raw
        codes = uscc_mod.find_codes(value)
        if codes:
            return codes[0], raw
        if raw:
            return (code or None), raw
    codes = uscc_mod.find_codes("\n".join(view.lines))
    valid = [c for c in codes if uscc_mod.is_valid(c)]
    return (valid[0], valid[0]) if len(valid) == 1 else (None, None)


def _city(view: FormView, code: str | None) -> str | None:
    city = uscc_mod.city_of(code)
    if city:
        return city
    for value in view.values("city") + view.values("region") + view.values("address"):
        found = city_in(value)
        if found:
            return found
    # a mistyped code (17 characters, a wrong check character) still names its region
    raw = uscc_mod.normalize(code)
    if len(raw) >= 8 and raw[2:8].isdigit():
        return uscc_mod.CITY_PREFIXES.get(raw[2:6])
    return None


def _in_shandong(view: FormView, code: str | None) -> bool | None:
    by_code = uscc_mod.in_shandong(code)
    if by_code is not None or uscc_mod.is_valid(code):
        return by_code
    for value in view.values("address") + view.values("city") + view.values("region"):
        text = nfkc(value)
        if "山东" in text or city_in(text):
            return True
        if text.startswith(OTHER_PROVINCES):
            return False
    return None


def _scan_view(view: FormView) -> FormView:
    """A scan's text with the tick marks OCR garbled before option words made boxes again."""
    from intake.extract.pairs import Pair

    options = _option_words()
    return replace(
        view,
        pairs=[Pair(p.field, scan_marks(p.value, options), p.source) for p in view.pairs],
        sections=[Pair(p.field, scan_marks(p.value, options), p.source) for p in view.sections],
        lines=[scan_marks(line, options) for line in view.lines],
    )


def _option_words() -> tuple[str, ...]:
    from intake.extract.nature import OPTIONS as NATURES

    words = [w for group in (task_types(), OUTCOMES, aliases(), NATURES) for ws in group.values() for w in ws]
    return tuple(sorted(set(words), key=len, reverse=True))


# the lookbehind starts a match only where a run of marks begins: a long run not at the end
# is scanned once, not once from each of its characters
_SEAL_TAIL = re.compile(r"(?<![\s★☆*○◎·])[\s★☆*○◎·]*(?:[(（]?(?:单位公章|公章|盖章|印章|签章)[)）]?)?[\s★☆*○◎·]*$")
_CUT_SUFFIX = re.compile(r"(有限|股份有限|有限责任)公$")


def _unsealed(unit: str) -> str:
    """A unit name OCR read through a seal: the seal's words and star after it dropped,
    the 司 the ring swallowed restored ("…有限公☆公章" → "…有限公司")."""
    name = _SEAL_TAIL.sub("", unit).strip() or unit
    return _CUT_SUFFIX.sub(r"\1公司", name)


def _nature_words(value: str, scanned: bool) -> Nature | None:
    """单位性质 as written; on a scan, a list of options with no readable tick is not read."""
    if scanned:
        from intake.extract.checkboxes import read_choices
        from intake.extract.nature import OPTIONS as NATURES

        states = list(read_choices(value, NATURES).values())
        plain, empty = states.count("plain"), states.count("unchecked")
        if len(states) >= 2 and "checked" not in states and not (plain == 1 and empty):
            return None
    return nature_from_words(value)


def read_form(doc: Document, extra_text: str = "") -> FormReading:
    """Read one application form; ``extra_text`` (file name) only helps find the direction."""
    # the document's shared view, with a list of pairs of its own to add to
    shared = view_of(doc)
    view = replace(shared, pairs=list(shared.pairs))
    if doc.scanned:
        view = _scan_view(view)
    _horizontal_pairs(view)
    lead = lead_unit(view)
    partners, lead = partners_of(view, lead)
    if doc.scanned and lead:
        lead = _unsealed(lead)
    lead = registered_name(lead, view, partners)  # the cover's "XX集团" → the table's full name
    code, raw = _uscc(view, lead)
    source: str | None = None
    nature = next((n for v in view.values("nature") if (n := _nature_words(v, doc.scanned))), None)
    if nature is not None:
        source = "words"
    else:
        nature = nature_from_ticks(view.lines)
        source = "ticks" if nature is not None else None
    from_form = nature is not None
    if nature is None:
        nature = nature_from_cues(lead, code, " ".join(view.values("nature")))
        source = "cues" if nature is not None else None
    # a narrow PDF cell breaks an address over lines: "lianxi@e xample.c om"
    emails = [
        m.group(0)
        for v in view.values("email")
        if (m := _EMAIL.search(re.sub(r"\s+", "", nfkc(v))))
    ]
    emails = emails or _EMAIL.findall(nfkc(doc.text or ""))[:1]
    directions = _directions(view, doc.tables, f"{doc.name} {extra_text}")
    scope = None if directions else _from_scope(view, f"{doc.name} {extra_text}", [lead or "", *partners])
    outcomes, stated = _outcomes(view)
    task_name = _first(view.values("task_name"))
    app = Application(
        unit=lead,
        uscc=code or None,
        unit_nature=nature,
        city=_city(view, code),
        direction=next(iter(directions)) if len(directions) == 1 else None,
        task_name=task_name.splitlines()[0][:200] if task_name else None,
        task_types=[t for t in task_types() if t in _task_types(view, doc.tables)],
        partners=partners,
        contact_email=emails[0] if emails else None,
        documents=[doc.name],
    )
    return FormReading(
        application=app,
        name=doc.name,
        format=doc.format,
        scanned=doc.scanned,
        directions=directions,
        scope_direction=scope,
        outcomes=outcomes,
        outcomes_stated=stated,
        uscc_raw=raw,
        in_shandong=_in_shandong(view, code),
        nature_from_form=from_form,
        nature_source=source,
        recommender=_first(view.values("recommender")),
        has_content=bool(lead or code or directions or app.task_types),
    )
