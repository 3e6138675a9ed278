"""What a clerk reads instead of our internals: deficiency codes by their titles, the event
log's details, quarantine reasons, and field values as the notice names them.

The records keep their codes and English details (the CLI, the JSON contracts and the logs
read them); pages pass them through these functions on the way out. A detail or a reason
nobody here recognises is shown as it was stored — better a raw line than a silent gap.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import combinations
from typing import Any

from campaign import CODES, Catalogue
from campaign.labels import (
    CHANNEL_LABELS,
    CLAIM_KIND_LABELS,
    FIELD_LABELS,
    INTENT_LABELS,
    MAIL_KIND_LABELS,
    NATURE_LABELS,
    STATUS_LABELS,
    direction_label,
    task_type_label,
)
from notifier.wording import title_of

EMPTY = "（空）"


def code_title(code: str) -> str:
    """A deficiency code as staff read it (its title); an undeclared code as itself."""
    return title_of(code) if code in CODES else code


def code_titles(codes: Any, sep: str = "；") -> str:
    return sep.join(code_title(c) for c in codes or ())


def field_value(field: str, value: Any) -> str:
    """A field's value (as stored, or as an override keeps it) in words; empty as （空）."""
    if value in (None, "", 0, []) or value == ():
        return EMPTY
    if field == "direction":
        return direction_label(int(value)) if str(value).isdigit() else str(value)
    if field == "unit_nature":
        return NATURE_LABELS.get(str(value), str(value))
    if field == "task_types":
        return "、".join(task_type_label(str(v)) for v in value) if isinstance(value, list) else task_type_label(str(value))
    if isinstance(value, list):
        return "、".join(map(str, value))
    return str(value)


# --- the event log ---------------------------------------------------------------------------------
_ARROW = re.compile(r"^(?P<old>[a-z_]+) → (?P<new>[a-z_]+)(?:：(?P<note>.*))?$", re.S)
_KIND_TO = re.compile(r"^(?P<kind>[a-z_]+) → (?P<to>.*)$", re.S)
_CLAIM = re.compile(r"^#(?P<id>\d+) (?P<kind>[a-z_]+)(?P<rest>[:：].*)?$", re.S)
_BOTH = re.compile(r"^(?P<a>[a-z_]+) \+ (?P<b>[a-z_]+); counts as (?P<c>[a-z_]+)$")
_CORRECTED = re.compile(r"^(?P<label>[^：]+)：(?P<old>.*?) → (?P<new>.*?)(?:：(?P<note>.*))?$", re.S)


def _status(key: str) -> str:
    return STATUS_LABELS.get(key, key)


def _status_change(detail: str) -> str | None:
    m = _ARROW.match(detail)
    if not m:
        return None
    note = m["note"]
    return f"{_status(m['old'])} → {_status(m['new'])}" + (f"：{note}" if note else "")


def _codes(detail: str) -> str:
    parts = [p for p in re.split(r"[,\s]+", detail.strip()) if p]
    return "、".join(code_title(p) for p in parts) if parts else detail


def _mail_to(detail: str) -> str | None:
    m = _KIND_TO.match(detail)
    return f"{MAIL_KIND_LABELS.get(m['kind'], m['kind'])} → {m['to']}" if m else None


def _claim(detail: str) -> str | None:
    m = _CLAIM.match(detail)
    if not m:
        return None
    rest = (m["rest"] or "").lstrip(":：").strip()
    return f"#{m['id']} {CLAIM_KIND_LABELS.get(m['kind'], m['kind'])}" + (f"：{rest}" if rest else "")


def _both_channels(detail: str) -> str | None:
    m = _BOTH.match(detail)
    if not m:
        return None
    def ch(key: str) -> str:
        return CHANNEL_LABELS.get(key, key)
    return f"{ch(m['a'])}、{ch(m['b'])}均收到；按{ch(m['c'])}计"


_FIELD_OF_LABEL = {label: key for key, label in FIELD_LABELS.items()}


