"""Issue #22 item 5, "Mail kinds": mail that went wrong on unseen mail, by kind.

1. cloud links of the services Chinese applicants use (QQ/163/139 超大附件, 百度网盘,
   阿里云盘, 夸克, 企业微信微盘, 腾讯文档, 金山文档, 坚果云, 天翼, 123云盘, 蓝奏云,
   OneDrive, Google Drive, Dropbox), in plain text or only in an HTML ``href``: the
   mail is a submission whose file is not in it (CLOUD_ATTACHMENT, whose notice says to
   attach the file), never "nothing attached" (NO_ATTACHMENT). A bureau notice page, a
   homepage or a client's signature link, or a link in quoted history, is no cloud file;
2. read receipts (RFC 8098 reports, Outlook/Foxmail "已读: …" notices) are machinery:
   auto_reply, no finding, never answered;
3. auto-replies written in traditional characters (自動回覆, 此郵件為自動回覆, 休假中,
   不在辦公室…) are auto-replies, headers or not;
4. status questions in English get the status answer as Chinese ones do; English mail
   about anything else stays with staff ("other").

Every mail is built here with the email stdlib; each class has its precision cases.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime

import pytest
from support.formfactory import CST, FormSpec, make_docx, make_eml, make_uscc

from campaign import Catalogue, CityBureau, RoundPolicy, code
from intake.glance import glance
from intake.model import Understanding
from intake.understand import understand

POLICY = RoundPolicy(
    catalogue=Catalogue(deadlines={
        "direct": date(2025, 1, 20),
        "city_applicant": date(2025, 1, 15),
        "city_bureau": date(2025, 1, 20),
    }),
    cities={"济南市": CityBureau("济南市", ("jinan-dsj@dsj.jinan.example",), "孟晓林", "0531-94710893")},
    own_addresses=frozenset({"dsjjzcghc@shandong.cn"}),
)
OURS = "dsjjzcghc@shandong.cn"
APPLICANT = "zhangsan@haiyou-data.example.cn"
WHEN = datetime(2025, 1, 10, 10, 0, tzinfo=CST)
FORM = FormSpec(unit="山东省海右数据研究院", uscc=make_uscc("370000", "12"), nature="省属事业单位")


def _stamp(msg: Message, sender: str, subject: str, headers: dict[str, str] | None) -> None:
    msg["Received"] = f"from client by mx.shandong.cn; {format_datetime(WHEN)}"
    msg["From"] = sender
    msg["To"] = OURS
    msg["Subject"] = subject
    msg["Date"] = format_datetime(WHEN - timedelta(minutes=1))
    msg["Message-ID"] = f"<{abs(hash((sender, subject)))}.kinds@example.cn>"
    for name, value in (headers or {}).items():
        msg[name] = value


def html_only(subject: str, html: str, *, sender: str = APPLICANT) -> bytes:
    """A mail whose only body is HTML (webmail composers, 企业微信)."""
    msg = EmailMessage()
    _stamp(msg, sender, subject, None)
    msg.set_content(html, subtype="html")
    return msg.as_bytes()


def run(raw: bytes) -> Understanding:
    return understand(raw, POLICY, received_at=WHEN)


def codes(u: Understanding) -> set[str]:
    return {d.code for d in u.deficiencies}


# == 1. cloud links ===============================================================================

# (service, link, the words its share card or the applicant writes around it)
SERVICES = [
    ("qq_ftn", "https://mail.qq.com/cgi-bin/ftnExs_download?k=2a3b4c5d&t=exs_ftn_download&code=7f1e9a",
     "从QQ邮箱发来的超大附件"),
    ("qq_wx_ftn", "https://wx.mail.qq.com/ftn/download?func=3&k=9d8c7b6a&key=5e4f3a2b", "从QQ邮箱发来的超大附件"),
    ("netease_163", "https://mail.163.com/large-attachment-download/index.html?p=X-NETEASE-HUGE-ATTACHMENT"
     "&file=aBcD12", "从网易163邮箱发来的超大附件"),
    ("netease_126", "https://mail.126.com/large-attachment-download/index.html?p=X-NETEASE-HUGE-ATTACHMENT"
     "&file=eFgH34", "从网易126邮箱发来的超大附件"),
    ("netease_dashi", "https://dashi.163.com/html/cloud-attachment-download/index.html?fid=aa11bb22",
     "从网易邮箱大师发来的云附件"),
    ("mail_139", "https://caiyun.139.com/m/i?0F5CJUOVgNVDX", "来自139邮箱的超大附件"),
    ("baidu", "https://pan.baidu.com/s/1AbCdEfGhIjK?pwd=x7k2", "百度网盘分享"),
    ("aliyundrive", "https://www.aliyundrive.com/s/AbCdEf12345", "阿里云盘分享"),
    ("alipan", "https://www.alipan.com/s/Zy98Xw76Vu", "阿里云盘分享"),
    ("quark", "https://pan.quark.cn/s/1a2b3c4d5e6f", "夸克网盘分享"),
    ("wecom_drive", "https://drive.weixin.qq.com/s?k=AJEAIQdfAAo1a2b3cD", "企业微信微盘分享"),
    ("wecom_doc", "https://doc.weixin.qq.com/doc/w3_AJEAIQdfAAoX9y8z?scode=AJEAIQdfAAo", "企业微信文档"),
    ("tencent_docs", "https://docs.qq.com/doc/DWEFRdGV4bXlz", "腾讯文档"),
    ("kdocs", "https://kdocs.cn/l/cAbCdEfGh", "金山文档"),
    ("kdocs_www", "https://www.kdocs.cn/l/ckLmNoPqRs", "金山文档"),
    ("wps", "https://www.wps.cn/l/cTuVwXyZ12", "WPS云文档"),
    ("jianguoyun", "https://www.jianguoyun.com/p/DAbCdEfGhIj", "坚果云"),
    ("tianyi", "https://cloud.189.cn/t/AbCdEfGhIj", "天翼云盘"),
    ("pan123", "https://www.123pan.com/s/abcD-efGh", "123云盘"),
    ("pan123_cn", "https://www.123pan.cn/s/ijKL-mnOp", "123云盘"),
    ("lanzou", "https://wwi.lanzoui.com/iAbCdEf12", "蓝奏云"),
    ("onedrive", "https://1drv.ms/w/s!AbCdEfGhIjKl", "OneDrive"),
    ("google_drive", "https://drive.google.com/file/d/1AbCdEfGh/view?usp=sharing", "Google Drive"),
    ("google_docs", "https://docs.google.com/document/d/1AbCdEfGh/edit?usp=sharing", "Google Docs"),
    ("dropbox", "https://www.dropbox.com/s/abc123/shenbaoshu.docx?dl=0", "Dropbox"),
]
SUBJECTS = ["揭榜挂帅申报书-山东省海右数据研究院", "山东省海右数据研究院揭榜挂帅申报材料"]
# how the link arrives: in the text; only in an HTML href (the text part names the file);
# only in an HTML-only mail
SHAPES = ["text", "href", "html_only"]


def _cloud_mail(link: str, cue: str, subject: str, shape: str) -> bytes:
    intro = f"您好，我单位申报材料文件较大，已通过{cue}发送，请下载。"
    href = link.replace("&", "&amp;")
    card = f'<p>{intro}</p><div><a href="{href}">申报书.docx（35M，2025年2月10日到期）</a></div>'
    if shape == "text":
        return make_eml(sender=APPLICANT, subject=subject, body=f"{intro}\n{link}\n张三 0531-88886666")
    if shape == "href":
        return make_eml(sender=APPLICANT, subject=subject, body=f"{intro}\n申报书.docx（35M）\n张三", html=card)
    return html_only(subject, card)


@pytest.mark.parametrize(
    ("service", "subject", "shape"),
    [(s[0], subj, shape) for s, subj, shape in itertools.product(SERVICES, SUBJECTS, SHAPES)],
)
def test_cloud_link_is_a_cloud_attachment(service: str, subject: str, shape: str) -> None:
    _, link, cue = next(s for s in SERVICES if s[0] == service)
    u = run(_cloud_mail(link, cue, subject, shape))
    assert (u.intent, codes(u)) == ("submission", {"CLOUD_ATTACHMENT"}), (service, shape)


def test_the_cloud_notice_says_to_attach_the_file() -> None:
    assert "直接作为邮件附件发送" in code("CLOUD_ATTACHMENT").fix


# a share whose link is to no service we know: the words say where the file is
CUES = ["企业微信微盘", "微盘", "腾讯文档", "金山文档", "WPS云文档", "坚果云", "蓝奏云", "百度网盘", "天翼云盘", "OneDrive"]


@pytest.mark.parametrize(("cue", "shape"), list(itertools.product(CUES, ["text", "href"])))
def test_cloud_words_with_a_short_link(cue: str, shape: str) -> None:
    link = "https://t.cn/A6xYz9Qw"
    intro = f"您好，我单位揭榜挂帅申报书已上传至{cue}，链接如下，请下载。"
    if shape == "text":
        raw = make_eml(sender=APPLICANT, subject="揭榜挂帅申报书", body=f"{intro}\n{link}")
    else:  # the words in the text, the link in the HTML only
        raw = make_eml(sender=APPLICANT, subject="揭榜挂帅申报书", body=f"{intro}\n点击下载",
                       html=f'<p>{intro}</p><a href="{link}">点击下载</a>')
    u = run(raw)
    assert (u.intent, codes(u)) == ("submission", {"CLOUD_ATTACHMENT"}), cue


def test_cloud_link_behind_an_outlook_safe_link() -> None:
    link = ("https://apc01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fpan.baidu.com%2Fs%2F1AbCdEf"
            "&data=05%7C01%7C&reserved=0")
    raw = make_eml(sender=APPLICANT, subject="揭榜挂帅申报书", body="申报书请从以下链接下载：申报书.docx",
                   html=f'<p>申报书请从以下链接下载：</p><a href="{link.replace("&", "&amp;")}">申报书.docx</a>')
    u = run(raw)
    assert (u.intent, codes(u)) == ("submission", {"CLOUD_ATTACHMENT"})


# -- precision: links that are no cloud file ---------------------------------------------------------

NOTICE = "http://dsj.shandong.gov.cn/art/2025/1/3/art_79226_10312345.html"
SIGNATURES = {
    "bureau_notice": f"按贵局通知（{NOTICE}）要求报送。",
    "province_portal": "通知原文：http://www.shandong.gov.cn/art/2025/1/3/art_97564_123.html",
    "sd_gov": "参见 https://www.sd.gov.cn/col/col1/index.html",
    "homepage": "--\n张三\n山东省海右数据研究院\n网址：www.haiyou-data.example.cn\n电话：0531-88886666",
    "homepage_https": "--\n张三 | 山东省海右数据研究院 | https://www.haiyou-data.example.cn/about",
    "dashi_signature": "--\n张三\n签名由 网易邮箱大师 定制\n"
                       "https://dashi.163.com/projects/signature-manager/detail/index.html?ftlId=1&name=%E5%BC%A0",
    "maas_signature": "发自网易邮箱大师 https://maas.mail.163.com/dashi-web-extend/html/proSignature.html?ftlId=1",
}
QUOTED = ("\n\n------------------ 原始邮件 ------------------\n发件人: 张三 <zhangsan@haiyou-data.example.cn>\n"
          "主题: 揭榜挂帅申报书\n申报书已通过百度网盘发送：https://pan.baidu.com/s/1AbCdEf 提取码: x7k2\n")


@pytest.mark.parametrize("signature", sorted(SIGNATURES))
def test_links_beside_a_real_form_are_no_cloud_attachment(signature: str) -> None:
    raw = make_eml(sender=APPLICANT, subject="揭榜挂帅申报书", headers={"Auto-Submitted": "no"},
                   body=f"您好，我单位申报书见附件，请查收。\n{SIGNATURES[signature]}",
                   attachments=[("申报书.docx", make_docx(FORM))])
    u = run(raw)
    assert (u.intent, codes(u)) == ("submission", set()), signature


def test_a_cloud_link_in_quoted_history_beside_a_real_form() -> None:
    raw = make_eml(sender=APPLICANT, subject="Re: 揭榜挂帅申报材料需补正",
                   body="您好，已按要求将申报书直接作为附件发送，请查收。" + QUOTED,
                   attachments=[("申报书.docx", make_docx(FORM))])
    u = run(raw)
    assert (u.intent, codes(u)) == ("submission", set())


@pytest.mark.parametrize("signature", sorted(SIGNATURES))
def test_forgotten_attachment_with_a_link_is_no_attachment(signature: str) -> None:
    """"见附件" and no file: the links around are not where the file is."""
    raw = make_eml(sender=APPLICANT, subject="揭榜挂帅申报书",
                   body=f"您好，我单位申报书见附件，请查收。\n{SIGNATURES[signature]}")
    u = run(raw)
    assert (u.intent, codes(u)) == ("submission", {"NO_ATTACHMENT"}), signature


QUESTIONS = [
    "请问申报材料可以通过百度网盘发送吗？",
    "您好，通知下载链接 http://dsj.shandong.gov.cn/art/2025/1/3/art_1.html 打不开，请问申报书模板在哪里下载？",
    "请问申报书超过50M，可以用QQ邮箱超大附件发送吗？",
    "申报材料较大，能否用企业微信微盘分享？",
]
# the HTML a webmail client sends beside the text: a signature picture, a homepage link
CLIENT_HTML = ('<html xmlns="http://www.w3.org/1999/xhtml"><body><p>{text}</p>'
               '<img src="https://rescdn.qqmail.com/zh_CN/images/mo/DEFAULT2/1.gif">'
               '<a href="https://www.haiyou-data.example.cn">山东省海右数据研究院</a></body></html>')


@pytest.mark.parametrize(("body", "with_html"), list(itertools.product(QUESTIONS, [False, True])))
def test_questions_about_cloud_services_are_no_submission(body: str, with_html: bool) -> None:
    html = CLIENT_HTML.format(text=body) if with_html else None
    u = run(make_eml(sender=APPLICANT, subject="咨询", body=body, html=html))
    assert u.intent != "submission" and u.deficiencies == [], (u.intent, codes(u))


# == 2. read receipts =============================================================================

ORIGINALS = ["[JB2025-0007] 申报材料已收到", "揭榜挂帅申报材料需补正", "揭榜挂帅申报书-山东省海右数据研究院"]
PREFIXES = ["已读: ", "已读：", "已讀: ", "已讀：", "Read: ", "已读回执：", "Read receipt: "]


def _mdn(subject: str, human: str, *, report_type: bool = True, original: str = "") -> bytes:
    """An RFC 8098 disposition notification, as Outlook, Thunderbird and webmail send it."""
    params = {"report_type": "disposition-notification"} if report_type else {}
    msg = MIMEMultipart("report" if report_type else "mixed", **params)
    _stamp(msg, APPLICANT, subject, None)
    msg.attach(MIMEText(human, "plain", "utf-8"))
    mdn = Message()
    mdn["Content-Type"] = "message/disposition-notification"
    mdn.set_payload(
        "Reporting-UA: mail.haiyou-data.example.cn; Microsoft Outlook 16.0\r\n"
        f"Final-Recipient: rfc822;{APPLICANT}\r\n"
        "Original-Message-ID: <jb2025-0007.1736301780@shandong.cn>\r\n"
        "Disposition: manual-action/MDN-sent-manually; displayed\r\n"
    )
    msg.attach(mdn)
    if original:
        part = Message()
        part["Content-Type"] = "text/rfc822-headers"
        subject_header = Header(original, "utf-8").encode()
        part.set_payload(f"From: {OURS}\r\nTo: {APPLICANT}\r\nSubject: {subject_header}\r\n")
        msg.attach(part)
    return msg.as_bytes()


def _plain_receipt(subject: str, body: str) -> bytes:
    return make_eml(sender=APPLICANT, subject=subject, body=body)


HUMAN_CN = "您的邮件\n\n  收件人: 张三\n  主题: {s}\n  发送时间: 2025年1月10日 9:58\n\n已在 2025年1月10日 10:00 读取。"
HUMAN_TW = "您的郵件\n\n  收件者: 張三\n  主旨: {s}\n  傳送時間: 2025年1月10日 9:58\n\n已於 2025年1月10日 10:00 讀取。"
HUMAN_EN = "Your message\n\n  To: Zhang San\n  Subject: {s}\n  Sent: 1/10/2025 9:58 AM\n\nwas read on 1/10/2025 10:00 AM."


def _receipts() -> dict[str, tuple[bytes, bool]]:
    """name → (raw, whether its headers alone show it is machinery)."""
    out: dict[str, tuple[bytes, bool]] = {}
    for i, original in enumerate(ORIGINALS):
        for prefix in PREFIXES:
            human = (HUMAN_TW if "讀" in prefix else HUMAN_EN if prefix.startswith("Read") else HUMAN_CN)
            human = human.format(s=original)
            subject = prefix + original
            out[f"mdn-{i}-{prefix.strip()}"] = (_mdn(subject, human, original=original), True)
            out[f"plain-{i}-{prefix.strip()}"] = (_plain_receipt(subject, human), True)
        # a report inside a mixed container, and a report whose subject says nothing
        out[f"nested-{i}"] = (_mdn(original, HUMAN_CN.format(s=original), report_type=False), False)
        out[f"bare-subject-{i}"] = (_mdn(original, HUMAN_CN.format(s=original)), True)
        # Foxmail / QQ: "回执：" and a line saying the mail was read
        out[f"foxmail-{i}"] = (_plain_receipt(
            f"回执：{original}", f"这是邮件收条，2025年1月10日 10:00 发给 {APPLICANT} 的信件“{original}”已被阅读。"), False)
        out[f"foxmail-tw-{i}"] = (_plain_receipt(
            f"回執：{original}", f"這是郵件收條，您於2025年1月10日發給 {APPLICANT} 的郵件「{original}」已被閱讀。"), False)
        out[f"not-read-{i}"] = (_plain_receipt(
            f"未读: {original}", f"您的邮件\n  主题: {original}\n已于 2025年1月10日 10:00 在未读的情况下被删除。"), True)
    return out


RECEIPTS = _receipts()


@pytest.mark.parametrize("name", sorted(RECEIPTS))
def test_read_receipts_are_machinery(name: str) -> None:
    raw, by_headers = RECEIPTS[name]
    u = run(raw)
    assert (u.intent, codes(u)) == ("auto_reply", set()), name
    assert u.no_reply_reason is not None
    if by_headers:  # the receipt on arrival, from the headers alone, is not sent either
        assert glance(raw, POLICY).no_reply_reason is not None


@pytest.mark.parametrize(
    ("subject", "body", "intent"),
    [
        ("回执：参会回执", "您好，参会回执见附件，请查收。", "other"),
        ("回执：已收到通知", "已收到贵局通知，我单位将按时报送，谢谢！", "other"),
        ("回执：[JB2025-0007] 申报材料已收到", "已收到受理回执，谢谢！", "other"),
        ("阅读理解", "请问申报书中的任务名称怎么理解？", "other"),
    ],
)
def test_a_persons_receipt_stays_with_staff(subject: str, body: str, intent: str) -> None:
    u = run(make_eml(sender=APPLICANT, subject=subject, body=body))
    assert (u.intent, codes(u)) == (intent, set())


def test_a_form_with_a_receipt_like_subject_is_still_a_submission() -> None:
    u = run(make_eml(sender=APPLICANT, subject="回执：揭榜挂帅申报书", body="申报书见附件，请查收。",
                     attachments=[("申报书.docx", make_docx(FORM))], headers={"Auto-Submitted": "no"}))
    assert u.intent == "submission"


# == 3. auto-replies in traditional characters ==================================================

AUTO_SUBJECTS_TW = ["自動回覆: [JB2025-0007] 申報材料已收到", "自動回復：揭榜掛帥申報材料需補正",
                    "自動答覆: 您的郵件", "休假中", "不在辦公室", "不在辦公室：[JB2025-0007] 申報材料已收到"]
AUTO_BODIES_TW = [
    "此郵件為自動回覆。我已收到您的郵件，將於假期結束後儘快回覆。",
    "您好，我已收到您的郵件。本人目前正在休假，1月20日返回辦公室，急事請聯絡王先生（0531-88886666）。",
    "我已收到您的郵件，出差期間不便回覆，回來後將儘快處理。",
    "這是一封自動回覆郵件，請勿直接回覆。",
]
PLAIN_SUBJECTS_TW = ["Re: [JB2025-0007] 申報材料已收到", "回覆：揭榜掛帥申報材料需補正", "您的郵件"]


def _auto_cases() -> list[tuple[str, str]]:
    cases = list(itertools.product(AUTO_SUBJECTS_TW, AUTO_BODIES_TW[:2]))
    cases += list(itertools.product(PLAIN_SUBJECTS_TW, AUTO_BODIES_TW))
    return cases


@pytest.mark.parametrize(("subject", "body"), _auto_cases())
def test_traditional_auto_replies(subject: str, body: str) -> None:
    u = run(make_eml(sender=APPLICANT, subject=subject, body=body))
    assert (u.intent, codes(u)) == ("auto_reply", set())
    assert u.no_reply_reason is not None


@pytest.mark.parametrize("subject", AUTO_SUBJECTS_TW[:3] + AUTO_SUBJECTS_TW[4:])
def test_traditional_auto_reply_subjects_are_seen_from_the_headers(subject: str) -> None:
    raw = make_eml(sender=APPLICANT, subject=subject, body="此郵件為自動回覆。")
    assert glance(raw, POLICY).no_reply_reason is not None


def test_a_traditional_reply_quoting_our_notice_is_no_submission() -> None:
    """A client in traditional Chinese quotes under "寄件者:": our notice's words
    ("作为附件发送", "附上") are not the writer's."""
    body = ("好的，我們會盡快補正。\n\n寄件者: dsjjzcghc@shandong.cn\n主旨: 揭榜挂帅申报材料需补正\n"
            "请将申报书作为附件发送，并附上加盖公章的PDF版。")
    u = run(make_eml(sender=APPLICANT, subject="回覆：揭榜挂帅申报材料需补正", body=body))
    assert (u.intent, codes(u)) == ("other", set())


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Re: [JB2025-0007] 申報材料需補正", "我已收到您的郵件，請問補正材料何時截止？"),
        ("Re: [JB2025-0007] 申报材料需补正", "我已收到您的邮件，将尽快补正。"),
        ("諮詢", "出差回來後再補交材料可以嗎？"),
    ],
)
def test_a_person_writing_traditional_is_no_auto_reply(subject: str, body: str) -> None:
    u = run(make_eml(sender=APPLICANT, subject=subject, body=body))
    assert u.intent != "auto_reply" and u.deficiencies == [], u.intent


