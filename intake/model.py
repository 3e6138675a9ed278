"""Typed results of the intake pipeline (the ``inspect`` contract: docs/contracts.md, "jiebang inspect")."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from intake.authres import SenderAuth

Intent = Literal["submission", "status_query", "acceptance_request", "auto_reply", "bounce", "other"]
Channel = Literal["direct", "via_city"]
Nature = Literal["central", "provincial", "other"]
TaskType = Literal["theory", "technology", "application"]
Format = Literal[
    "docx", "doc", "wps", "pdf", "xlsx", "xls", "zip", "rar", "7z", "eml", "image", "other"
]
Role = Literal["application_form", "recommendation_table", "supporting", "unknown"]
Severity = Literal["error", "warning"]


@dataclass
class Envelope:
    """The few header facts every stored message needs, read without opening parts."""

    message_id: str | None
    from_addr: str | None
    subject: str
    date: datetime | None  # the sender's Date: header (never used for deadlines)
    received_at: datetime | None  # topmost Received: header time, else None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)


# one piece of text OCR found: left, top, right, bottom (pixels, the page upright), text, score
OcrBox = tuple[float, float, float, float, str, float]


@dataclass
class PageLayout:
    """One page read by OCR, as positions: what a table in a picture is read from."""

    width: int
    height: int
    boxes: list[OcrBox] = field(default_factory=list)
    rules: list[float] = field(default_factory=list)  # heights of the horizontal ruled lines


@dataclass
class Document:
    """One opened attachment (or archive member)."""

    name: str
    format: Format
    container: str | None = None
    role: Role = "unknown"
    readable: bool = True
    scanned: bool = False
    error: str | None = None  # why it is unreadable, in plain words
    text: str = ""  # full text in reading order
    tables: list[list[list[str]]] = field(default_factory=list)  # tables → rows → cells
    pages: int = 0
    sha256: str = ""
    size: int = 0
    # -- internal (not in the inspect contract) --
    # pictures of one form's pages (photos, scans): the first file holds the text of them
    # all, ``parts`` names the others in page order, and each of those names it in ``part_of``
    parts: list[str] = field(default_factory=list)
    part_of: str | None = None
    # OCR'd pages that may hold a table (a 推荐汇总表 as a picture): boxes and ruled lines
    layout: list[PageLayout] = field(default_factory=list)
    # when the file says it was last saved, UTC "YYYY-MM-DDTHH:MM:SSZ" (docx core properties,
    # PDF ModDate): which of two versions of one form is the later (intake.extract.merge)
    modified: str | None = None
    # an acceptance request's file: the outcomes it shows (intake.extract.outcomes)
    outcomes: list[str] = field(default_factory=list)

    def contract(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "container": self.container,
            "format": self.format,
            "role": self.role,
            "readable": self.readable,
            "scanned": self.scanned,
        }


@dataclass
class Application:
    unit: str | None = None
    uscc: str | None = None
    unit_nature: Nature | None = None
    city: str | None = None
    direction: int | None = None
    task_name: str | None = None
    task_types: list[TaskType] = field(default_factory=list)
    partners: list[str] = field(default_factory=list)
    contact_email: str | None = None
    documents: list[str] = field(default_factory=list)

    def contract(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Recommendation:
    rank: int
    direction: int | None
    unit: str
    task_name: str | None = None

    def contract(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Deficiency:
    code: str
    severity: Severity
    message: str
    # which of Understanding.applications it concerns (None: the whole message/package);
    # internal — not part of the inspect contract
    application: int | None = None

    def contract(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "message": self.message}


@dataclass
class Understanding:
    """Everything intake learned from one message — the ``inspect --json`` object."""

    message_id: str | None
    from_addr: str | None
    subject: str
    received_at: datetime | None
    intent: Intent = "other"
    reference: str | None = None
    channel: Channel | None = None
    city: str | None = None
    applications: list[Application] = field(default_factory=list)
    recommendations: list[Recommendation] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    deficiencies: list[Deficiency] = field(default_factory=list)
    # --- internal facts for the tracker (not part of the inspect contract) ---
    thread_ids: list[str] = field(default_factory=list)  # In-Reply-To + References
    no_reply_reason: str | None = None  # why no automatic answer may go to the sender
    bounced_message_ids: list[str] = field(default_factory=list)  # a DSN's original Message-IDs
    rules_raised: list[str] = field(default_factory=list)  # codes whose rule raised: staff must look
    late: bool = False  # arrived after the deadline that applies to its channel
    has_table: bool = False  # carries a 推荐汇总表
    sender_city: str | None = None  # the city whose registered bureau address sent it
    sender_auth: SenderAuth = field(default_factory=SenderAuth)  # our server's SPF/DKIM/DMARC verdicts
    vouched: bool = False  # staff took it from 山东通 for ``city`` (`ingest --as-city`)
    objection: str = ""  # the sender's words when they object (异议): a staff item while a 公示期 runs

    def contract(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "from": self.from_addr,
            "subject": self.subject,
            "received_at": self.received_at.isoformat() if self.received_at else None,
            "intent": self.intent,
            "reference": self.reference,
            "channel": self.channel,
            "city": self.city,
            "applications": [a.contract() for a in self.applications],
            "recommendations": [r.contract() for r in self.recommendations],
            "documents": [d.contract() for d in self.documents],
            "deficiencies": [d.contract() for d in self.deficiencies],
        }
