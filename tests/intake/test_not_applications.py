"""The bureau's address is a department mailbox: most mail with files is not an application.

Invitations, invoices, meeting notices, price lists, résumés, forwarded policy documents,
newsletters, questions, thanks and out-of-office replies — in Chinese, with real
attachments — must never be read as a submission (that would mail the sender a
"申报材料需补正"). They stay for staff as "other".
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

import pytest
from support.factory.office import convert
from support.factory.word import make_docx
from support.formfactory import CST, FormSpec, make_eml
from support.formfactory import make_docx as make_form

from campaign import CityBureau, RoundPolicy
from intake.understand import understand

POLICY = RoundPolicy(cities={"济南市": CityBureau("济南市", ("jinan-dsj@dsj.jinan.example",))},
                     own_addresses=frozenset({"dsjjzcghc@shandong.cn"}))
WHEN = datetime(2025, 1, 10, 10, 0, tzinfo=CST)


@cache
def _documents() -> dict[str, bytes]:
    words = {
        "培训邀请函.docx": make_docx(["关于举办数据要素市场化配置改革专题培训班的邀请函", "各有关单位：",
                                    "为提升数据治理能力，定于2025年1月16日在济南举办专题培训班，请各单位选派1-2名同志参加。",
                                    "报名回执请于1月13日前发送至联系人邮箱。"]),
        "会议通知.docx": make_docx(["关于召开全省大数据工作会议的通知", "各市大数据局：",
                                  "经研究，定于1月20日上午9:00召开全省大数据工作会议。请准时参会。"]),
        "个人简历.docx": make_docx(["个人简历", "姓名：张三　性别：男　出生年月：1990年5月",
                                  "求职意向：数据分析师", "工作经历：2015-2024 某科技公司 数据工程师"]),
        "政策文件.docx": make_docx(["山东省数据要素市场化配置改革三年行动方案（2024-2026年）",
                                  "一、总体要求", "二、重点任务", "（一）健全数据产权制度"]),
        "电子发票.docx": make_docx(["电子发票（普通发票）", "购买方：山东省大数据局", "项目名称：信息技术服务费",
                                  "价税合计：￥12,800.00"]),
    }
    pdfs = convert({"培训邀请函.docx": words["培训邀请函.docx"], "电子发票.docx": words["电子发票.docx"],
                    "政策文件.docx": words["政策文件.docx"]}, "pdf")
    return {**words, **pdfs}


def _mails() -> dict[str, bytes]:
    d = _documents()
    return {
        "invitation": make_eml(sender="peixun@training.example.cn", subject="数据要素专题培训班邀请函",
                               body="您好，附件为培训邀请函，请查收并转发。", attachments=[("培训邀请函.pdf", d["培训邀请函.pdf"])]),
        "invoice": make_eml(sender="fapiao@tax.example.cn", subject="您收到一张电子发票",
                            body="尊敬的客户，您的电子发票已开具，请查收附件。", attachments=[("电子发票.pdf", d["电子发票.pdf"])]),
        "meeting": make_eml(sender="office@gov.example.cn", subject="会议通知",
                            body="各位好，会议通知见附件。", attachments=[("会议通知.docx", d["会议通知.docx"])]),
        "price_list": make_eml(sender="sales@vendor.example.com", subject="数据服务报价单",
                               body="您好，附件为我司最新报价，请审阅。",
                               attachments=[("报价单.docx", make_docx(["报价单"], tables=[[["项目", "单价"], ["数据清洗", "5000元"]]]))]),
        "resume": make_eml(sender="zhangsan@mail.example.com", subject="应聘数据分析岗位",
                           body="您好，附上我的简历，期待您的回复。", attachments=[("个人简历.docx", d["个人简历.docx"])]),
        "forwarded_policy": make_eml(sender="jinan-dsj@dsj.jinan.example", subject="转发：三年行动方案",
                                     body="请参阅附件政策文件。", attachments=[("政策文件.pdf", d["政策文件.pdf"])]),
        "newsletter": make_eml(sender="news@bigdata.example.org", subject="数据要素周刊第12期",
                               body="本期要闻：各地数据交易所建设进展……",
                               html="<p>本期要闻：<a href='https://news.example.org/12'>各地数据交易所建设进展</a></p>"),
        "question": make_eml(sender="ask@company.example.cn", subject="咨询",
                             body="您好，请问联合单位可以是省外高校吗？谢谢！"),
        "thanks": make_eml(sender="thanks@company.example.cn", subject="Re: 申报材料已收到",
                           body="收到，谢谢！"),
        "out_of_office": make_eml(sender="boss@company.example.cn", subject="自动回复：您的邮件",
                                  body="我正在休假，1月20日返回，急事请联系同事。",
                                  headers={"Auto-Submitted": "auto-replied"}),
    }


@pytest.mark.parametrize("name", ["invitation", "invoice", "meeting", "price_list", "resume", "forwarded_policy",
                                  "newsletter", "question", "thanks", "out_of_office"])
def test_mail_that_is_not_an_application_is_never_a_submission(name: str) -> None:
    result = understand(_mails()[name], POLICY, received_at=WHEN)
    assert result.intent in ("other", "auto_reply"), (name, result.intent, [d.code for d in result.deficiencies])
    assert result.deficiencies == []


def test_a_real_application_with_a_plain_subject_still_is_one() -> None:
    spec = FormSpec(unit="山东省泉城数据研究院", nature="省属事业单位")
    raw = make_eml(sender="apply@quancheng.example.cn", subject="材料", body="见附件",
                   attachments=[("文档1.docx", make_form(spec))])
    assert understand(raw, POLICY, received_at=WHEN).intent == "submission"


def test_saying_it_sends_the_application_without_one_is_still_answered() -> None:
    raw = make_eml(sender="apply@quancheng.example.cn", subject="揭榜挂帅申报材料", body="申报书见附件，请查收。",
                   attachments=[("说明.docx", make_docx(["我单位情况说明"]))])
    result = understand(raw, POLICY, received_at=WHEN)
    assert result.intent == "submission"
    assert [d.code for d in result.deficiencies] == ["MISSING_APPLICATION_FORM"]
