"""今日 (#26): province staff watch the queue on deadline day; nobody else sees it."""

from __future__ import annotations

from sqlmodel import Session, select
from support.helpers import make_mail
from support.web import Workspace

from tracker.pipeline.ingest import store_raw
from tracker.store.tables import StoredMessage


def test_the_page_counts_todays_arrivals_and_what_waits(workspace: Workspace) -> None:
    app = workspace.app
    for n in range(3):  # arrived now (no Received header: stored time counts), not processed yet
        store_raw(app.engine, app.blobs, make_mail(subject=f"申报材料 {n}", message_id=f"<today{n}@example.cn>",
                                                   when=None))
    with Session(app.engine) as session:
        waiting = len(session.exec(select(StoredMessage).where(StoredMessage.state == "stored")).all())
    page = workspace.signed_in("alice").get("/today")
    assert page.status_code == 200
    assert f'id="waiting">{waiting} 封' in page.text and waiting >= 3
    assert 'hx-get="/today/live"' in page.text and "arrivals-chart" in page.text
    live = workspace.signed_in("alice").get("/today/live")
    assert live.status_code == 200 and "<html" not in live.text.lower()  # the fragment only


def test_a_city_account_cannot_watch_the_whole_queue(workspace: Workspace) -> None:
    assert workspace.signed_in("jinan").get("/today").status_code == 403
