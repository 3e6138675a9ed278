"""Credit checks and conflicts look units up by key (``submission_unit_key``, migration 0014)
instead of reading every submission: among many unrelated applications they find a partner's
conflict and a dishonest partner's applications — names written with other spaces and
brackets, a lead known by its credit code — follow staff's corrections at once, and answer
exactly what comparing the unit with every submission answers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlmodel import Session, select
from support.records import make_app

from campaign.policy import RoundPolicy
from intake.model import Application, Understanding
from tracker.records import overrides
from tracker.records.review.credit import record_credit
from tracker.records.review.experts import (
    Conflict,
    add_expert,
    all_conflicts,
    experts,
    found_conflict,
)
from tracker.records.review.units import matches, units_of
from tracker.records.submissions import apply_submission
from tracker.store.tables import StoredMessage, Submission, SubmissionStatus

UNRELATED = 200
LEAD_A, PARTNER_A = "山东省泉河数字经济研究院", "济南联合数据科技（集团）有限公司"
UNIT_B, USCC_B = "潍坊市数据港科技有限公司", "91370700MA3C4D5E6X"
BAD, BAD_USCC = "某某失信工程有限公司", "91370300MA3D7E8F9Y"
PASSWORD = "expert password 2025"


def _record(session: Session, policy: RoundPolicy, n: int, apps: Sequence[Application]) -> list[Submission]:
    """*apps* recorded as one mail is: the records' own writing, keys and all."""
    msg = StoredMessage(content_key=f"unit-keys-{n}", source="test", from_addr=f"a{n}@unit{n}.example.cn",
                        state="processed", intent="submission")
    session.add(msg)
    session.flush()
    result = Understanding(message_id=None, from_addr=msg.from_addr, subject="揭榜挂帅申报书", received_at=None,
                           intent="submission", channel="direct", applications=list(apps))
    return [sub for sub, _, _ in apply_submission(session, msg, result, policy).versions]


def _unrelated(session: Session, policy: RoundPolicy) -> list[Submission]:
    return _record(session, policy, 0, [
        Application(unit=f"无关单位{i}有限公司", uscc=f"91370100MA{i:08d}", direction=1 + i % 8,
                    partners=[f"无关合作单位{i}"] if i % 2 else [])
        for i in range(UNRELATED)])


def _every_conflict(session: Session) -> list[Conflict]:
    """What the conflicts were before keys: every expert compared with every submission."""
    subs = session.exec(select(Submission).where(Submission.status != SubmissionStatus.withdrawn)).all()
    return sorted((Conflict(e.name, s.reference, reason) for e in experts(session) for s in subs
                   if (reason := found_conflict(e, s)) is not None), key=lambda c: (c.expert, c.reference))


def _every_application_of(session: Session, name: str) -> list[str]:
    subs = session.exec(select(Submission).order_by(Submission.reference)).all()
    return [s.reference for s in subs if any(matches(u, name, None) for u in units_of(s))]


@pytest.fixture
def session(tmp_path: Path, db_url: str):
    app = make_app(tmp_path, db_url)
    with app.round(), Session(app.engine, expire_on_commit=False) as s:
        yield s, app.policy


def test_a_partner_units_conflict_is_found_by_key_among_many_and_follows_corrections(session) -> None:
    s, policy = session
    unrelated = _unrelated(s, policy)
    (a,) = _record(s, policy, 1, [Application(unit=LEAD_A, uscc="12370000MA3QH7K2XA", direction=2,
                                              partners=[PARTNER_A])])
    (b,) = _record(s, policy, 2, [Application(unit=UNIT_B, uscc=USCC_B, direction=2)])
    (gone,) = _record(s, policy, 3, [Application(unit="撤回的单位", direction=3, partners=[PARTNER_A])])
    gone.status = SubmissionStatus.withdrawn
    s.add(gone)
    # the partner's name with half-width brackets and a space; B's lead by its code, another name
    add_expert(s, "li", PASSWORD, email="li@experts.example.cn", unit="济南联合数据科技(集团) 有限公司",
               uscc=None, actor="t")
    add_expert(s, "zhang", PASSWORD, email="zhang@experts.example.cn", unit="数据港公司", uscc=USCC_B, actor="t")
    add_expert(s, "wang", PASSWORD, email="wang@experts.example.cn", unit="山东大学", uscc=None, actor="t")
    s.commit()

    found = all_conflicts(s)
    assert found == [Conflict("li", a.reference, "partner_unit"), Conflict("zhang", b.reference, "lead_unit")]
    assert found == _every_conflict(s)

    # staff correct the partners: the keys follow at once, both ways
    overrides.correct(s, policy, unrelated[7], "partners", ["山东 大学"], actor="t")
    overrides.correct(s, policy, a, "partners", [], actor="t")
    s.commit()
    found = all_conflicts(s)
    assert found == [Conflict("wang", unrelated[7].reference, "partner_unit"),
                     Conflict("zhang", b.reference, "lead_unit")]
    assert found == _every_conflict(s)


def test_a_dishonest_partner_fails_its_applications_found_by_key_among_many(session) -> None:
    s, policy = session
    unrelated = _unrelated(s, policy)
    (joins,) = _record(s, policy, 1, [Application(unit=LEAD_A, direction=2, partners=["某某失信工程 有限公司"])])
    (joins_too,) = _record(s, policy, 2, [Application(unit=UNIT_B, uscc=USCC_B, direction=2,
                                                      partners=["其他单位", BAD])])
    (leads,) = _record(s, policy, 3, [Application(unit=BAD, uscc=BAD_USCC, direction=4)])
    s.commit()
    concerned = sorted(x.reference for x in (joins, joins_too, leads))

    # by its credit code: the applications it leads, and by the name they give, those it joins
    done = record_credit(s, BAD_USCC, "dishonest", "信用中国", actor="t")
    assert done.concerned == concerned == _every_application_of(s, BAD)
    assert sorted(done.failed) == concerned
    assert all(x.status == SubmissionStatus.formal_failed for x in (joins, joins_too, leads))
    assert not any(x.status == SubmissionStatus.formal_failed for x in unrelated)
    # by its name: the same applications
    assert record_credit(s, BAD, "abnormal", "信用山东", actor="t").concerned == concerned

    # a correction names the dishonest unit as a partner: it is found at once
    overrides.correct(s, policy, unrelated[3], "partners", ["某某失信工程有限公司"], actor="t")
    overrides.correct(s, policy, joins, "unit", "山东省泉河数字经济研究院（更名）", actor="t")
    s.commit()
    again = record_credit(s, BAD, "dishonest", "信用中国", actor="t")
    assert again.concerned == sorted([*concerned, unrelated[3].reference]) == _every_application_of(s, BAD)
    assert sorted(again.failed) == again.concerned
