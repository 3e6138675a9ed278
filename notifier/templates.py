"""What each template expects: one TypedDict per template (the tracker builds these).

Templates live in ``templates/zh_CN/`` as three twins per name::

    <name>.subject.txt   one line; the outbox prefixes ``[JB2025-0007]`` itself
    <name>.txt           plain text
    <name>.html          HTML (autoescaped), extends ``_layout.html``

Rendering uses StrictUndefined: a missing key fails loudly. Strings may come from
applicants' documents; control characters are removed from every interpolated value
and HTML is escaped, so no context value can add a header or markup.

Types: datetimes must be timezone-aware (shown in the round's zone via the ``cst``
filter); dates are calendar dates (``cn_date``). Lists may be empty.

==================  ====================  ======================================
template            outbox kind           context
==================  ====================  ======================================
ack                 ack                   AckContext
deficiency          deficiency            DeficiencyContext
redirect            redirect              RedirectContext
status              status                StatusContext
status_list         status                StatusListContext
status_denied       status                StatusDeniedContext (empty)
reminder_applicant  reminder              ReminderApplicantContext
reminder_city       reminder              ReminderCityContext
digest              digest                DigestContext (staff only)
receipt             receipt               ReceiptContext
arrival             receipt               ArrivalContext
claim_notice        claim_notice          ClaimNoticeContext
package_receipt     package_receipt       PackageReceiptContext
==================  ====================  ======================================
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, NotRequired, TypedDict


class DeficiencyItem(TypedDict):
    code: str  # a deficiency code (docs/rules.md), e.g. "USCC_INVALID"
    title: str  # short Chinese title (notifier.wording)
    message: str  # the specific finding, Chinese, from intake's checks
    fix: str  # how to fix it (notifier.wording)


class Bureau(TypedDict):
    contact: str  # "王老师"
    phone: str  # "0531-12345678"
    emails: list[str]


class AckContext(TypedDict):
    reference: str  # "JB2025-0007"
    unit: str  # lead unit
    direction: int  # 1..8
    direction_name: str  # "数据治理" (campaign.labels.direction_name)
    task_name: str | None
    task_types: list[str]  # labels: ["理论研究", "应用实践"] (campaign.labels.task_type_label)
    channel_label: str  # "直报" | "设区市推荐" (campaign.labels.CHANNEL_LABELS)
    city: str | None  # recommending city for via_city, else None
    files: list[str]  # file names received in this mail
    received_at: datetime  # when the mail reached our server (aware)
    versions: int  # how many times this reference has been submitted, 1 = first


class DeficiencyContext(TypedDict):
    reference: str | None  # None when no submission could be recorded
    unit: str | None  # lead unit if known
    items: list[DeficiencyItem]  # wording.applicant_items(...): errors only
    deadline: date | None  # the sender's deadline, None if it has passed / unknown
    received_at: datetime
    # "closed": the deadline has passed by now (a staff correction's notice about an earlier
    # version); otherwise render.situation reads it from the items and dates
    situation: NotRequired[str]


class RedirectContext(TypedDict):
    unit: str | None
    city: str  # the applicant's city, "济南市"
    bureau: Bureau  # that city's big-data bureau
    deadline_city_applicant: date | None  # 2025-01-15; None once it had passed when the mail came


class StatusContext(TypedDict):
    reference: str
    unit: str
    status_label: str  # campaign.labels.STATUS_LABELS[status]
    versions: int
    last_received_at: datetime
    items: list[DeficiencyItem]  # open errors, may be empty


class StatusListItem(TypedDict):
    reference: str
    unit: str
    direction_name: str
    status_label: str


class StatusListContext(TypedDict):
    items: list[StatusListItem]  # only submissions whose address on file is the asker's


class StatusDeniedContext(TypedDict):
    """No details at all: the asker is not the address on file (or named no reference)."""


class ReminderApplicantContext(TypedDict):
    reference: str
    unit: str
    deadline: date
    days_left: int  # 0 = today is the last day
    items: list[DeficiencyItem]  # what is still open


class ReminderCityContext(TypedDict):
    city: str
    deadline: date
    days_left: int


class DigestContext(TypedDict):
    """The staff digest. Every number is computed by ``tracker.reports.digest.gather``; the
    template only lays the values out (notifier does not import tracker, hence Any)."""

    digest: Any  # tracker.reports.digest.Digest (frozen dataclass; attributes documented there)
    chart_src: str | None  # "cid:chart" in the mail, a data: URI in a file, None: no chart


class ReceiptContext(TypedDict):
    """A neutral receipt: the mail is held for staff (a claim). Nothing about any record."""

    received_at: datetime
    files: list[str]  # the sender's own attachment names


class ArrivalContext(TypedDict):
    """The mail arrived and is being checked; the full answer follows in the same thread
    (``notify.receipt_after_seconds``). Sent before anything of the mail is understood."""

    received_at: datetime  # when it reached our server: what counts for the deadline


class ClaimNoticeContext(TypedDict):
    """To the addresses on file: someone else sent material for their application.
    Their own reference only — none of the other mail's content."""

    reference: str
    received_at: datetime