# == 4. status questions in English ============================================================

EN_STATUS = [
    ("Application status", "Dear Sir or Madam,\nWhat is the status of my application JB2025-0012?\nBest regards,\nZhang San"),
    ("Inquiry", "Hello, has my application been received?\nThanks,\nZhang San"),
    ("Confirmation", "Dear colleagues,\nCould you confirm receipt of our submission? We sent it on 9 January.\nKind regards"),
    ("JB2025-0012", "Hi, any update on our application? Thank you."),
    ("Question", "We submitted our application form last week. Could you let us know whether it was received?"),
    ("Re: [JB2025-0007] 申报材料已收到", "Thank you. When will the review results be announced?"),
    ("Our application", "Hello,\nI would like to know the progress of our application.\nBest,\nLi Si"),
    ("Status of submission", "Has our submission for the Jiebang Guashuai programme been reviewed yet?"),
]


@pytest.mark.parametrize(("subject", "body"), EN_STATUS)
def test_english_status_questions(subject: str, body: str) -> None:
    u = run(make_eml(sender=APPLICANT, subject=subject, body=body))
    assert (u.intent, codes(u)) == ("status_query", set()), (subject, body)
    assert u.no_reply_reason is None  # the (Chinese) status answer goes out


def test_english_status_question_with_a_reference_is_that_application() -> None:
    u = run(make_eml(sender=APPLICANT, subject="Application status", body=EN_STATUS[0][1]))
    assert u.reference == "JB2025-0012"


