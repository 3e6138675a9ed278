"""今日 (#26): province staff watch the queue on deadline day; nobody else sees it."""

from __future__ import annotations

import os
from email.message import EmailMessage

from sqlmodel import Session, select
from support.helpers import make_mail
from support.web import Workspace

from campaign.clock import utcnow
from tracker.pipeline.ingest import store_raw
from tracker.store.tables import MessageOcr, StoredMessage


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


def _with_file(n: int, name: str, maintype: str, subtype: str, size: int) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = f"u{n}@example.cn", "dsjjzcghc@shandong.cn", f"申报书 {n}"
    msg["Message-ID"] = f"<ocr{n}@example.cn>"
    msg.set_content("申报书见附件。")
    msg.add_attachment(os.urandom(size), maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def test_the_ocr_backlog_counts_photos_and_estimates_pdfs_by_today_s_share_of_scans(workspace: Workspace) -> None:
    app = workspace.app
    store_raw(app.engine, app.blobs, _with_file(1, "申报书第1页.jpg", "image", "jpeg", 400_000))  # a photo
    store_raw(app.engine, app.blobs, _with_file(2, "申报书.pdf", "application", "pdf", 60_000))
    store_raw(app.engine, app.blobs, _with_file(3, "logo.png", "image", "png", 8_000))  # a signature's logo
    page = workspace.signed_in("alice").get("/today/live").text
    # no PDF read yet today: it counts as a scan (at most)
    assert 'id="ocr">约 2 封' in page and "含图片 1 封；含 PDF 1 封" in page, page
    assert "按全部为扫描件计" in page

    # today a PDF mail was read and was not a scan: the waiting PDF is likely text
    read = _with_file(4, "申报书（定稿）.pdf", "application", "pdf", 60_000)
    pk = store_raw(app.engine, app.blobs, read).message_pk
    with Session(app.engine) as session:
        row, noted = session.get(StoredMessage, pk), session.get(MessageOcr, pk)
        assert row is not None and noted is not None and noted.hint == "pdf"  # noted when it was stored
        row.state, row.processed_at, noted.scanned = "processed", utcnow(), False
        session.add_all([row, noted])
        session.commit()
    page = workspace.signed_in("alice").get("/today/live").text
    assert 'id="ocr">约 1 封' in page and "扫描件占 0%" in page, page
