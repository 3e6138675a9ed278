"""Many submissions (and held answers) at once, written straight into the tables.

The pipeline takes about a second a mail; the workspace's list, sort, pages and exports
need hundreds or thousands of rows and nothing but the rows. ``crowd`` inserts them with
a few bulk statements, deterministic from its seed: every direction (and some not
identified), both channels, every city, every status, some late, open and resolved
deficiencies, first-received times that do not follow the reference order.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlmodel import Session

from campaign.clock import utcnow
from campaign.codes import CODES
from notifier.models import MailKind, OutboxMail, OutboxState
from support.helpers import CST
from tracker.app import App
from tracker.store.tables import (
    DeficiencyRecord,
    StoredMessage,
    Submission,
    SubmissionStatus,
    SubmissionVersion,
)

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=CST)
WORDS = ("泉河", "海岱", "齐鲁", "泰山", "黄河", "蓬莱", "沂蒙", "琅琊", "华夏", "东岳", "鸢都", "港城")
KINDS = ("数字经济研究院", "数据科技有限公司", "大学", "信息技术股份有限公司", "数据集团有限公司")
# application codes a list shows (the mail- and package-wide ones never hang on a submission)
APPLICATION_CODES = tuple(sorted(c for c, d in CODES.items() if d.scope in ("application", "cross")))
STATUS_WEIGHTS = {SubmissionStatus.incomplete: 4, SubmissionStatus.complete: 5, SubmissionStatus.under_review: 2,
                  SubmissionStatus.selected: 1, SubmissionStatus.not_selected: 1, SubmissionStatus.withdrawn: 1}


def crowd(app: App, n: int, *, start: int = 101, seed: int = 23) -> list[str]:
    """Insert *n* submissions numbered from *start*; their references, in number order."""
    rng = random.Random(seed)
    cities = list(app.policy.catalogue.cities)
    directions = app.policy.catalogue.direction_count
    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    with Session(app.engine) as session:
        msg = StoredMessage(content_key=f"crowd-{seed}-{start}", source="crowd", subject="揭榜挂帅申报书",
                            from_addr="crowd@example.cn", state="processed", intent="submission")
        session.add(msg)
        session.commit()
        subs, versions = [], []
        now = utcnow()
        for i in range(n):
            number = start + i
            channel = "via_city" if rng.random() < 0.4 else "direct"
            received = T0 + timedelta(minutes=rng.randrange(0, 60 * 24 * 14))
            subs.append({
                "round_code": app.policy.code, "reference": f"{app.policy.code}-{number:04d}",
                "lead_key": f"crowd:{seed}:{number}",
                "unit": None if rng.random() < 0.02 else
                f"{rng.choice(WORDS)}{rng.choice(WORDS)}{number}{rng.choice(KINDS)}",
                "uscc": f"91370{rng.randrange(100, 999)}MA{number:08d}"[:18],
                "unit_nature": rng.choice(("central", "provincial", "other", None)),
                "unit_city": rng.choice(cities), "direction": 0 if rng.random() < 0.04 else rng.randint(1, directions),
                "task_name": f"揭榜任务{number}", "task_types": [rng.choice(("theory", "technology", "application"))],
                "partners": [], "channel": channel, "city": rng.choice(cities) if channel == "via_city" else None,
                "status": rng.choices(statuses, weights)[0].value, "late": rng.random() < 0.05,
                "contacts": [f"a{number}@unit{number}.example.cn"], "versions": 1, "standing_version": 1,
                "created_at": now, "updated_at": received + timedelta(minutes=rng.randrange(0, 60 * 24 * 10)),
            })
            versions.append({"number": 1, "message_pk": msg.id, "received_at": received, "late": False,
                             "channel": channel, "documents": [], "fields": {}, "created_at": now})
        session.execute(insert(Submission), subs)
        ids = dict(session.execute(select(Submission.reference, Submission.id)
                                   .where(Submission.lead_key.like(f"crowd:{seed}:%"))).all())
        for row, version in zip(subs, versions, strict=True):
            version["submission_id"] = ids[row["reference"]]
        session.execute(insert(SubmissionVersion), versions)
        problems = []
        for row in subs:
            sid = ids[row["reference"]]
            if row["status"] == SubmissionStatus.incomplete:
                for code in rng.sample(APPLICATION_CODES, rng.randint(1, 2)):
                    problems.append(_problem(sid, code, "open"))
            if rng.random() < 0.2:
                problems.append(_problem(sid, rng.choice(APPLICATION_CODES), "resolved"))
        if problems:
            session.execute(insert(DeficiencyRecord), problems)
        session.commit()
    return [row["reference"] for row in subs]


def _problem(sid: int, code: str, state: str) -> dict[str, object]:
    return {"submission_id": sid, "version": 1, "code": code, "severity": CODES[code].severity,
            "message": CODES[code].title, "state": state, "opened_at": utcnow(),
            "resolved_at": utcnow() if state == "resolved" else None}


def held(app: App, n: int, *, domains: tuple[str, ...] = ("163.com", "qq.com", "sdu.edu.cn"), seed: int = 7
         ) -> list[int]:
    """*n* automatic answers held by the first-contact budget, oldest first; their ids."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        to = f"new{seed}x{i}@{domains[i % len(domains)]}"
        rows.append({"kind": rng.choice((MailKind.ack, MailKind.ack, MailKind.deficiency, MailKind.receipt)).value,
                     "to_addrs": [to], "subject": f"揭榜挂帅申报受理回执 {i}", "text_body": "…", "html_body": "…",
                     "message_id": f"<held.{seed}.{i}@shandong.cn>", "references": [], "attachments": [],
                     "state": OutboxState.held.value, "recipient_key": to, "first_contact": True,
                     "created_at": T0 + timedelta(seconds=i), "next_attempt_at": T0 + timedelta(seconds=i),
                     "auto_submitted": "auto-replied", "attempts": 0, "cause": f"message #{i + 1}"})
    with Session(app.engine) as session:
        session.execute(insert(OutboxMail), rows)
        session.commit()
        found = session.execute(select(OutboxMail.id).where(
            OutboxMail.message_id.like(f"<held.{seed}.%"))).scalars().all()
    return sorted(found)
