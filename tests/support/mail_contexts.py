"""Realistic contexts for every template (what the tracker will pass)."""

from __future__ import annotations

from datetime import UTC, date, datetime

ITEMS = [
    {"code": "USCC_INVALID", "title": "统一社会信用代码有误",
     "message": "揭榜单位统一社会信用代码 91370100MA3C5X8Y2K 校验位不正确。",
     "fix": "请核对揭榜单位的18位统一社会信用代码（见营业执照或法人证书），更正后重新发送。"},
    {"code": "MISSING_PDF_VERSION", "title": "缺少申报书盖章PDF版",
     "message": "未找到申报书的盖章PDF版。", "fix": "请补充报送加盖公章的申报书 PDF 版。"},
]
RECEIVED = datetime(2025, 1, 14, 2, 2, tzinfo=UTC)  # 10:02 in Shanghai

CONTEXTS: dict[str, dict] = {
    "ack": {
        "reference": "JB2025-0007", "unit": "山东数据交易有限公司", "direction": 4,
        "direction_name": "数据流通交易", "task_name": "数据流通交易合规指引研究与应用",
        "task_types": ["理论研究", "应用实践"], "channel_label": "直报", "city": None,
        "files": ["揭榜挂帅申报书-山东数据交易.docx", "申报书（盖章）.pdf"],
        "received_at": RECEIVED, "versions": 1,
    },
    "deficiency": {
        "reference": "JB2025-0007", "unit": "山东数据交易有限公司", "items": ITEMS,
        "deadline": date(2025, 1, 20), "received_at": RECEIVED, "situation": "open",
    },
    "redirect": {
        "unit": "济南某某科技有限公司", "city": "济南市",
        "bureau": {"contact": "王老师", "phone": "0531-66608888", "emails": ["jnsdsj@jn.shandong.cn"]},
        "deadline_city_applicant": date(2025, 1, 15),
    },
    "status": {
        "reference": "JB2025-0007", "unit": "山东数据交易有限公司", "status_label": "材料待补正",
        "versions": 2, "last_received_at": RECEIVED, "items": ITEMS[:1],
    },
    "status_list": {
        "items": [
            {"reference": "JB2025-0007", "unit": "山东数据交易有限公司", "direction_name": "数据流通交易",
             "status_label": "材料齐全，待评审"},
            {"reference": "JB2025-0012", "unit": "山东数据交易有限公司", "direction_name": "数据安全",
             "status_label": "材料待补正"},
        ],
    },
    "status_denied": {},
    "reminder_applicant": {
        "reference": "JB2025-0007", "unit": "山东数据交易有限公司", "deadline": date(2025, 1, 20),
        "days_left": 3, "items": ITEMS,
    },
    "reminder_city": {"city": "青岛市", "deadline": date(2025, 1, 20), "days_left": 0},
    "receipt": {"received_at": RECEIVED, "files": ["申报书.docx", "营业执照.pdf"]},
    "arrival": {"received_at": RECEIVED},
    "claim_notice": {"reference": "JB2025-0007", "received_at": RECEIVED},
    "package_receipt": {
        "city": "济南市", "received_at": RECEIVED, "version": 1, "deadline": date(2025, 1, 20),
        "rows": [
            {"reference": "JB2025-0003", "rank": 1, "unit": "济南云泺信息技术有限公司", "direction_name": "数据流通利用技术",
             "problems": ITEMS[:1]},
            {"reference": "JB2025-0004", "rank": 2, "unit": "山东历城数智科技股份有限公司",
             "direction_name": "数据流通利用技术", "problems": ITEMS[1:]},
        ],
        "items": [{"code": "TABLE_MISMATCH", "title": "推荐汇总表与申报书不一致",
                   "message": "推荐汇总表中的“某公司”在报送材料中没有对应的申报书。", "fix": "请核对后重新报送。"}],
    },
    "result": {
        "reference": "JB2025-0007", "unit": "山东数据交易有限公司", "outcome": "formal_failed",
        "outcome_label": "形式审查未通过", "reason": "联合单位经信用中国查询存在严重失信记录，不符合申报条件5",
        "direction": "数据流通交易", "list_title": "2025年全省数据要素市场化配置改革揭榜挂帅揭榜单位公示名单",
        "notice_ends": date(2025, 10, 9),
    },
    "result_city": {
        "city": "青岛市",
        "rows": [{"reference": "JB2025-0003", "unit": "青岛海数科技有限公司", "outcome_label": "已入选",
                  "direction": "数据安全", "reason": ""},
                 {"reference": "JB2025-0004", "unit": "青岛云港信息有限公司", "outcome_label": "形式审查未通过",
                  "direction": "数据治理", "reason": "联合单位经信用中国查询存在严重失信记录"}],
    },
    "expert_invite": {"name": "王教授", "panel": "第一组", "round_title": "全省数据要素市场化配置改革揭榜挂帅",
                      "sign_in": "https://jiebang.shandong.cn/login", "login": "wangjs", "reminder": False,
                      "pending": 0},
    "acceptance": {
        "reference": "JB2025-0007", "unit": "山东数据交易有限公司", "received_at": RECEIVED, "missing": 1,
        "files": [{"name": "数据流通交易合规指引研究报告.pdf", "kinds": "研究报告"},
                  {"name": "用户使用证明.pdf", "kinds": "佐证材料"}],
        "items": [{"code": "ACCEPTANCE_OUTCOME_MISSING", "title": "验收材料缺少申报书承诺的成果：应用场景或实践案例",
                   "message": "申报书承诺了应用场景或实践案例，本次验收材料中未见应用场景或实践案例。",
                   "fix": "请补充申报书中承诺的成果材料后，回复本邮件重新提交验收申请。"}],
    },
    "acceptance_reminder": {"reference": "JB2025-0007", "unit": "山东数据交易有限公司", "due": date(2025, 12, 31),
                            "until": None, "outcomes": "研究报告、应用场景或实践案例"},
    "answer": {"paragraphs": ["您好！", "可以。联合单位不限于省内，但牵头单位须在山东省内注册。"], "received_at": RECEIVED,
               "subject": "咨询联合单位"},
}

from support.digests import example_digest_context  # noqa: E402

CONTEXTS["digest"] = example_digest_context()
