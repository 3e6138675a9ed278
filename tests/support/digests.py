"""An example digest context without a database, for the template rules and the digest tests."""

from __future__ import annotations

from datetime import UTC, date, datetime

from campaign import SHANDONG_CITIES
from campaign.labels import direction_label

TODAY = date(2025, 1, 14)
QUESTION_SUBJECT = "咨询：联合单位可以是省外高校吗"


def example_digest_context() -> dict:
    """A realistic ``digest`` template context without a database (for the template rules).

    support/mail_contexts.py uses it: ``"digest": example_digest_context()``.
    """
    from tracker.reports.views import (
        CityStatus,
        Count,
        DailyPoint,
        DeadlineItem,
        DeficiencyCount,
        Digest,
        DirectionCount,
        LateItem,
        MailProblem,
        MessageItem,
        QuotaCell,
        SubmissionItem,
    )

    at = datetime(2025, 1, 14, 2, 2, tzinfo=UTC)  # 10:02 in Shanghai
    rows = tuple(DirectionCount(d, direction_label(d), 1 if d == 2 else 0, 2 if d == 6 else 0, (d == 2) + 2 * (d == 6))
                 for d in range(1, 9))
    jinan = CityStatus("济南市", True, 1, at, False, True, True, (QuotaCell(6, direction_label(6), 2, False),), 2)
    others = tuple(CityStatus(c, False, None, None, False, True, False, (), 0) for c in SHANDONG_CITIES[1:])
    item = SubmissionItem("JB2025-0003", "济南云泺信息技术有限公司", direction_label(6), "设区市推荐", "济南市", 1, at)
    return {"chart_src": "cid:chart", "digest": Digest(
        owner="山东省大数据局", role="province", city=None, round_code="JB2025", generated_at=at, today=TODAY,
        since=at, submissions=3, incomplete=1, needs_attention=3,
        statuses=(Count("incomplete", "材料待补正", 1), Count("complete", "材料齐全，待评审", 2)),
        directions=rows, direction_total=DirectionCount(-1, "合计", 1, 2, 3), cities=(jinan, *others),
        messages_since=4, intents_since=(Count("submission", "申报材料", 3), Count("other", "其他来信（需人工答复）", 1)),
        new_submissions=(item,), new_versions=(), errors=(DeficiencyCount("MISSING_PDF_VERSION", "error",
                                                                          "缺少申报书盖章PDF版", 1),),
        warnings=(DeficiencyCount("OCR_USED", "warning", "内容由扫描件识别", 1),),
        late=(LateItem("JB2025-0002", "山东数据交易有限公司", "直报", at, date(2025, 1, 20), "第1版逾期"),),
        quarantined=(MessageItem(9, "lost@example.cn", "申报材料", at, "待处理", "BlobMissing: 0977f257"),),
        mail_problems=(MailProblem(6, "补正通知", "zhao@hainuo.example.cn", "申报材料需补正", "发送失败", "550 5.1.1"),),
        unanswered=(MessageItem(8, "asker@university.example.cn", QUESTION_SUBJECT, at, "其他来信（需人工答复）", ""),),
        held=2, held_oldest=at,
        deadlines=(DeadlineItem("city_applicant", "其他单位报送所在设区市大数据局", date(2025, 1, 15), 1, "还有1天"),),
        daily=(DailyPoint(date(2025, 1, 8), 1, 0, 1), DailyPoint(date(2025, 1, 13), 1, 2, 3)), recommendations=(),
    )}


# --- tests ------------------------------------------------------------------------------------------