def _corrected(detail: str) -> str | None:
    """``单位性质：central → provincial：note`` with the values named (old details kept keys)."""
    m = _CORRECTED.match(detail)
    if not m or m["label"] not in _FIELD_OF_LABEL:
        return None
    key = _FIELD_OF_LABEL[m["label"]]

    def shown(text: str) -> str:
        if text in ("", EMPTY, "0", "None"):
            return EMPTY
        if key == "task_types":
            return "、".join(task_type_label(t) for t in text.split("、"))
        return field_value(key, int(text) if key == "direction" and text.isdigit() else text)
    return f"{m['label']}：{shown(m['old'])} → {shown(m['new'])}" + (f"：{m['note']}" if m["note"] else "")


def _reprocessed(detail: str) -> str:
    def one(part: str) -> str:
        what, _, change = part.partition(": ")
        if what == "intent":
            before, _, after = change.partition(" → ")
            return f"来信类型：{INTENT_LABELS.get(before, before)} → {INTENT_LABELS.get(after, after)}"
        return f"受理编号：{change}" if what == "references" else part
    return "；".join(one(p) for p in detail.split("; ")) if detail else detail


_DETAILS: dict[str, Callable[[str], str | None]] = {
    "status_changed": _status_change, "status_set": _status_change,
    "deficiency_opened": _codes, "deficiency_resolved": _codes, "mail_without_form": _codes,
    "corrected_notice_queued": _mail_to, "notification_bounced": _mail_to,
    "claim_held": _claim, "claim_confirmed": _claim, "claim_rejected": _claim,
    "received_on_both_channels": _both_channels, "field_corrected": _corrected, "reprocessed": _reprocessed,
    "login": lambda d: d.replace("from ", "来自 ", 1), "login_failed": lambda d: d.replace("from ", "来自 ", 1),
}


def event_detail(kind: str, detail: str | None) -> str:
    """An event's detail in words: status keys as labels, codes as titles, mail kinds named."""
    text = detail or ""
    translate = _DETAILS.get(kind)
    if translate is None or not text:
        return text
    return translate(text) or text


# --- quarantine reasons ------------------------------------------------------------------------
# (pattern, Chinese); searched in order, the first that matches names the cause; "{…}" from groups
_CAUSES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"CPU limit \((?P<s>[\d.]+) s"), "占用 CPU 时间超过上限（{s} 秒）"),
    (re.compile(r"memory limit \((?P<mb>\d+) MB|memory above (?P<mb2>\d+) MB"), "占用内存超过上限（{mb} MB）"),
    (re.compile(r"killed: over (?P<s>[\d.]+) s"), "处理超时（超过 {s} 秒）"),
    (re.compile(r"worker stopped answering"), "处理进程无响应"),
    (re.compile(r"worker killed by SIGKILL"), "处理进程被强制终止（可能内存不足）"),
    (re.compile(r"worker killed by (?P<sig>SIG\w+)"), "处理进程被信号 {sig} 终止"),
    (re.compile(r"worker exited with status (?P<code>-?\d+)"), "处理进程异常退出（状态 {code}）"),
    (re.compile(r"worker error"), "处理进程出错"),
    (re.compile(r"the process stopped while understanding it"), "处理中途进程停止"),
    (re.compile(r"rule\(s\) raised while checking: (?P<rules>[^()]+?) \(see the log\)"),
     "校验规则出错（{rules}），详见日志"),
    (re.compile(r"BlobMissing|no raw bytes"), "原始邮件文件缺失"),
    (re.compile(r"message too large to fetch \((?P<size>[\d,]+) bytes"), "邮件过大（{size} 字节），未自动收取，请手工取回"),
    (re.compile(r"message body could not be fetched"), "邮件正文未能收取"),
    (re.compile(r"header values could not be stored"), "邮件头无法保存（格式异常）"),
    (re.compile(r"(?i)unreadable|could not be (read|parsed)|MIME defect|UnicodeDecodeError|not a message"),
     "邮件无法解析"),
]
_GAVE_UP_DEATHS = re.compile(r"^gave up after (?P<n>\d+) worker deaths: (?P<rest>.*)$", re.S)
_GAVE_UP_ATTEMPTS = re.compile(r"^gave up after (?P<n>\d+) attempts: (?P<rest>.*)$", re.S)
_ATTEMPT = re.compile(r"^attempt (?P<n>\d+): (?P<rest>.*)$", re.S)


