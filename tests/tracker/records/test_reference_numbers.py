"""References keep counting past 9,999 (a national round has more applications)."""

from __future__ import annotations

from sqlmodel import Session
from support.records import make_app

from tracker.records.submissions import next_reference
from tracker.store.tables import Submission


def test_the_ten_thousandth_reference_follows_the_9999th(tmp_path, db_url) -> None:
    app = make_app(tmp_path, db_url)
    with Session(app.engine) as session:
        assert next_reference(session, "JB2025") == "JB2025-0001"
        session.add(Submission(round_code="JB2025", reference="JB2025-9999", lead_key="a"))
        session.flush()
        assert next_reference(session, "JB2025") == "JB2025-10000"
        session.add(Submission(round_code="JB2025", reference="JB2025-10000", lead_key="b"))
        session.flush()
        assert next_reference(session, "JB2025") == "JB2025-10001"
        assert next_reference(session, "JB2026") == "JB2026-0001"  # another round counts on its own
