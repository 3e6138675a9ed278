"""The ``jiebang inspect --json`` object (SPEC §4) as a checker: a list of problems, empty when valid.

Test modules import it as ``support.inspect_contract``. The caller passes the code →
severity table to check against (the catalogue's, ``campaign.CODES``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

TOP_KEYS = {
    "message_id", "from", "subject", "received_at", "intent", "reference", "channel", "city",
    "applications", "recommendations", "documents", "deficiencies",
}  # fmt: skip
APPLICATION_KEYS = {
    "unit", "uscc", "unit_nature", "city", "direction", "task_name", "task_types", "partners",
    "contact_email", "documents",
}  # fmt: skip
RECOMMENDATION_KEYS = {"rank", "direction", "unit", "task_name"}
DOCUMENT_KEYS = {"name", "container", "format", "role", "readable", "scanned"}
DEFICIENCY_KEYS = {"code", "severity", "message"}

INTENTS = {"submission", "status_query", "auto_reply", "bounce", "other"}
CHANNELS = {"direct", "via_city", None}
NATURES = {"central", "provincial", "other", None}
TASK_TYPES = {"theory", "technology", "application"}
FORMATS = {"docx", "doc", "wps", "pdf", "xlsx", "xls", "zip", "rar", "7z", "eml", "image", "other"}
ROLES = {"application_form", "recommendation_table", "supporting", "unknown"}
CITIES = {
    f"{c}市"
    for c in "济南 青岛 淄博 枣庄 东营 烟台 潍坊 济宁 泰安 威海 日照 临沂 德州 聊城 滨州 菏泽".split()
}
USCC_CHARS = set("0123456789ABCDEFGHJKLMNPQRTUWXY")

def _kind(value: Any) -> str:
    return type(value).__name__


def _keys(where: str, obj: Any, keys: set[str], out: list[str]) -> bool:
    if not isinstance(obj, dict):
        out.append(f"{where}: expected an object, got {_kind(obj)}")
        return False
    if set(obj) != keys:
        missing, extra = sorted(keys - set(obj)), sorted(set(obj) - keys)
        out.append(f"{where}: keys differ from SPEC §4 (missing {missing}, extra {extra})")
    return True


def _opt_str(where: str, value: Any, out: list[str]) -> None:
    if value is not None and not isinstance(value, str):
        out.append(f"{where}: expected a string or null, got {_kind(value)}")


def _direction(where: str, value: Any, out: list[str], optional: bool = True) -> None:
    if value is None and optional:
        return
    if type(value) is not int or not 1 <= value <= 8:
        out.append(f"{where}: expected 1..8{' or null' if optional else ''}, got {value!r}")


def _one_of(where: str, value: Any, allowed: set, out: list[str]) -> None:
    if not isinstance(value, (str, type(None))) or value not in allowed:
        out.append(f"{where}: {value!r} is not one of {sorted(map(str, allowed))}")


def _str_list(where: str, value: Any, out: list[str]) -> bool:
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        out.append(f"{where}: expected a list of strings, got {value!r:.80}")
        return False
    return True


def contract_problems(obj: Any, severities: dict[str, str], *, code: str = "JB2025") -> list[str]:
    """Everything in ``obj`` that breaks the inspect contract; [] when it is valid."""
    out: list[str] = []
    if not _keys("top level", obj, TOP_KEYS, out):
        return out
    for key in ("message_id", "from", "reference", "city"):
        _opt_str(key, obj.get(key), out)
    if not isinstance(obj.get("subject"), str):
        out.append(f"subject: expected a string, got {_kind(obj.get('subject'))}")
    when = obj.get("received_at")
    if when is not None:
        try:
            parsed = datetime.fromisoformat(when)
            if parsed.tzinfo is None:
                out.append(f"received_at: {when!r} has no UTC offset")
        except (TypeError, ValueError):
            out.append(f"received_at: {when!r} is not ISO-8601")
    _one_of("intent", obj.get("intent"), INTENTS, out)
    ref = obj.get("reference")
    if isinstance(ref, str) and not re.fullmatch(rf"{re.escape(code)}-\d{{4,6}}", ref):
        out.append(f"reference: {ref!r} is not {code}-NNNN")
    _one_of("channel", obj.get("channel"), CHANNELS, out)
    if obj.get("city") is not None:
        _one_of("city", obj.get("city"), CITIES, out)
    documents = _documents(obj.get("documents"), out)
    _applications(obj.get("applications"), documents, out)
    _recommendations(obj.get("recommendations"), out)
    codes = _deficiencies(obj.get("deficiencies"), severities, out)
    if obj.get("intent") == "submission" and isinstance(obj.get("documents"), list):
        if any(isinstance(d, dict) and d.get("readable") is False for d in obj["documents"]):
            if "UNREADABLE_DOCUMENT" not in codes:
                out.append("a document is unreadable but UNREADABLE_DOCUMENT is not reported")
    return out


def _documents(docs: Any, out: list[str]) -> set[str]:
    names: set[str] = set()
    if not isinstance(docs, list):
        out.append(f"documents: expected a list, got {_kind(docs)}")
        return names
    for i, doc in enumerate(docs):
        where = f"documents[{i}]"
        if not _keys(where, doc, DOCUMENT_KEYS, out):
            continue
        if not isinstance(doc.get("name"), str):
            out.append(f"{where}.name: expected a string, got {_kind(doc.get('name'))}")
        else:
            names.add(doc["name"])
        _opt_str(f"{where}.container", doc.get("container"), out)
        _one_of(f"{where}.format", doc.get("format"), FORMATS, out)
        _one_of(f"{where}.role", doc.get("role"), ROLES, out)
        for flag in ("readable", "scanned"):
            if not isinstance(doc.get(flag), bool):
                out.append(f"{where}.{flag}: expected true/false, got {doc.get(flag)!r}")
    return names


def _applications(apps: Any, doc_names: set[str], out: list[str]) -> None:
    if not isinstance(apps, list):
        out.append(f"applications: expected a list, got {_kind(apps)}")
        return
    for i, app in enumerate(apps):
        where = f"applications[{i}]"
        if not _keys(where, app, APPLICATION_KEYS, out):
            continue
        for key in ("unit", "task_name", "contact_email"):
            _opt_str(f"{where}.{key}", app.get(key), out)
        uscc = app.get("uscc")
        if uscc is not None and (
            not isinstance(uscc, str) or len(uscc) != 18 or not set(uscc) <= USCC_CHARS
        ):
            out.append(f"{where}.uscc: {uscc!r} is not 18 USCC characters")
        _one_of(f"{where}.unit_nature", app.get("unit_nature"), NATURES, out)
        if app.get("city") is not None:
            _one_of(f"{where}.city", app.get("city"), CITIES, out)
        _direction(f"{where}.direction", app.get("direction"), out)
        types = app.get("task_types")
        if _str_list(f"{where}.task_types", types, out):
            if not set(types) <= TASK_TYPES or len(set(types)) != len(types):
                out.append(
                    f"{where}.task_types: {types!r} (allowed once each: {sorted(TASK_TYPES)})"
                )
        _str_list(f"{where}.partners", app.get("partners"), out)
        names = app.get("documents")
        if _str_list(f"{where}.documents", names, out) and not set(names) <= doc_names:
            out.append(f"{where}.documents: {sorted(set(names) - doc_names)} not in documents[]")


def _recommendations(recs: Any, out: list[str]) -> None:
    if not isinstance(recs, list):
        out.append(f"recommendations: expected a list, got {_kind(recs)}")
        return
    for i, rec in enumerate(recs):
        where = f"recommendations[{i}]"
        if not _keys(where, rec, RECOMMENDATION_KEYS, out):
            continue
        if type(rec.get("rank")) is not int or rec["rank"] < 1:
            out.append(f"{where}.rank: expected a positive integer, got {rec.get('rank')!r}")
        _direction(f"{where}.direction", rec.get("direction"), out)
        if not isinstance(rec.get("unit"), str):
            out.append(f"{where}.unit: expected a string, got {_kind(rec.get('unit'))}")
        _opt_str(f"{where}.task_name", rec.get("task_name"), out)


def _deficiencies(items: Any, severities: dict[str, str], out: list[str]) -> set[str]:
    codes: set[str] = set()
    if not isinstance(items, list):
        out.append(f"deficiencies: expected a list, got {_kind(items)}")
        return codes
    for i, item in enumerate(items):
        where = f"deficiencies[{i}]"
        if not _keys(where, item, DEFICIENCY_KEYS, out):
            continue
        code = item.get("code")
        if code not in severities:
            out.append(f"{where}.code: {code!r} is not a SPEC §3 code")
        else:
            codes.add(code)
            if item.get("severity") != severities[code]:
                out.append(
                    f"{where}.severity: {code} is {severities[code]!r} in SPEC §3, "
                    f"got {item.get('severity')!r}"
                )
        if not isinstance(item.get("message"), str) or not item["message"].strip():
            out.append(f"{where}.message: expected a non-empty string")
    return codes
