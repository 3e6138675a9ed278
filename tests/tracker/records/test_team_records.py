"""The records behind the team's tools (#23): two-factor codes used once, in their window,
whatever the clock says next; recovery codes stored only as hashes; a submission's
assignment filtering the list as 我的; notes and saved filters, each logged or owned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
from sqlmodel import Session, select

from tracker.records import accounts, assignments, notes, saved_filters, twofactor
from tracker.records.queries import submission_page
from tracker.store.db import make_engine, upgrade
from tracker.store.tables import Event, RecoveryCode, StaffUser, Submission

PASSWORD = "correct horse 电池"
NOW = datetime(2025, 1, 10, 2, 0, 15, tzinfo=UTC)  # 15 s into a 30-second step


def _session(db_url: str) -> Session:
    engine = make_engine(db_url)
    upgrade(engine)
    return Session(engine)


def _user(session: Session, name: str = "alice", role: str = "province", city: str | None = None) -> StaffUser:
    user = accounts.add_user(session, name, role, PASSWORD, city=city)
    session.commit()
    return user


def test_a_totp_code_counts_once_and_never_an_older_one(db_url: str) -> None:
    with _session(db_url) as s:
        alice = _user(s)
        enrolment = twofactor.enrol(s, alice)
        totp = pyotp.TOTP(enrolment.secret)
        before, now, after = (totp.at(NOW + timedelta(seconds=d)) for d in (-30, 0, 30))
        assert twofactor.verify(s, alice, now, now=NOW)
        assert not twofactor.verify(s, alice, now, now=NOW)  # the same code again: refused
        assert not twofactor.verify(s, alice, before, now=NOW)  # an earlier one: refused too
        assert twofactor.verify(s, alice, after, now=NOW)  # the next step (a phone's clock ahead)
        two_minutes = NOW + timedelta(minutes=2)
        assert not twofactor.verify(s, alice, totp.at(NOW - timedelta(minutes=5)), now=two_minutes)  # stale
        assert twofactor.verify(s, alice, "  " + totp.at(two_minutes)[:3] + " " + totp.at(two_minutes)[3:], now=two_minutes)
        full_width = "".join(chr(ord(c) + 0xFEE0) for c in totp.at(two_minutes + timedelta(seconds=30)))
        assert twofactor.verify(s, alice, full_width, now=two_minutes + timedelta(seconds=30))  # ０１２… typed on a phone


def test_recovery_codes_are_hashed_single_use_and_replaced_by_a_new_enrolment(db_url: str) -> None:
    with _session(db_url) as s:
        alice = _user(s)
        first = twofactor.enrol(s, alice)
        stored = {r.code_hash for r in s.exec(select(RecoveryCode)).all()}
        assert len(first.recovery_codes) == len(stored) == 10 and not stored & set(first.recovery_codes)
        assert twofactor.verify(s, alice, first.recovery_codes[3], now=NOW)
        assert not twofactor.verify(s, alice, first.recovery_codes[3], now=NOW)
        assert twofactor.recovery_left(s, alice.id or 0) == 9
        second = twofactor.enrol(s, alice)  # a lost phone: the old secret and codes end
        assert not twofactor.verify(s, alice, first.recovery_codes[0], now=NOW)
        assert not twofactor.verify(s, alice, pyotp.TOTP(first.secret).at(NOW), now=NOW)
        assert twofactor.verify(s, alice, pyotp.TOTP(second.secret).at(NOW), now=NOW)
        assert twofactor.remove(s, alice) and not twofactor.enrolled(s, alice.id or 0)
        kinds = [e.kind for e in s.exec(select(Event)).all()]
        assert kinds.count("2fa_enrolled") == 2 and "recovery_code_used" in kinds and "2fa_removed" in kinds


def test_a_challenge_ends_after_five_wrong_codes_or_five_minutes(db_url: str) -> None:
    with _session(db_url) as s:
        alice = _user(s)
        enrolment = twofactor.enrol(s, alice)
        token = twofactor.open_challenge(s, alice, "10.0.0.1")
        assert twofactor.challenged(s, token) is not None
        later = datetime.now(UTC) + twofactor.CHALLENGE_LIFETIME + timedelta(seconds=1)
        assert twofactor.challenged(s, token, now=later) is None
        for _ in range(twofactor.MAX_CODE_FAILURES):
            assert twofactor.answer(s, token, "not a code") is None
        assert twofactor.challenged(s, token) is None
        code = pyotp.TOTP(enrolment.secret).now()
        assert twofactor.answer(s, token, code) is None  # the password has to be given again


def test_mine_is_what_was_assigned_to_me_and_only_colleagues_who_may_handle_it(db_url: str) -> None:
    with _session(db_url) as s:
        alice, bob = _user(s), _user(s, "bob")
        jinan = _user(s, "jinan", "city", "济南市")
        direct = Submission(round_code="JB2025", reference="JB2025-0001", lead_key="k1", unit="甲", channel="direct", city=None)
        via = Submission(round_code="JB2025", reference="JB2025-0002", lead_key="k2", unit="乙", channel="via_city", city="济南市")
        s.add_all([direct, via])
        s.commit()
        assert assignments.assign_submission(s, direct, "bob", actor="alice")
        assert not assignments.assign_submission(s, direct, "bob", actor="alice")  # no change, no event
        assert assignments.assign_submission(s, via, "jinan", actor="alice")
        for who, sub in (("jinan", direct), ("nobody", via)):
            try:
                assignments.assign_submission(s, sub, who, actor="alice")
                raise AssertionError(f"{who} was given {sub.reference}")
            except assignments.AssignError as exc:
                assert "不能分派给" in str(exc)
        mine = submission_page(s, assignments.AssignedFilter(assignee_id=bob.id))
        assert [r["reference"] for r in mine.rows] == ["JB2025-0001"] and mine.total == 1
        assert submission_page(s, assignments.AssignedFilter(assignee_id=alice.id)).total == 0
        assert [u.name for u in assignments.colleagues(s, via, city="济南市")] == ["jinan"]
        assert "jinan" not in [u.name for u in assignments.colleagues(s, direct)]
        assert assignments.assignees_by_reference(s, ["JB2025-0001", "JB2025-0002"]) == {
            "JB2025-0001": "bob", "JB2025-0002": "jinan"}
        assert [e.kind for e in s.exec(select(Event).where(Event.kind == "assigned")).all()] == ["assigned"] * 2
        assert jinan.id


def test_notes_and_saved_filters(db_url: str) -> None:
    with _session(db_url) as s:
        alice, bob = _user(s), _user(s, "bob")
        sub = Submission(round_code="JB2025", reference="JB2025-0001", lead_key="k1", unit="甲", channel="direct")
        s.add(sub)
        s.commit()
        notes.add_note(s, sub, "  已电话联系  ", author="alice")
        assert [n.text for n in notes.notes_of(s, sub)] == ["已电话联系"]
        saved_filters.save(s, alice.id or 0, "济南", "city=济南市", actor="alice")
        saved_filters.save(s, alice.id or 0, " 济南 ", "city=济南市&status=incomplete", actor="alice")  # same name
        [row] = saved_filters.saved(s, alice.id or 0)
        assert row.query == "city=济南市&status=incomplete" and saved_filters.saved(s, bob.id or 0) == []
        assert not saved_filters.delete(s, bob.id or 0, row.id or 0)
        assert saved_filters.delete(s, alice.id or 0, row.id or 0)
