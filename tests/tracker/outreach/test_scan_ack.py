"""An application sent only as a scan that OCR could not fully read is acknowledged
without asserting anything it could not read: fields "待核对", a line saying staff will
check the scan, never "（零）未识别" or a deficiency notice."""

from __future__ import annotations

from support.factory.pdfs import scanned_pdf
from support.records import application_mail, deliver, make_app, outbox, submissions

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