def _cause(text: str) -> str:
    for pattern, words in _CAUSES:
        m = pattern.search(text)
        if m:
            values = {k: v for k, v in m.groupdict().items() if v is not None}
            values.setdefault("mb", values.get("mb2", "?"))
            if "rules" in values:
                values["rules"] = "、".join(code_title(r.strip()) for r in values["rules"].split(","))
            return words.format(**values)
    return "处理出错"  # an exception of ours: its class and message are in the raw text


def quarantine_reason(error: str | None) -> str:
    """Why a message is quarantined, in Chinese: the family of the cause, with its figures
    (the raw text stays available to whoever needs it)."""
    text = (error or "").strip()
    if not text:
        return "原因不明"
    m = _GAVE_UP_DEATHS.match(text)
    if m:
        return f"处理进程 {m['n']} 次意外终止后放弃：{_cause(m['rest'])}"
    m = _GAVE_UP_ATTEMPTS.match(text)
    if m:
        inner = _ATTEMPT.match(m["rest"])
        return f"尝试 {m['n']} 次后放弃：{_cause(inner['rest'] if inner else m['rest'])}"
    m = _ATTEMPT.match(text)
    if m:
        return f"第 {m['n']} 次处理失败：{_cause(m['rest'])}"
    return _cause(text)


# --- outbox causes --------------------------------------------------------------------------------
_MAIL_CAUSES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^message #(?P<n>\d+)$"), "来信 #{n}"),
    (re.compile(r"^daily digest$"), "每日汇总"),
    (re.compile(r"^correction by (?P<who>.+)$"), "{who} 更正后通知"),
    (re.compile(r"^deadline (?P<day>.+)$"), "截止提醒（{day}）"),
]


def mail_cause(cause: str | None) -> str:
    """Why an answer was written (``outbox.cause``), in words."""
    text = (cause or "").strip()
    for pattern, words in _MAIL_CAUSES:
        m = pattern.match(text)
        if m:
            return words.format(**m.groupdict())
    return text


# --- what a correction may choose from ---------------------------------------------------------------
def choices(catalogue: Catalogue, field: str) -> list[tuple[str, str]]:
    """(value as the form posts it, label) for the fields staff pick rather than type; [] otherwise.
    Task types: every combination, in the catalogue's order (a form names one or more)."""
    if field == "unit_nature":
        return list(NATURE_LABELS.items())
    if field == "unit_city":
        return [(c, c) for c in catalogue.cities]
    if field == "direction":
        return [(str(n), catalogue.direction_label(n)) for n in range(1, catalogue.direction_count + 1)]
    if field == "task_types":
        kinds = catalogue.task_types
        return [(",".join(t.key for t in combo), "、".join(t.label for t in combo))
                for size in range(1, len(kinds) + 1) for combo in combinations(kinds, size)]
    return []


def chosen_value(field: str, value: Any) -> str:
    """The current value as :func:`choices` posts it (to preselect it)."""
    if field == "task_types":
        return ",".join(value or [])
    return str(value or "")


# the pages' Jinja filters (tracker.web.pages)
FILTERS: dict[str, Callable[..., Any]] = {
    "code": code_title, "codes": code_titles, "field_value": lambda value, field: field_value(field, value),
    "event_detail": lambda detail, kind: event_detail(kind, detail), "reason": quarantine_reason,
    "mail_cause": mail_cause, "choices": choices, "chosen_value": lambda value, field: chosen_value(field, value),
}
