"""An application sent only as a scan that OCR could not fully read is acknowledged
without asserting anything it could not read: fields "待核对", a line saying staff will
check the scan, never "（零）未识别" or a deficiency notice."""

from __future__ import annotations

from datetime import timedelta

from support.factory.pdfs import scanned_pdf
from support.records import T0, application_mail, deliver, make_app, open_codes, outbox, submissions

from examples.generate import uscc


def test_a_scan_without_readable_ticks_is_acknowledged_for_staff_to_check(tmp_path, db_url):
    app = make_app(tmp_path, db_url)
    pages = [["揭榜挂帅项目申报书", "揭榜单位（盖章）：山东青云数据科技有限公司"],
             ["一、揭榜单位基本情况", "单位名称：山东青云数据科技有限公司",
              f"统一社会信用代码：{uscc('91370102MA3C4D5E6')}"]]
    deliver(app, application_mail(sender="a@qingyun.example.cn",
                                  attachments=[("申报书（盖章）.pdf", scanned_pdf(pages))]))
    (sub,) = submissions(app)
    assert sub.unit == "山东青云数据科技有限公司" and not sub.direction
    (ack,) = outbox(app)
    assert ack.kind == "ack" and ack.subject == f"[{sub.reference}] 申报材料已收到"
    assert "榜单方向：待核对" in ack.text_body and "任务类别：待核对" in ack.text_body
    assert "扫描件" in ack.text_body and "人工核对" in ack.text_body
    assert "未识别" not in ack.text_body and "（零）" not in ack.text_body
    assert "待核对" in ack.html_body and "未识别" not in ack.html_body


def test_the_word_copy_after_an_unread_scan_is_the_same_application(tmp_path, db_url):
    """The scan's direction was not read (recorded as none); the Word copy names it. One
    application with two versions — not one lead unit in two directions (DUPLICATE_LEAD)."""
    app = make_app(tmp_path, db_url)
    pages = [["揭榜挂帅项目申报书", "揭榜单位（盖章）：山东省泉河数字经济研究院"],
             ["一、揭榜单位基本情况", "单位名称：山东省泉河数字经济研究院",
              f"统一社会信用代码：{uscc('12370000MA3QH7K2X')}"]]
    deliver(app, application_mail(attachments=[("申报书（盖章）.pdf", scanned_pdf(pages))]))
    deliver(app, application_mail(subject="揭榜挂帅申报书（Word版）", when=T0 + timedelta(hours=2)))
    (sub,) = submissions(app)
    assert (sub.direction, sub.versions, sub.status) == (2, 2, "complete")
    assert open_codes(app, sub) == set()  # no DUPLICATE_LEAD, and OCR_USED resolved by the Word copy
    assert [m.kind for m in outbox(app)] == ["ack", "ack"]