EN_OTHER = [
    ("Invitation: Data Expo 2025", "Dear Sir, we would like to invite your bureau to the Data Expo. "
     "Could you confirm your attendance?"),
    ("Job application", "Hello, has my job application for the data analyst position been received?"),
    ("Invoice 2025-031", "Could you confirm receipt of our invoice No. 2025-031? Payment is due on 31 January."),
    ("Order", "What is the status of the order we placed last month?"),
    ("Research", "Hello, I am a student researching data markets. Could you send me some information?"),
    ("Thanks", "Thank you, received."),
    ("Re: [JB2025-0007] 申报材料已收到", "Thanks a lot!"),
    ("Visa", "Has my visa application been processed? I need the invitation letter."),
    ("Meeting", "Could you confirm receipt of the meeting materials we sent?"),
    ("AI news", "Please read about the progress of the application of AI in public data governance."),
]


@pytest.mark.parametrize(("subject", "body"), EN_OTHER)
def test_english_mail_about_anything_else_goes_to_staff(subject: str, body: str) -> None:
    u = run(make_eml(sender="someone@partner.example.com", subject=subject, body=body))
    assert (u.intent, codes(u)) == ("other", set()), (subject, body)


def test_english_mail_with_the_form_is_a_submission() -> None:
    u = run(make_eml(sender=APPLICANT, subject="Application", headers={"Auto-Submitted": "no"},
                     body="Please find attached our application. Could you confirm receipt?",
                     attachments=[("申报书.docx", make_docx(FORM))]))
    assert (u.intent, codes(u)) == ("submission", set())
