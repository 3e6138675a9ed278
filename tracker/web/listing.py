"""The submission list's request side: what the query string asks for (filters, sort, page),
as the records' one query builder (``tracker.records.queries.SubmissionFilter``) — for the
page, its htmx partial and the exports alike — and the links that keep it; and one page of
the held answers on /mail.

Everything a URL can carry is checked against a list here: a sort key not in
``SORT_KEYS`` is the default, a page past the last is the last, at most ``MAX_PER_PAGE``
rows a page. Unknown filter values simply match nothing (a status nobody has).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func
from sqlmodel import Session, col, select

from campaign import CODES
from campaign.policy import RoundPolicy
from notifier.models import OutboxMail, OutboxState
from notifier.outbox import HeldFilter
from tracker.records.assignments import AssignedFilter, assignees_by_reference
from tracker.records.queries import (
    DEFAULT_SORT,
    MAX_PER_PAGE,
    PER_PAGE,
    SORT_KEYS,
    Page,
    SubmissionFilter,
    SubmissionPage,
    submission_counts,
    submission_page,
)
from tracker.store.tables import SubmissionStatus
from tracker.web.readable import code_title

FILTERS = ("direction", "city", "channel", "status", "deficiency", "late", "q", "mine")
PAGING = ("sort", "order", "per_page")  # kept by every link; "page" is each link's own
PER_PAGE_CHOICES = (50, PER_PAGE, MAX_PER_PAGE)
SORT_LABELS = {"reference": "受理编号", "unit": "揭榜单位", "received": "首次收到", "status": "状态",
               "direction": "榜单方向", "city": "城市", "waiting": "等待自"}
HELD_PER_PAGE = 50


def _number(value: str, default: int, *, digits: int = 6) -> int:
    return int(value) if value.isdecimal() and value.isascii() and len(value) <= digits else default


@dataclass(frozen=True)
class ListRequest:
    """What the query string asks of the list; every value a checked string (empty: not given)."""

    chosen: dict[str, str]  # the filters as typed (FILTERS) and the paging (PAGING + "page")

    @classmethod
    def of(cls, params: Mapping[str, Any]) -> ListRequest:
        chosen = {k: str(params.get(k, "") or "").strip()[:100] for k in (*FILTERS, *PAGING, "page")}
        if chosen["sort"] not in SORT_KEYS:
            chosen["sort"] = ""
        chosen["order"] = "desc" if chosen["order"] == "desc" else ""
        per_page = _number(chosen["per_page"], PER_PAGE)
        chosen["per_page"] = str(per_page) if per_page in PER_PAGE_CHOICES and per_page != PER_PAGE else ""
        return cls(chosen)

    @property
    def sort(self) -> str:
        return self.chosen["sort"] or DEFAULT_SORT

    @property
    def descending(self) -> bool:
        return self.chosen["order"] == "desc"

    @property
    def page(self) -> int:
        return max(1, _number(self.chosen["page"], 1))

    @property
    def per_page(self) -> int:
        return _number(self.chosen["per_page"], PER_PAGE)

    def which(self, *, recommended_by: str | None = None, user_id: int | None = None) -> AssignedFilter:
        """The filter for the records; *recommended_by*: the account's scope (a city's staff
        see only what their city recommended), whatever the query string says; *user_id*:
        whose 我的 (``mine=1``) means."""
        c = self.chosen
        return AssignedFilter(
            assignee_id=user_id if c["mine"] == "1" and user_id is not None else None,
            direction=int(c["direction"]) if c["direction"].isdecimal() and len(c["direction"]) < 4 else None,
            city=c["city"] or None, channel=c["channel"] or None, status=c["status"] or None,
            deficiency=c["deficiency"] or None, late={"1": True, "0": False}.get(c["late"]),
            text=c["q"] or None, recommended_by=recommended_by)

    def query(self, **overrides: str | int) -> str:
        """This list's query string with *overrides* (empty values left out)."""
        values: dict[str, str | int] = {k: v for k, v in self.chosen.items() if k != "page"}
        values.update(overrides)
        return urlencode({k: v for k, v in values.items() if v != "" and not (k == "page" and v == 1)})

    def filter_query(self) -> str:
        """Only the filters: what an export of this list takes."""
        return urlencode({k: self.chosen[k] for k in FILTERS if self.chosen[k]})

    def sort_link(self, key: str) -> str:
        """Sorting by *key*: ascending first, the other way when it is the sort already."""
        again = self.sort == key and not self.descending
        return "?" + self.query(sort="" if key == DEFAULT_SORT and not again else key, order="desc" if again else "")


def pages_around(page: SubmissionPage, width: int = 2) -> list[int | None]:
    """Page numbers to link: the first, the last, *width* either side of this one; None: a gap."""
    wanted = {1, page.pages, *range(page.page - width, page.page + width + 1)}
    shown: list[int | None] = []
    for n in sorted(p for p in wanted if 1 <= p <= page.pages):
        if shown and shown[-1] is not None and n - shown[-1] > 1:
            shown.append(None)
        shown.append(n)
    return shown


