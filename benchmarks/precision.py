"""Precision and recall of intake's deficiency findings on a generated corpus (issue #11).

    .venv/bin/python benchmarks/precision.py [--formats docx,doc,pdf,scan] [--json PATH]

Runs ``intake.understand.understand`` (what `jiebang inspect` and the service run) on
every generated case that knows the findings it deserves:

- the free-typed forms of ``tests/intake/test_unseen_layouts.py`` (CASES, MORE, EXTRA,
  HINTS, NAMES) as .docx and, with LibreOffice, as .doc and PDF, and its SCANNED forms as
  200 dpi scans. Those tests assert only some codes (``has``/``lacks``); the full set
  each form deserves is ``REVIEWED`` below (the findings of the .docx copy, reviewed
  case by case). A scan deserves the same, except that a field OCR cannot read is not
  the applicant's omission: the "missing"/"invalid" codes give way to OCR_USED;
- the cases of ``tests/support/precision.py`` (scan-only forms, supporting documents,
  Word + scan packages, one table in two formats), each with its exact set of codes,
  and its HELD_OUT cases (written after the fixes, in layouts they were not tuned on);
- the unrelated mails of ``tests/intake/test_not_applications.py`` (no finding at all).

Prints a per-code confusion table (true / false / missed findings, precision, recall),
the overall figures, the same for applicant-facing codes (errors) alone, field accuracy
(each field a case states, compared with the first application) and crashes (a rule
that raised, or ``understand`` failing to return a submission's applications).
Findings are compared as sets of codes per mail.

To measure another tree (the branch's start, say), put its ``intake`` first on
``PYTHONPATH``; the corpus always comes from this checkout's tests.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

# codes that say the applicant left something out or wrote it wrong: on a form read only
# from a scan they give way to OCR_USED (OCR could not read it; staff look)
OCR_STEPS_BACK = {"DIRECTION_MISSING", "TASK_TYPE_MISSING", "UNKNOWN_UNIT_NATURE", "OUTCOME_MISSING",
                  "MULTIPLE_DIRECTIONS", "USCC_INVALID"}  # fmt: skip

# the codes each unseen-layout form deserves (as .docx, .doc, .wps or a PDF with text)
_UNKNOWN = {"UNKNOWN_UNIT_NATURE"}
REVIEWED: dict[str, set[str]] = {
    "all_eight_listed_none_chosen": {"DIRECTION_MISSING", *_UNKNOWN},
    "applicant_names_its_city_bureau_as_recommender": {"WRONG_CHANNEL"},
    "central_national_code": set(),
    "city_only_from_uscc": _UNKNOWN,
    "consortium_numbered_line": _UNKNOWN,
    "diamond_ticks": _UNKNOWN,
    "direction_full_heading": _UNKNOWN,
    "direction_fullwidth_digit": _UNKNOWN,
    "direction_in_a_sentence": _UNKNOWN,
    "direction_sixth": _UNKNOWN,
    "direction_tick_grid": _UNKNOWN,
    "empty_template_rows": _UNKNOWN,
    "four_column_pairs": set(),
    "hint_next_to_the_choice": _UNKNOWN,
    "instructions_as_a_note": {"DIRECTION_MISSING", "TASK_TYPE_MISSING", *_UNKNOWN},
    "instructions_do_not_tick": _UNKNOWN,
    "instructions_in_a_table_row": {"DIRECTION_MISSING", "TASK_TYPE_MISSING", *_UNKNOWN},
    "instructions_only_no_choice": {"DIRECTION_MISSING", "TASK_TYPE_MISSING", *_UNKNOWN},
    "label_and_value_same_cell": _UNKNOWN,
    "label_tail_instructions": _UNKNOWN,
    "lead_in_beijing": {"NOT_IN_SHANDONG", *_UNKNOWN},
    "lead_seal_label": set(),
    "mistyped_uscc_keeps_its_city": {"USCC_INVALID", *_UNKNOWN},
    "nature_private_non_enterprise": {"WRONG_CHANNEL"},
    "nature_university": set(),
    "nature_written_central_enterprise": set(),
    "one_paragraph_per_field": _UNKNOWN,
    "outcome_missing": {"OUTCOME_MISSING", *_UNKNOWN},
    "partner_codes_in_the_cell": _UNKNOWN,
    "partner_outside_shandong": _UNKNOWN,
    "partner_table_with_location": _UNKNOWN,
    "partners_none_words": _UNKNOWN,
    "partners_not_applicable": _UNKNOWN,
    "partners_slash": _UNKNOWN,
    "placeholder_hints_left_in_cells": {"DIRECTION_MISSING", "TASK_TYPE_MISSING", *_UNKNOWN},
    "province_level_code": set(),
    "required_marks_and_seal": {"WRONG_CHANNEL"},
    "role_tails": _UNKNOWN,
    "stamp_note_on_its_own_line": _UNKNOWN,
    "star_prefix_spaced_labels": _UNKNOWN,
    "task_type_and_outcome_in_one_cell": _UNKNOWN,
    "task_types_written_several": _UNKNOWN,
    "three_partners_too_many": {"CONSORTIUM_TOO_LARGE", *_UNKNOWN},
    "traditional_labels_and_options": _UNKNOWN,
    "traditional_name": _UNKNOWN,
    "two_directions": {"MULTIPLE_DIRECTIONS", *_UNKNOWN},
    "uscc_spaced_lowercase": _UNKNOWN,
    "uscc_wrong_check": {"USCC_INVALID", *_UNKNOWN},
    "values_on_next_line": set(),
    "vertical_form_header_first_column": _UNKNOWN,
    "vertical_header_column": _UNKNOWN,
}


def _module(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class Item:
    """One mail of the corpus and what it deserves."""

    def __init__(self, name: str, group: str, raw: bytes, codes: set[str],
                 fields: dict[str, Any] | None = None, intent: str = "submission") -> None:  # fmt: skip
        self.name, self.group, self.raw, self.codes = name, group, raw, codes
        self.fields, self.intent = fields or {}, intent


def corpus(formats: set[str]) -> list[Item]:
    for path in (str(REPO / "tests"), str(REPO)):
        if path not in sys.path:
            sys.path.append(path)  # after PYTHONPATH: another tree's intake may come first
    from support.factory import office
    from support.formfactory import make_eml, scan_pdf
    from support.precision import CASES, HELD_OUT

    unseen = _module(REPO / "tests" / "intake" / "test_unseen_layouts.py", "_unseen_layouts")
    forms = {**unseen.ALL_FORMS, **unseen.HINTS, **unseen.NAMES}
    missing = set(forms) - set(REVIEWED)
    assert not missing, f"review the findings these forms deserve: {sorted(missing)}"
    items: list[Item] = []
    docx = {name: unseen.make_docx(case.blocks) for name, case in forms.items()}
    if "docx" in formats:
        for name, data in docx.items():
            raw = make_eml(attachments=[(f"{name}-申报书.docx", data)])
            items.append(Item(name, "unseen docx", raw, REVIEWED[name], forms[name].expect))
    converted: dict[str, dict[str, bytes]] = {}
    wanted = {"doc", "pdf"} & formats | ({"pdf"} if "scan" in formats else set())
    if wanted and office.soffice_available():
        files = {f"{name}.docx": data for name, data in docx.items()}
        converted = {fmt: office.convert(files, fmt) for fmt in sorted(wanted)}
    for fmt in ("doc", "pdf"):
        if fmt in formats and fmt in converted:
            for name in forms:
                raw = make_eml(attachments=[(f"{name}-申报书.{fmt}", converted[fmt][f"{name}.{fmt}"])])
                items.append(Item(name, f"unseen {fmt}", raw, REVIEWED[name], forms[name].expect))
    if "scan" in formats and "pdf" in converted:
        for param in unseen.SCANNED:
            name = param if isinstance(param, str) else param.values[0]
            pdf = scan_pdf(converted["pdf"][f"{name}.pdf"], dpi=200)
            raw = make_eml(attachments=[(f"{name}-扫描件.pdf", pdf)])
            codes = (REVIEWED[name] - OCR_STEPS_BACK) | {"OCR_USED"}
            want = {k: forms[name].expect[k] for k in ("unit", "uscc", "city") if k in forms[name].expect}
            items.append(Item(name, "unseen scan", raw, codes, want))
    for name, case in CASES.items():
        items.append(Item(name, f"precision {case.kind}", case.build(), set(case.codes),
                          case.fields[0] if case.fields else {}, case.intent))  # fmt: skip
    for name, case in HELD_OUT.items():
        if case.office and not office.soffice_available():
            continue
        items.append(Item(name, "held out", case.build(), set(case.codes),
                          case.fields[0] if case.fields else {}, case.intent))  # fmt: skip
    if office.soffice_available():
        unrelated = _module(REPO / "tests" / "intake" / "test_not_applications.py", "_not_applications")
        for name, raw in unrelated._mails().items():
            intent = "auto_reply" if name == "out_of_office" else "other"
            items.append(Item(name, "not an application", raw, set(), intent=intent))
    return items


def measure(items: list[Item], policy: Any) -> dict[str, Any]:
    from intake.understand import understand

    true, false, missed = Counter(), Counter(), Counter()  # type: ignore[var-annotated]
    per_group: dict[str, list[int]] = {}  # group → [cases, true, false, missed, fields ok, fields]
    fields_ok = fields_all = crashes = intents_wrong = 0
    wrong: list[str] = []
    started = time.monotonic()
    for item in items:
        try:
            u = understand(item.raw, policy)
            got_contract = u.contract()
            crashed = bool(u.rules_raised)
        except Exception as exc:  # understand() promises never to raise: count it
            got_contract, crashed = {"deficiencies": [], "applications": [], "intent": repr(exc)}, True
        crashes += crashed
        got = {d["code"] for d in got_contract["deficiencies"]}
        g = per_group.setdefault(item.group, [0, 0, 0, 0, 0, 0])
        g[0] += 1
        g[1] += len(got & item.codes)
        g[2] += len(got - item.codes)
        g[3] += len(item.codes - got)
        true.update(got & item.codes)
        false.update(got - item.codes)
        missed.update(item.codes - got)
        intents_wrong += got_contract["intent"] != item.intent
        apps = got_contract["applications"]
        for key, value in item.fields.items():
            fields_all += 1
            have = apps[0].get(key) if apps else None
            if key in ("task_types", "partners") and isinstance(have, list):
                have, value = sorted(have), sorted(value)
            fields_ok += have == value
            g[4] += have == value
            g[5] += 1
            if have != value:
                wrong.append(f"{item.group} / {item.name}: field {key}={have!r}, want {value!r}")
        if got != item.codes or got_contract["intent"] != item.intent:
            wrong.append(f"{item.group} / {item.name}: +{sorted(got - item.codes)} -{sorted(item.codes - got)}"
                         f" intent={got_contract['intent']}")  # fmt: skip
    codes = sorted(set(true) | set(false) | set(missed))
    return {
        "cases": len(items),
        "seconds": round(time.monotonic() - started, 1),
        "per_code": {c: {"true": true[c], "false": false[c], "missed": missed[c]} for c in codes},
        "per_group": per_group,
        "fields": [fields_ok, fields_all],
        "crashes": crashes,
        "intents_wrong": intents_wrong,
        "wrong": wrong,
    }


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "—"


def table(result: dict[str, Any], groups: Counter[str]) -> str:
    from campaign.codes import CODES

    lines = ["| code | severity | true | false | missed | precision | recall |", "|---|---|---:|---:|---:|---:|---:|"]
    totals = {"all": [0, 0, 0], "error": [0, 0, 0]}
    for code, c in result["per_code"].items():
        severity = CODES[code].severity if code in CODES else "?"
        lines.append(f"| {code} | {severity} | {c['true']} | {c['false']} | {c['missed']} | "
                     f"{_ratio(c['true'], c['true'] + c['false'])} | {_ratio(c['true'], c['true'] + c['missed'])} |")  # fmt: skip
        for key in ("all", severity):
            if key in totals:
                for i, k in enumerate(("true", "false", "missed")):
                    totals[key][i] += c[k]
    for key, label in (("all", "**all codes**"), ("error", "**errors (sent to applicants)**")):
        t, f, m = totals[key]
        lines.append(f"| {label} | | {t} | {f} | {m} | **{_ratio(t, t + f)}** | **{_ratio(t, t + m)}** |")
    lines += ["", "| cases | n | true | false | missed | precision | recall | fields |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for group, (n, t, f, m, fo, fa) in sorted(result["per_group"].items()):
        lines.append(f"| {group} | {n} | {t} | {f} | {m} | {_ratio(t, t + f)} | {_ratio(t, t + m)} | "
                     f"{fo}/{fa} |")  # fmt: skip
    ok, total = result["fields"]
    lines += [
        "",
        f"Cases: {result['cases']} ({', '.join(f'{g}: {n}' for g, n in sorted(groups.items()))}); "
        f"{result['seconds']} s in `understand()`.",
        f"Fields: {ok}/{total} = {_ratio(ok, total)}. Wrong intent: {result['intents_wrong']}. "
        f"Crashes: {result['crashes']}.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--formats", default="docx,doc,pdf,scan",
                        help="unseen-layout forms as: docx, doc, pdf, scan (comma-separated)")  # fmt: skip
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--show-wrong", action="store_true", help="list the cases whose findings differ")
    args = parser.parse_args()
    for path in (str(REPO / "tests"), str(REPO)):
        if path not in sys.path:
            sys.path.append(path)
    import intake
    from tracker.config import load_settings

    policy = load_settings(REPO / "tests" / "support" / "samples-config.yaml").round_policy()
    started = time.monotonic()
    items = corpus(set(args.formats.split(",")))
    print(f"intake from {Path(intake.__file__).parent}; corpus built in {time.monotonic() - started:.0f} s",
          file=sys.stderr)  # fmt: skip
    result = measure(items, policy)
    print(table(result, Counter(i.group for i in items)))
    if args.show_wrong:
        print("\n".join(["", *result["wrong"]]))
    if args.json:
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
