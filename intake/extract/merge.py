"""Several forms in one mail → one reading per application.

Copies of one form (its Word file, the PDF made from it, a scan of the sealed print) are
one reading. Typed copies share a valid USCC, else the lead unit's name, else — a Word
file and its PDF, never two Word files — the file name once copy words ("盖章", "PDF版"…)
are gone. A copy nothing could be read from (a scan without OCR) joins the form whose
file name it shares, or the only form there is. The Word copy's values win (typed text,
no OCR); the PDF fills what Word left empty.

Forms of one lead unit in two directions are two applications (DUPLICATE_LEAD), unless
their file names say one revises the other (申报书（初稿）/申报书（定稿）) or the body says
which counts. Forms of one unit and direction that are not copies of one another are
versions of one application, and one of them counts (``Settled``):

1. the one the mail body marks ("以定稿为准", "以“…0115.docx”为准", "“…-2.docx”请作废");
2. the one its file name marks as final (定稿/终稿/最终版/修改后/修订版/正式版 over an
   unmarked name over 初稿/草稿; v2 over v1);
3. the one saved last (document metadata: docx core properties, PDF ModDate);
4. the later in the mail — a guess (``how == "order"``): the caller mails nothing that
   depends on it.

The version that counts keeps its own values: no field, and no partner, comes from another
version; partners only ever come from their own form.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from intake.extract.fields import FormReading
from intake.extract.labels import nfkc, norm
from intake.extract.uscc import is_valid

WORD_FORMATS = frozenset({"docx", "doc", "wps"})
_VERSION_WORDS = re.compile(
    r"盖章版|盖章|签章版|签章|扫描件|扫描版|扫描|word版|WORD版|Word版|pdf版|PDF版|word|pdf|电子版|"
    r"正式版|最终版|终版|定稿|副本|copy|\(\d\)|_v\d+|-v\d+|版本\d*",
    re.IGNORECASE,
)
# how a file name (or the body, naming one) marks a version as the final one, or a draft
FINAL_WORDS = ("定稿", "终稿", "最终版", "最终稿", "最终", "终版", "修改后", "修改版", "修改稿", "修订后",
               "修订版", "修订稿", "正式版", "正式稿", "更新版", "最新版")
DRAFT_WORDS = ("初稿", "草稿", "草案", "征求意见稿", "讨论稿", "修改前", "旧版", "原稿", "作废", "废弃")
_NUMBERED = re.compile(
    r"(?<![a-z])v(?:er)?\.?\s?(\d{1,3})(?:\.(\d{1,2}))?(?!\d)|第([一二三四五六七八九十]|\d{1,2})[版稿]|版本\s?(\d{1,3})",
    re.IGNORECASE,
)
_CN_DIGITS = {c: i for i, c in enumerate("一二三四五六七八九十", start=1)}
_UNMARKED = (1, 0.0)


@dataclass
class Settled:
    """One application of the mail: the version that counts, and what it superseded."""

    form: FormReading  # the version that counts, its copies combined
    superseded: list[FormReading] = field(default_factory=list)  # the other versions, each combined
    how: str = ""  # what chose it: "body" | "name" | "modified" | "order" (a guess); "" one version


def stem(name: str) -> str:
    """A file name without extension, version words, brackets and punctuation."""
    base = nfkc(name).rsplit("/", 1)[-1]
    base = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", base)
    base = _VERSION_WORDS.sub("", base)
    return re.sub(r"[\s()（）\[\]【】_\-—.、,，]+", "", base).lower()


def _base(name: str) -> str:
    """The file name as written, without folder and extension (NFKC, lower case)."""
    base = nfkc(name).rsplit("/", 1)[-1]
    return re.sub(r"\.[A-Za-z0-9]{1,5}$", "", base).lower()


def _mark(name: str) -> tuple[int, float]:
    """(2 final / 1 unmarked / 0 draft, version number): higher counts."""
    base = _base(name)
    rank = 2 if any(w in base for w in FINAL_WORDS) else 0 if any(w in base for w in DRAFT_WORDS) else 1
    number = 0.0
    for m in _NUMBERED.finditer(base):
        if m.group(1):
            number = float(f"{int(m.group(1))}.{m.group(2) or 0}")
        elif m.group(3):
            number = float(_CN_DIGITS.get(m.group(3)) or int(m.group(3)))
        elif m.group(4):
            number = float(m.group(4))
    return rank, number


def _bare(name: str) -> str:
    """The file name with copy and version words gone: what two versions of one form share."""
    base = stem(name)
    for word in FINAL_WORDS + DRAFT_WORDS:
        base = base.replace(word, "")
    return _NUMBERED.sub("", base)


def _family(r: FormReading) -> str:
    return "scan" if r.scanned else "word" if r.format in WORD_FORMATS else r.format


def _apart(a: set[int], b: set[int]) -> bool:
    """Two readings name directions, and none in common."""
    return bool(a) and bool(b) and not (a & b)


def _same(a: FormReading, b: FormReading) -> bool:
    """The same lead unit (not yet: the same application)."""
    ua, ub = a.application.uscc, b.application.uscc
    if is_valid(ua) and is_valid(ub):
        return ua == ub
    na, nb = norm(a.application.unit or ""), norm(b.application.unit or "")
    if na and nb:
        return na == nb
    if not (a.scanned or b.scanned) and _family(a) == _family(b):
        return False  # two typed forms nothing names: "申报书.docx" and "申报书(1).docx" are two
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


def merge_readings(readings: list[FormReading], body: str = "") -> list[FormReading]:
    """One reading per application, in the order in which forms first appear.

    A scan tied to no typed form stays a form of its own here (see ``pair_readings``).
    """
    forms, unpaired = pair_readings(readings, body=body)
    return forms + [_combine([r]) for r in unpaired]


def pair_readings(
    readings: list[FormReading], listed: list[str] = (), body: str = ""  # type: ignore[assignment]
) -> tuple[list[FormReading], list[FormReading]]:
    """(one reading per application, scans that could not be tied to any typed form);
    see ``settle_readings``."""
    settled, unpaired = settle_readings(readings, listed, body)
    return [s.form for s in settled], unpaired


def settle_readings(
    readings: list[FormReading],
    listed: Sequence[str] = (),
    body: str = "",
    modified: Sequence[str | None] = (),
) -> tuple[list[Settled], list[FormReading]]:
    """(each application of the mail, scans that could not be tied to any typed form).

    *readings* in mail order; *listed*: the units the mail's 推荐汇总表 lists; *body*: the
    sender's own words; *modified*: when each reading's file says it was saved (UTC,
    ISO 8601), where known.

    Typed copies (Word, a PDF's text layer) group by code, name and file name, and by
    direction (one unit's forms in two directions are two applications). A scan then
    joins the typed form it matches best by content (OCR garbles a character of a name
    or a code: near matches count) or by file name. When the mail has typed forms and a
    scan matches none of them, or two equally, the scan is not taken for another
    application (whose fields would all look missing): it is returned for staff —
    unless it reads as a whole form (a valid code and a name) of a unit *listed* in the
    mail's 推荐汇总表: that is an application sent as a scan only. Each group is then
    split into its versions and the one that counts is chosen (the module doc).
    """
    order = {id(r): i for i, r in enumerate(readings)}
    stamps = {id(r): m for r, m in zip(readings, modified, strict=False) if m}
    typed = [r for r in readings if not r.scanned and r.has_content]
    scans = [r for r in readings if r.scanned and r.has_content]
    empty = [r for r in readings if not r.has_content]
    groups = _typed_groups(typed, body, order)
    unpaired: list[FormReading] = []
    has_typed = bool(groups)
    for reading in scans:
        target = _best_for_scan(reading, groups) if has_typed else None
        if target is not None:
            target.append(reading)
        elif has_typed and not _listed(reading, list(listed)):
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
    return [_settle(g, body, order, stamps) for g in groups], unpaired


def _typed_groups(typed: list[FormReading], body: str, order: dict[int, int]) -> list[list[FormReading]]:
    """Typed readings by application: one lead unit, directions in common (a reading that
    names none joins the unit's form it is most like)."""
    groups: list[list[FormReading]] = []
    for reading in [r for r in typed if r.directions] + [r for r in typed if not r.directions]:
        fits = [g for g in groups if any(_same(reading, m) for m in g)
                and (not _apart(reading.directions, _directions(g)) or any(_twins(reading, m) for m in g))]
        if fits:
            max(fits, key=lambda g: _affinity(reading, g)).append(reading)
        else:
            groups.append([reading])
    _join_revisions(groups, body)
    groups.sort(key=lambda g: min(order[id(r)] for r in g))
    return groups


def _directions(group: list[FormReading]) -> set[int]:
    found: set[int] = set()
    for r in group:
        found |= r.directions
    return found


def _affinity(reading: FormReading, group: list[FormReading]) -> tuple[bool, bool]:
    return (any(m.directions == reading.directions for m in group),
            any(stem(m.name) == stem(reading.name) for m in group))


def _join_revisions(groups: list[list[FormReading]], body: str) -> None:
    """One unit's forms in two directions whose names say one revises the other
    (申报书（初稿）/申报书（定稿）, _v1/_v2), or of which the body says one counts, are
    versions of one application (the final may have changed the direction)."""
    i = 0
    while i < len(groups):
        j = i + 1
        while j < len(groups):
            if _revises(groups[i], groups[j], body):
                groups[i] += groups.pop(j)
            else:
                j += 1
        i += 1


def _revises(g: list[FormReading], h: list[FormReading], body: str) -> bool:
    if not any(_same(a, b) for a in g for b in h):
        return False
    akin = [(a, b) for a in g for b in h if _bare(a.name) and _bare(a.name) == _bare(b.name)]
    if any(_mark(a.name) != _mark(b.name) for a, b in akin):
        return True
    # the body picks one of two forms of one name, or names the file that counts
    pick = _designated([g, h], body)
    return pick is not None and pick >= 0 and (bool(akin) or _named(body, g + h))


def _named(body: str, readings: list[FormReading]) -> bool:
    said = _QUOTES.sub("", nfkc(body)).lower()
    return any(len(b := _QUOTES.sub("", _base(r.name))) >= 2 and b in said for r in readings)


# -- versions of one application ---------------------------------------------------------------


def _settle(group: list[FormReading], body: str, order: dict[int, int], stamps: dict[int, str]) -> Settled:
    """One application's readings → its versions (copies combined) → the one that counts."""
    versions, loose = _versions(group, order)
    if len(versions) <= 1:
        return Settled(_combine(_in_order(group, order)))
    pick, how = _choose(versions, body, order, stamps)
    final = versions[pick]
    others = [_combine(_in_order(v, order)) for i, v in enumerate(versions) if i != pick]
    form = _combine(_in_order(final, order))
    # a copy that could be any version's (a scan, a file nothing was read from) is listed
    # with the final, its values unused; when the final is a guess, so is every file
    shown = group if how == "order" else final + loose
    form.application.documents = [r.name for r in _in_order(shown, order)]
    return Settled(form, others, how)


def _in_order(readings: list[FormReading], order: dict[int, int]) -> list[FormReading]:
    return sorted(readings, key=lambda r: order[id(r)])


def _versions(group: list[FormReading], order: dict[int, int]) -> tuple[list[list[FormReading]], list[FormReading]]:
    """(the versions of one application, each its copies; copies tied to no one version).

    Two typed files of one kind (two Word files, two PDFs) are two versions; a Word file
    and a PDF are copies of one unless their names mark two versions, or — their names
    and task names both differing — their task names or directions disagree. Scans and
    empty copies join the version whose name they share, if one does.
    """
    typed = sorted((r for r in group if r.has_content and not r.scanned),
                   key=lambda r: (_family(r) != "word", order[id(r)]))
    versions: list[list[FormReading]] = []
    for reading in typed:
        fits = [v for v in versions if _copy_of(reading, v)]
        if fits:
            max(fits, key=lambda v: _likeness(reading, v)).append(reading)
        else:
            versions.append([reading])
    rest = [r for r in group if r.scanned or not r.has_content]
    if len(versions) <= 1:
        return ([(versions[0] if versions else []) + rest] if versions or rest else []), []
    loose: list[FormReading] = []
    for reading in rest:
        named = [v for v in versions if any(stem(m.name) == stem(reading.name) and
                                            _mark(m.name) == _mark(reading.name) for m in v)]
        if len(named) == 1:
            named[0].append(reading)
        else:
            loose.append(reading)
    return versions, loose


def _copy_of(reading: FormReading, version: list[FormReading]) -> bool:
    mine = _mark(reading.name)
    for member in version:
        if _family(member) == _family(reading):
            return False
        theirs = _mark(member.name)
        if mine != theirs and mine != _UNMARKED and theirs != _UNMARKED:
            return False
        if _twins(member, reading):
            continue  # one name (or one task): the PDF is the Word file printed
        if _other_task(member, reading) or _apart(member.directions, reading.directions):
            return False
    return True


def _twins(a: FormReading, b: FormReading) -> bool:
    """A Word file and a PDF of one name or one task: the PDF is the Word file printed, even
    where the two readings disagree (a tick lost, a cell wrapped in the PDF): the Word
    copy's reading stands, and no one unit is taken to lead in two directions."""
    if a.scanned or b.scanned or {_family(a), _family(b)} != {"word", "pdf"}:
        return False
    ma, mb = _mark(a.name), _mark(b.name)
    if ma != mb and _UNMARKED not in (ma, mb):
        return False
    task = norm(a.application.task_name or "")
    return (bool(stem(a.name)) and stem(a.name) == stem(b.name)) or (
        bool(task) and task == norm(b.application.task_name or ""))


def _other_task(a: FormReading, b: FormReading) -> bool:
    """Two task names that are not one name read twice (a PDF cell wraps, so a prefix counts)."""
    ta, tb = norm(a.application.task_name or ""), norm(b.application.task_name or "")
    if not ta or not tb or ta.startswith(tb) or tb.startswith(ta):
        return False
    return _near(ta, tb, 6) is None


def _likeness(reading: FormReading, version: list[FormReading]) -> tuple[bool, bool, bool, tuple[int, float]]:
    task = norm(reading.application.task_name or "")
    return (any(stem(m.name) == stem(reading.name) for m in version),
            any(_mark(m.name) == _mark(reading.name) for m in version),
            bool(task) and any(norm(m.application.task_name or "") == task for m in version),
            max(_mark(m.name) for m in version))


def _choose(versions: list[list[FormReading]], body: str, order: dict[int, int],
            stamps: dict[int, str]) -> tuple[int, str]:
    """(index of the version that counts, what said so)."""
    said = _designated(versions, body)
    if said is not None and said >= 0:
        return said, "body"
    keys = [max(_mark(r.name) for r in v) for v in versions]
    top = max(keys)
    candidates = [i for i, k in enumerate(keys) if k == top]
    if len(candidates) == 1:
        return candidates[0], "name"
    saved = _saved_last(versions, candidates, stamps)
    if saved is not None:
        return saved, "modified"
    last = max(candidates, key=lambda i: max(order[id(r)] for r in versions[i]))
    # "以最后发送的为准": the body says the later one counts
    return last, "body" if said == _LATEST else "order"


def _saved_last(versions: list[list[FormReading]], candidates: list[int], stamps: dict[int, str]) -> int | None:
    """The candidate saved last, comparing files of one kind (a PDF is made after its Word file)."""
    for family in ("word", "pdf"):
        times = [max((stamps[id(r)] for r in versions[i] if _family(r) == family and id(r) in stamps),
                     default="") for i in candidates]
        if all(times):
            best = max(times)
            return candidates[times.index(best)] if times.count(best) == 1 else None
    return None


# -- what the body says ------------------------------------------------------------------------------

_LATEST = -1  # the body says the latest counts, without naming it
_SENTENCES = re.compile(r"[。！？!?\n]+")
_CLAUSES = re.compile(r"[，,；;]+")
_COUNTS = re.compile(r"以(.{1,80}?)为准")
_VOID = re.compile(r"作废|废弃|不再使用|请忽略|请删除")
_WRONG = re.compile(r"有误|错误|无效")  # said of a file only in the clause that names it
_LATEST_WORDS = re.compile(r"最新|最后|后发|后一|后面|新的|最近")
_QUOTES = re.compile(r"[\s\"'“”‘’《》<>「」『』]+")
_BODY_WORDS = FINAL_WORDS + ("初稿", "草稿", "旧版", "原稿", "修改前")


def _designated(versions: list[list[FormReading]], body: str) -> int | None:
    """The version the body says counts ("以…为准"; every other one void), ``_LATEST``
    when it says the latest counts without naming it, or None."""
    if not body or len(versions) < 2:
        return None
    latest = False
    void: set[int] = set()
    for sentence in _SENTENCES.split(nfkc(body)[:20_000]):
        for m in _COUNTS.finditer(sentence):
            hits = _refers(m.group(1), versions)
            if len(hits) == 1:
                return hits.pop()
            latest = latest or (not hits and bool(_LATEST_WORDS.search(m.group(1))))
        clauses = _CLAUSES.split(sentence)
        for k, clause in enumerate(clauses):
            if "为准" in clause or not (_VOID.search(clause) or _WRONG.search(clause)):
                continue
            hits = _refers(clause, versions)
            if not hits and k and _VOID.search(clause) and "为准" not in clauses[k - 1]:
                hits = _refers(clauses[k - 1], versions)  # "“…-2.docx”填写不全，请作废"
            void |= hits
    rest = [i for i in range(len(versions)) if i not in void]
    if void and len(rest) == 1:
        return rest[0]
    return _LATEST if latest else None


def _refers(text: str, versions: list[list[FormReading]]) -> set[int]:
    """The versions *text* names: by file name (the longest that fits), else by a version word."""
    said = _QUOTES.sub("", text).lower()
    named = [(len(b), i) for i, v in enumerate(versions) for r in v
             if len(b := _QUOTES.sub("", _base(r.name))) >= 2 and b in said]
    if named:
        longest = max(n for n, _ in named)
        return {i for n, i in named if n == longest}
    for word in _BODY_WORDS:
        marked = {i for i, v in enumerate(versions) if any(word in _base(r.name) for r in v)}
        if word in said and marked:
            return marked
    if any(w in said for w in FINAL_WORDS):  # "以定稿为准" of files named 终稿 and 初稿
        return {i for i, v in enumerate(versions) if max(_mark(r.name) for r in v)[0] == 2}
    return set()


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
        # one unit's two applications: the direction the scan names tells them apart
        # (OCR misreads ticks, so it only ever breaks a tie)
        aside = 0 if not scan.directions or not _directions(group) else \
            -1 if _apart(scan.directions, _directions(group)) else 1
        scored.append(((-1 if -1 in marks else max(marks), aside), group))
    scored.sort(key=lambda x: (-x[0][0], -x[0][1]))
    if not scored or scored[0][0][0] < 15:
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