class PackageRow(TypedDict):
    reference: str
    rank: int | None  # its place in the city's 推荐汇总表 (None: the table does not list it)
    unit: str
    direction_name: str
    problems: list[DeficiencyItem]  # what is still open for this application


class PackageReceiptContext(TypedDict):
    """To a city bureau: one receipt for its whole package, addressed to the bureau."""

    city: str
    received_at: datetime
    version: int  # the city's how-manieth package
    rows: list[PackageRow]
    items: list[DeficiencyItem]  # problems of the package as a whole
    deadline: date | None


# --- after intake (SPEC sections 6 and 7) -------------------------------------------------
class ResultContext(TypedDict):
    """An applicant's own result, released by staff: nothing of any other application."""

    reference: str
    unit: str
    outcome: str  # selected | not_selected | formal_failed
    outcome_label: str
    reason: str  # a formal fail's reason, as staff wrote it
    direction: str
    list_title: str
    notice_ends: date | None  # the 公示期's last day (selected only)


class ResultRow(TypedDict):
    reference: str
    unit: str
    outcome_label: str
    direction: str
    reason: str


class ResultCityContext(TypedDict):
    """To a city bureau: the results of all its recommendations, one mail."""

    city: str
    rows: list[ResultRow]


class ExpertInviteContext(TypedDict):
    """An expert's invitation or reminder: where to sign in — never an application's data."""

    name: str
    panel: str
    round_title: str
    sign_in: str
    login: str
    reminder: bool
    pending: int


class AcceptanceFile(TypedDict):
    name: str  # the sender's attachment name
    kinds: str  # what it shows (研究报告、创新成果 …), our own labels


class AcceptanceContext(TypedDict):
    """The answer to an acceptance request: received, missing (named), what follows."""

    reference: str
    unit: str
    files: list[AcceptanceFile]
    items: list[DeficiencyItem]  # ACCEPTANCE_OUTCOME_MISSING, one per missing outcome
    missing: int  # how many promised outcomes are missing (the subject says whether any)
    received_at: datetime


class AcceptanceReminderContext(TypedDict):
    """Once: acceptance due and not asked for (``due``), or a rework's date near (``until``)."""

    reference: str
    unit: str
    due: date | None
    until: date | None
    outcomes: str  # the promised outcomes, our own labels


class AnswerContext(TypedDict):
    """A person's answer, from the workspace, to a mail that needed one (需人工答复)."""

    paragraphs: list[str]  # the staff member's text, a line each
    received_at: datetime  # when the mail answered arrived
    subject: str  # its subject, as the sender wrote it


CONTEXTS: dict[str, type] = {
    "ack": AckContext,
    "deficiency": DeficiencyContext,
    "redirect": RedirectContext,
    "status": StatusContext,
    "status_list": StatusListContext,
    "status_denied": StatusDeniedContext,
    "reminder_applicant": ReminderApplicantContext,
    "reminder_city": ReminderCityContext,
    "digest": DigestContext,
    "receipt": ReceiptContext,
    "arrival": ArrivalContext,
    "claim_notice": ClaimNoticeContext,
    "package_receipt": PackageReceiptContext,
    "result": ResultContext,
    "result_city": ResultCityContext,
    "expert_invite": ExpertInviteContext,
    "acceptance": AcceptanceContext,
    "acceptance_reminder": AcceptanceReminderContext,
    "answer": AnswerContext,
}

KIND_OF_TEMPLATE: dict[str, str] = {
    "ack": "ack",
    "deficiency": "deficiency",
    "redirect": "redirect",
    "status": "status",
    "status_list": "status",
    "status_denied": "status",
    "reminder_applicant": "reminder",
    "reminder_city": "reminder",
    "digest": "digest",
    "receipt": "receipt",
    "arrival": "receipt",
    "claim_notice": "claim_notice",
    "package_receipt": "package_receipt",
    "result": "result",
    "result_city": "result",
    "expert_invite": "expert_invite",
    "acceptance": "acceptance",
    "acceptance_reminder": "acceptance_reminder",
    "answer": "answer",
}