def counts(session: Session, policy: RoundPolicy, which: SubmissionFilter) -> dict[str, Any]:
    """Per direction (直报 / 市推荐 / 合计) and per city, as the digest counts them."""
    found = submission_counts(session, which)
    cells: dict[tuple[int, str | None], int] = found["cells"]
    by_direction = []
    for d in [*range(1, policy.catalogue.direction_count + 1), 0]:
        total = sum(n for (dd, _), n in cells.items() if dd == d)
        if d or total:
            by_direction.append({"direction": d, "direct": cells.get((d, "direct"), 0),
                                 "via_city": cells.get((d, "via_city"), 0), "total": total})
    order = {c: i for i, c in enumerate(policy.catalogue.cities)}
    by_city = sorted(((c or "未知", n) for c, n in found["cities"].items()), key=lambda cn: (order.get(cn[0], 99), cn[0]))
    return {"directions": by_direction, "cities": by_city, "total": found["total"]}


def context(session: Session, policy: RoundPolicy, params: Mapping[str, Any], *,
            recommended_by: str | None = None, user_id: int | None = None) -> dict[str, Any]:
    """Everything submissions.html and submissions_rows.html show for this query string."""
    asked = ListRequest.of(params)
    which = asked.which(recommended_by=recommended_by, user_id=user_id)
    page = submission_page(session, which, sort=asked.sort, descending=asked.descending, page=asked.page,
                           per_page=asked.per_page, cities=policy.catalogue.cities)
    return {
        "assignees": assignees_by_reference(session, [r["reference"] for r in page.rows]),
        "page": page, "rows": page.rows, "asked": asked, "chosen": asked.chosen, "pages": pages_around(page),
        "counts": counts(session, policy, which), "sort_labels": SORT_LABELS, "per_page_choices": PER_PAGE_CHOICES,
        "statuses": list(SubmissionStatus),
        "codes": [(c, code_title(c)) for c, d in CODES.items() if d.scope != "package"],
    }


# --- held answers (/mail) --------------------------------------------------------------------------
@dataclass(frozen=True)
class HeldPage:
    rows: list[OutboxMail]
    total: int  # held answers the filter matches
    page: int
    per_page: int
    by_kind: list[tuple[str, int]]  # every held answer, per kind
    by_domain: list[tuple[str, int]]  # every held answer, the most frequent recipient domains

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.rows else 0


def held_page(session: Session, which: HeldFilter, page_text: str, *, per_page: int = HELD_PER_PAGE,
              domains: int = 8) -> HeldPage:
    """One page of the held answers *which* matches (oldest first), and the counts of all held."""
    total = int(session.execute(which.count()).scalar_one())
    pages = max(1, -(-total // per_page))
    page = min(max(1, _number(page_text, 1)), pages)
    rows = list(session.execute(which.query().offset((page - 1) * per_page).limit(per_page)).scalars())
    is_held = col(OutboxMail.state) == OutboxState.held
    by_kind = sorted(((str(k), int(n)) for k, n in session.execute(
        select(OutboxMail.kind, func.count()).where(is_held).group_by(col(OutboxMail.kind))).all()),
        key=lambda kn: (-kn[1], kn[0]))
    tally: dict[str, int] = {}
    for key in session.execute(select(OutboxMail.recipient_key).where(is_held)).scalars():
        domain = str(key).rpartition("@")[2]
        tally[domain] = tally.get(domain, 0) + 1
    by_domain = sorted(tally.items(), key=lambda dn: (-dn[1], dn[0]))[:domains]
    return HeldPage(rows, total, page, per_page, by_kind, by_domain)


def held_query(kind: str | None = None, domain: str | None = None, page: int = 1) -> str:
    """/mail's query string for held answers of *kind* and *domain*, page *page*."""
    return urlencode({k: v for k, v in (("kind", kind), ("domain", domain), ("held_page", page))
                      if v and not (k == "held_page" and v == 1)})


# --- the outbox (/mail), newest first ----------------------------------------------------------------
OUTBOX_PER_PAGE = 100


OutboxPage = Page[OutboxMail]  # the same paging as the submission list


def outbox_page(session: Session, page_text: str, *, per_page: int | None = None) -> OutboxPage:
    """One page of the outbox, the newest mail first (a page past the last is the last)."""
    per_page = per_page or OUTBOX_PER_PAGE
    total = int(session.execute(select(func.count()).select_from(OutboxMail)).scalar_one())
    pages = max(1, -(-total // per_page))
    page = min(max(1, _number(page_text, 1)), pages)
    rows = list(session.exec(select(OutboxMail).order_by(col(OutboxMail.id).desc())
                             .offset((page - 1) * per_page).limit(per_page)).all())
    return OutboxPage(rows, total, page, per_page)
