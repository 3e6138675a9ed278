"""What a message is (intent), which reference it quotes, cloud links, and each document's role.

Order matters and is deliberate: machinery first (bounces, auto-replies — never to be
answered), then what is attached (a form makes a submission even if the text says
"请查收" or asks a question), then what the words ask for.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from email.message import Message
from urllib.parse import unquote

from intake.extract.labels import match_label, nfkc, norm
from intake.extract.pairs import view_of
from intake.model import Document, Envelope, Intent, Role

CONTAINER_FORMATS = frozenset({"zip", "rar", "7z", "eml"})

# Traditional characters of the words the cues below match (自動回覆, 此郵件為自動回覆,
# 不在辦公室, 已讀, 回執, 請問申報材料是否收到…), each to its simplified form: a mail
# client in traditional Chinese writes the same notices. Only for matching cues.
_T2S = str.maketrans(
    "動覆復郵為辦這應請聯絡繫後間時於將盡儘謝讀閱執條統係發達現歸機關閉離開經過個們務"
    "處見檔雲網盤載連結碼鏈詢進審報問嗎沒與會轉說電訊該態則詳掛帥書號編補證齊題內單覽"
    "稱傳寫從來斷據獲實際當還給參複檢覈啟預約週歡銷廣絕無須專屬續遞遲慮貴貳產權數標準"
    "體業區縣鄉員費價錢刪況麼樣認確裡範議類長門",
    "动复复邮为办这应请联络系后间时于将尽尽谢读阅执条统系发达现归机关闭离开经过个们务"
    "处见档云网盘载连结码链询进审报问吗没与会转说电讯该态则详挂帅书号编补证齐题内单览"
    "称传写从来断据获实际当还给参复检核启预约周欢销广绝无须专属续递迟虑贵贰产权数标准"
    "体业区县乡员费价钱删况么样认确里范议类长门",
)


def _cn(text: str) -> str:
    """*text* for cue matching: NFKC (full-width forms) and traditional → simplified."""
    return nfkc(text or "").translate(_T2S)


_BOUNCE_SENDERS = re.compile(
    r"^(mailer-daemon|postmaster|mail-daemon|maildelivery|mailerdaemon)@", re.I
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery status notification|delivery failure|delivery has failed|"
    r"mail delivery failed|returned mail|failure notice|non[- ]?delivery|退信|系统退信|投递失败|"
    r"无法投递|发送失败|邮件退回|未能送达|投递状态通知",
    re.I,
)
_AUTO_SUBJECT = re.compile(
    r"自动回复|自动答复|自动应答|auto[- ]?reply|automatic reply|autoreply|auto response|"
    r"out of (the )?office|休假中|外出中|假期自动|不在办公室",
    re.I,
)
# An away notice typed by hand into a client's auto-reply box, with no header marker:
# the subject is just "休假" / "外出", or the text says the writer is away until later.
# Clients that put the marker in the text only ("此邮件为自动回复").
_AUTO_BODY = re.compile(r"此(邮件|信|消息)?为自动回复|这是一封自动回复|自动回复邮件|本邮件为系统自动")
# Read receipts (RFC 8098 and the clients' plain notices): "已读: 原主题", "Read: …",
# "未读: …" (deleted unread). A bare "回执：" is also what people title a reply slip: it
# counts only with a line saying the mail was read ("这是邮件收条", "已被阅读").
_READ_SUBJECT = re.compile(
    r"^\s*(?:已读|已阅|已阅读|未读|已读回执|阅读回执|已读通知|read|not read|read receipt|"
    r"read notification|read report|return receipt(?:\s*\(displayed\))?)\s*[:：]",
    re.I,
)
_RECEIPT_SUBJECT = re.compile(r"^\s*回执\s*[:：]")
_RECEIPT_BODY = re.compile(
    r"邮件收条|已被(?:对方|收件人)?(?:阅读|读取|打开|查看)|(?:已于|已在)[^。\n]{0,40}(?:读取|阅读)|"
    r"在未读的情况下被删除|\bwas read on\b|\bhas been (?:read|displayed)\b",
    re.I,
)
_AWAY_SUBJECT = re.compile(r"^\s*(休假|请假|外出|出差|年假|不在办公室)\s*(通知|中)?\s*$")
_AWAY_TEXT = re.compile(
    r"(正在|目前|现在|本人|我)[^，。,.\n]{0,4}(休假|请假|出差|外出|不在办公室)|"
    r"(休假|出差|外出)(中|期间)|(假期|休假|出差)(结束|回来|返回)后"
)
_STATUS_STRONG = re.compile(
    r"查询|进度|进展|状态|是否收到|收到了吗|收到没|有没有收到|是否已收到|审核结果|评审结果|结果如何|办理情况"
)
_STATUS_WEAK = re.compile(
    r"请问|情况如何|怎么样|何时|什么时候|多久|是否需要|有无|反馈|答复|确认一下|是否齐全|审核"
)
# The same question in English ("What is the status of my application JB2025-0012?", "Has
# my application been received?", "Could you confirm receipt of our submission?"): it asks,
# names a state, and is about the writer's application (or quotes our reference / answers
# our mail). A job, visa or invoice "application" is somebody else's business: staff.
_EN_ASK = re.compile(
    r"\?|\b(?:could|can|would|will) you\b|\bplease\b|\blet (?:me|us) know\b|\bkindly\b|"
    r"\bwonder(?:ing)?\b|\bI(?:'d| would) like to (?:know|check|confirm|ask)\b",
    re.I,
)
_EN_STATUS = re.compile(
    r"\bstatus\b|\bprogress\b|\bany (?:update|news)\b|\bupdates? (?:on|about|regarding)\b|"
    r"\breceipt\b|\b(?:been|was|were|be) (?:received|reviewed|processed|accepted|approved|"
    r"evaluated|registered)\b|\b(?:did|have|has) you (?:receive|received|got|get)\b|"
    r"\b(?:received|got) (?:my|our|the)\b|\barrived\b|\bresults?\b|\boutcome\b",
    re.I,
)
_EN_OURS = re.compile(
    r"\b(?:my|our)\s+(?:[a-z]+\s+){0,2}?(?:application|submission|proposal)s?\b|"
    r"\b(?:application|submission|proposal)s? (?:we|I) (?:have )?(?:sent|submitted|emailed|mailed)\b|"
    r"\bapplication (?:status|form|materials?)\b|\bjiebang\b",
    re.I,
)
_EN_NOT_OURS = re.compile(
    r"\b(?:job|position|vacanc(?:y|ies)|internships?|employment|career|resume|cv|visa|invoices?|"
    r"payments?|purchase order|(?:my|our|the) order|order (?:no|number)|shipment|parcel|refund|"
    r"tickets?|booking|reservation|subscription|membership|attendance|conference|expo|forum|"
    r"meeting|loan|scholarship|admission|tender)\b",
    re.I,
)
_EN_ATTACHED = re.compile(r"\battached\b|\benclosed\b|\bplease find\b", re.I)
# A question about what the writer already sent, in everyday words ("我们发的申报材料
#有没有问题", "材料审核通过了没有"): a status query even without a reference number.
_SENT_CUE = re.compile(
    r"(提交|发送|报送|递交|发)(的|了|过)[^,.，。？?!！\n]{0,12}(申报|材料)|"
    r"(申报书|申报材料|材料|申报)[^,.，。？?!！\n]{0,10}"
    r"(审核|通过|齐全|问题|补充|收到|登记|受理|初审|评审|情况|结果|进展)|"
    r"(没有|没|未|尚未)收到[^,.，。？?!！\n]{0,6}(回执|回复|确认|通知)"
)
_URL = re.compile(r"https?://\S+|www\.\S+", re.I)
_ASKING = re.compile(
    r"[?？]|吗|了没|没有|有没有|是否|需不需要|要不要|请问|想问|问一?下|确认一下|帮忙看|"
    r"如何|怎样|查一下|查询|告知|核实"
)
# Without any file, only a claim that something is attached (or a subject naming the
# form) makes a submission that forgot its attachment; a question about the round does not.
_ATTACH_CLAIM = re.compile(
    r"附件|查收|见附|随附|附上|现报送|现提交|现将|特此报送|报送如下|请审阅|请审核"
)
# an acceptance request (notice 五.1): the unit asks the bureau to organise acceptance
_ACCEPTANCE = re.compile(r"验收申请|申请验收|提请验收|组织验收|验收材料|结题验收|申请结题|结题申请|结题材料")
_FORM_SUBJECT = re.compile(r"申报书|申报材料|推荐材料|推荐汇总表|申报表")
# Signs that a mail is about this round at all. The bureau's address is a department
# mailbox: it also gets invoices, invitations, newsletters and questions with files
# attached, and none of those may be answered with "申报材料需补正".
_ABOUT_APPLICATION = re.compile(r"申报|材料|揭榜|挂帅|受理|编号|推荐")
_CLAIMS_TO_APPLY = re.compile(r"申报书|申报材料|申报表|推荐材料|推荐汇总表|推荐名单|补充材料|补正材料|"
                              r"揭榜.{0,12}(申报|报送|提交)|"
                              r"(申报|报送|提交).{0,12}揭榜")
_QUESTION = re.compile(r"[?？]|吗[。！!]?\s*$|是否可以|能否|可否", re.M)
_REPLY_PREFIX = re.compile(r"^\s*(re|回复|答复|回覆|答覆|aw|sv|fw|fwd|转发|轉發|转寄|轉寄)\s*[:：]", re.I)
_QUOTE_START = re.compile(
    r"^(>|在\s.*[写寫]道[:：]?$|On .* wrote:$|-{2,}\s*(原始邮件|原始郵件|Original Message|Forwarded)|"
    r"发件人[:：]|寄件者[:：]|From:\s|-----)",
    re.I,
)

# Large-attachment services and share links: the file is not in the mail.
# A link starts where a host name can (never inside a run of ASCII name characters), its
# labels are ASCII and walked one by one: so the work is linear. With free \w runs in
# front, every start position rescanned the run for each service: 10 KB of letters in a
# body took 3 s, 40 KB 40 s.
_CLOUD = re.compile(
    r"(?<![A-Za-z0-9_./-])(?:https?://)?(?:(?:[A-Za-z0-9_-]+\.)*(?:"
    r"mail\.qq\.com/cgi-bin/ftnExs_download|wx\.mail\.qq\.com/ftn|exmail\.qq\.com/cgi-bin/ftnExs|"
    r"ftn\.qq\.com|mail\.163\.com/large-attachment|mail\.126\.com/large|"
    # 网易邮箱大师's own links are mostly its signature ("签名由网易邮箱大师定制"): only its
    # attachment pages are files
    r"dashi\.163\.com/(?:html/)?[A-Za-z0-9_-]*(?:attach|download|share)|"
    r"fs\.163\.com|u\.163\.com|pan\.baidu\.com|yun\.baidu\.com|aliyundrive\.com|alipan\.com|"
    r"cloud\.189\.cn|caiyun\.139\.com|yun\.139\.com|pan\.139\.com|share\.weiyun\.com|weiyun\.com|"
    r"lanzou[A-Za-z0-9_]*\.com|ilanzou\.com|pan\.quark\.cn|123pan\.com|123pan\.cn|123684\.com|"
    r"123865\.com|123912\.com|jianguoyun\.com|kdocs\.cn|wps\.cn/[^\s<>\"'）)]|"
    r"drive\.weixin\.qq\.com|doc\.weixin\.qq\.com|"
    r"docs\.qq\.com|feishu\.cn/file|1drv\.ms|onedrive\.live\.com|sharepoint\.com|dropbox\.com|"
    r"drive\.google\.com|docs\.google\.com|wetransfer\.com|ctfile\.com|mail\.sina\.com\.cn/filecenter)"
    r"|[A-Za-z0-9_./-]*?(?:large-attachment|cloud-attachment|bigattach|big_attach|ftnExs|attach/share)"
    r")[^\s<>\"'）)]*",
    re.I,
)
_CLOUD_WORDS = re.compile(
    r"超大附件|大附件|云附件|网盘|云盘|中转站|文件中转|下载链接|提取码|网盘链接|微盘|微云|腾讯文档|金山文档|"
    r"云文档|坚果云|蓝奏云|onedrive|google ?drive|dropbox",
    re.I,
)
# Links that never hold an applicant's file: government sites (the round's notice), and
# the schema addresses an HTML body declares.
_LINK = re.compile(r"https?://[A-Za-z0-9._~:/?#\[\]@!$&*+,;=%-]+", re.I)
_LINK_HOST = re.compile(r"https?://([A-Za-z0-9.-]{1,253})", re.I)
_NOT_CLOUD_HOSTS = ("gov.cn", "w3.org", "schemas.microsoft.com", "schemas.openxmlformats.org")


def _not_cloud_link(url: str) -> bool:
    m = _LINK_HOST.match(url)
    host = m.group(1).lower().rstrip(".") if m else ""
    return any(host == h or host.endswith("." + h) for h in _NOT_CLOUD_HOSTS)

_TABLE_NAME = re.compile(r"推荐汇总表|汇总表|推荐表|推荐名单|推荐清单|推荐汇总|推荐情况")
_FORM_NAME_STRONG = re.compile(r"申报书|申请书|申报表|揭榜书|申报材料")
_FORM_NAME_WEAK = re.compile(r"揭榜挂帅|揭榜|申报")
_SUPPORT_NAME = re.compile(
    r"营业执照|承诺|证明|证书|公函|的函|推荐函|推荐信|推荐意见|说明|简介|委托|授权书|资质|专利|著作权|合同|"
    r"协议|信用报告|信用记录|征信|声明|发票|截图|照片|身份证"
)
# The title of a document that is not a form, however many of the form's words it
# repeats: an agreement names both units and their codes, a 承诺书 the direction. A title
# ends with what the document is ("联合申报合作协议", "事业单位法人证书", "推荐函").
_SUPPORT_TITLE = re.compile(
    r"(?:协议书?|承诺书|承诺函|声明书?|营业执照(?:副本|正本)?|信用报告|信用记录|证书|委托书|授权书|"
    r"推荐函|推荐信|推荐意见|的函|证明|证明材料|情况说明)$"
)
_TITLE_NOTE = re.compile(r"[(（][^()（）]*[)）]$")  # "信用报告（无违法违规记录证明版）"
_FORM_TITLE = re.compile(r"申报书|申请书|申报表")
_FORM_FIELDS = (
    "direction",
    "task_name",
    "unit",
    "uscc",
    "task_types",
    "outcomes",
    "nature",
    "partners",
)


# -- intent -------------------------------------------------------------------


def _header(headers: Message | None, name: str) -> str:
    if headers is None:
        return ""
    try:
        return str(headers.get(name, "") or "")
    except Exception:  # a malformed header object: treat as absent
        return ""


def is_bounce(headers: Message | None, envelope: Envelope) -> bool:
    ctype = ""
    try:
        ctype = headers.get_content_type() if headers is not None else ""
    except Exception:
        ctype = ""
    report = "delivery-status" in _header(headers, "Content-Type").lower()
    if ctype == "multipart/report" and (
        report or "report-type" not in _header(headers, "Content-Type")
    ):
        return True
    sender = (envelope.from_addr or "").lower()
    if _BOUNCE_SENDERS.match(sender) or _header(headers, "X-Failed-Recipients"):
        return True
    return bool(_BOUNCE_SUBJECT.search(envelope.subject or "")) and (
        not _header(headers, "Return-Path").strip("<> ")
        or "auto" in _header(headers, "Auto-Submitted").lower()
    )


def is_auto_reply(headers: Message | None, envelope: Envelope) -> bool:
    auto = _header(headers, "Auto-Submitted").strip().lower()
    if auto and auto.split(";", 1)[0].strip() != "no":  # "no; comment" is a person's mail
        return True
    if any(_header(headers, h) for h in ("X-Autoreply", "X-Autorespond", "X-Autogenerated")):
        return True
    # Exchange's request not to be auto-answered: only its answer-suppressing values count
    # ("DR", delivery reports only, is set on ordinary mail too)
    suppress = _header(headers, "X-Auto-Response-Suppress").lower()
    if any(word in suppress for word in ("all", "autoreply", "oof")):
        return True
    if _header(headers, "Precedence").strip().lower() in ("auto_reply", "auto-reply"):
        return True
    return bool(_AUTO_SUBJECT.search(_cn(envelope.subject or "")))


MAX_REPORT_PARTS = 50  # parts looked at for a disposition notification


def _is_mdn(headers: Message | None) -> bool:
    """An RFC 8098 message disposition notification: the report's own type, or a
    message/disposition-notification part (some gateways wrap the report)."""
    ctype = _header(headers, "Content-Type").lower()
    if ctype.strip().startswith("multipart/report") and "disposition-notification" in ctype:
        return True
    # the mail's own parts only: a forwarded mail (message/rfc822) is a document, and a
    # read receipt among a package's forwarded mails does not make the package one
    todo = [headers] if headers is not None else []
    try:
        for _ in range(MAX_REPORT_PARTS):
            if not todo:
                break
            part = todo.pop()
            if part.get_content_type() == "message/disposition-notification":
                return True
            children = part.get_payload() if part.get_content_maintype() == "multipart" else None
            if isinstance(children, list):
                todo.extend(c for c in children if isinstance(c, Message))
    except Exception:  # a malformed tree: what the top-level headers said stands
        return False
    return False


def is_read_receipt(headers: Message | None, envelope: Envelope, body: str = "") -> bool:
    """A read receipt (RFC 8098, or a client's "已读: …" / "Read: …" notice): machinery,
    like an auto-reply. *body* lets a bare "回执：…" count when its text says the mail was read."""
    if _is_mdn(headers):
        return True
    subject = _cn(envelope.subject or "")
    if _READ_SUBJECT.match(subject):
        return True
    return bool(body) and bool(_RECEIPT_SUBJECT.match(subject)) and bool(_RECEIPT_BODY.search(_cn(body[:5000])))


def _is_away_notice(subject: str, body: str) -> bool:
    """A hand-written away notice: it says the writer is away and asks nothing."""
    if _AWAY_SUBJECT.match(_cn(subject)) or _AUTO_BODY.search(_cn(body)):
        return True
    words = _cn(f"{subject}\n{body}")
    return bool(_AWAY_TEXT.search(words)) and not (
        _STATUS_STRONG.search(words) or _QUESTION.search(words) or _ATTACH_CLAIM.search(words)
    )


def is_list_mail(headers: Message | None) -> bool:
    return _header(headers, "Precedence").strip().lower() in ("bulk", "junk", "list") or bool(
        _header(headers, "List-Id") or _header(headers, "List-Unsubscribe")
    )


def reply_guard(intent: str | None, headers: Message | None, envelope: Envelope,
                own: frozenset[str]) -> str | None:
    """Why no automatic answer may go to this mail's sender (RFC 3834), or None.

    Never automatic mail, bounces, lists, robots or ourselves. *intent* None: the mail is
    not understood yet (a receipt on arrival), so a bounce is recognised by its headers.
    """
    if intent is None and is_bounce(headers, envelope):
        intent = "bounce"
    if intent in ("auto_reply", "bounce"):
        return {"auto_reply": "incoming mail is an auto-reply", "bounce": "incoming mail is a bounce"}[intent]
    if is_list_mail(headers):
        return "mailing-list or bulk mail"
    robot = _robot_headers(headers)
    if robot is not None:
        return robot
    sender = (envelope.from_addr or "").lower()
    if not sender:
        return "no sender address"
    if sender in {a.lower() for a in own}:
        return "sent from our own address"
    if is_read_receipt(headers, envelope):
        return "read receipt (disposition notification)"
    if is_auto_reply(headers, envelope):
        return "automatic mail (Auto-Submitted / X-Autoreply)"
    return None


def _robot_headers(headers: Message | None) -> str | None:
    """Headers only machines write (RFC 3834 §2, RFC 5965, RFC 2369): a loop guard of
    another robot, a list's posting address, an abuse report, a bounce's empty Return-Path,
    a delivery or disposition report."""
    for name in ("X-Loop", "List-Post", "Feedback-Type"):
        if _header(headers, name):
            return f"{name} header present"
    if headers is not None and "Return-Path" in headers and not _header(headers, "Return-Path").strip("<> \t"):
        return "empty Return-Path (a bounce)"
    if _header(headers, "Content-Type").strip().lower().startswith("multipart/report"):
        return "delivery or disposition report"
    return None


# an objection (异议) to the published list (SPEC 6): the word itself, or a complaint about
# a listed unit during the 公示期 — the tracker decides whether a 公示期 is open
_OBJECTION = re.compile(r"异议|提出质疑|举报|申诉|不符合申报条件|弄虚作假|造假")


def objection_text(subject: str, body: str) -> str:
    """The sender's own words when they object to something, else ""; at most 4,000
    characters (enough to find the unit or reference it names)."""
    words = _cn(f"{subject}\n{own_text(body)}")
    return words[:4000] if _OBJECTION.search(words) else ""


def own_text(body: str) -> str:
    """The sender's own words: quoted history of the thread cut off."""
    out = []
    for line in (body or "").splitlines():
        if _QUOTE_START.match(line.strip()):
            break
        out.append(line)
    return "\n".join(out)


def is_reply_to_us(envelope: Envelope, code: str, own_domains: Iterable[str] = ()) -> bool:
    ids = [envelope.in_reply_to or ""] + list(envelope.references or [])
    ours = re.compile(rf"<{re.escape(code)}-\d+\.", re.I)
    domains = tuple(d.lower() for d in own_domains if d)
    if any(
        ours.match(i) or (domains and i.lower().rstrip(">").endswith(domains)) for i in ids if i
    ):
        return True
    return bool(_REPLY_PREFIX.match(envelope.subject or "")) and bool(
        re.search(rf"{re.escape(code)}\s*[-－—_]\s*\d", nfkc(envelope.subject or ""), re.I)
    )


def detect_intent(
    headers: Message | None,
    envelope: Envelope,
    body: str,
    documents: list[Document],
    *,
    code: str,
    reference: str | None = None,
    has_cloud_link: bool = False,
    own: frozenset[str] = frozenset(),
) -> Intent:
    if is_bounce(headers, envelope):
        return "bounce"
    papers = [d for d in documents if d.role in ("application_form", "recommendation_table")]
    if not (is_auto_reply(headers, envelope) or is_read_receipt(headers, envelope, own_text(body))):
        # the year after (SPEC 7): asked in the subject, or in the sender's own words when no
        # application form comes with it (a form's "完成后提请验收" is a promise, not a request)
        subject = _cn(envelope.subject or "")
        if (_ACCEPTANCE.search(subject) or (not papers and _ACCEPTANCE.search(_cn(own_text(body))))
                or ("结题" in subject and documents)):
            return "acceptance_request"
    if papers:
        return "submission"
    if is_auto_reply(headers, envelope) or is_read_receipt(headers, envelope, own_text(body)):
        return "auto_reply"
    if not documents and _is_away_notice(envelope.subject or "", own_text(body)):
        return "auto_reply"
    if is_list_mail(headers) or (envelope.from_addr or "").lower() in own:
        return (
            "other"  # lists, and our own mail (a copy, a forward to ourselves), are never answered
        )
    # links carry "?" and words of their own: never read them as the writer's question
    words = _URL.sub(" ", _cn(f"{envelope.subject}\n{own_text(body)}"))
    # "进展" and "查询" are everyday words (a newsletter's "建设进展"): a status question
    # is about an application
    about_ours = bool(_ABOUT_APPLICATION.search(words)) or reference is not None or is_reply_to_us(envelope, code)
    asks = about_ours and (
        bool(_STATUS_STRONG.search(words))
        or (
            bool(_STATUS_WEAK.search(words))
            and (reference is not None or is_reply_to_us(envelope, code))
        )
        or bool(_SENT_CUE.search(words) and _ASKING.search(words))
    ) or _asks_in_english(words, reference is not None or is_reply_to_us(envelope, code))
    files = [d for d in documents if d.container is None]
    documents_sent = [
        d for d in files if d.format != "image"
    ]  # a screenshot does not make a submission
    if asks and not documents_sent and not has_cloud_link and not re.search(r"见附件|请查收|附件是|随附|附上", words):
        return "status_query"
    names = " ".join(d.name for d in files)
    about_round = (
        reference is not None
        or is_reply_to_us(envelope, code)
        or bool(_CLAIMS_TO_APPLY.search(f"{words}\n{nfkc(names)}"))
    )
    if (files or has_cloud_link) and about_round:
        return "submission"
    if files or has_cloud_link:
        return "other"  # files, but nothing of the round: staff look, nobody is told off
    # a reply's subject still carries our "申报材料已收到": only fresh subjects count (a
    # receipt's "回执：…" / "已读：…" quotes one too)
    subject = _cn(envelope.subject or "")
    if _REPLY_PREFIX.match(subject) or _RECEIPT_SUBJECT.match(subject) or _READ_SUBJECT.match(subject):
        subject = ""
    mine = _cn(own_text(body))
    if (_claims_attachment(mine) and about_round) or (
        _FORM_SUBJECT.search(subject) and not _QUESTION.search(f"{subject}\n{mine}")
    ):
        return "submission"
    return "other"


def _asks_in_english(words: str, referenced: bool) -> bool:
    """An English question about the state of the writer's application."""
    if not (_EN_ASK.search(words) and _EN_STATUS.search(words)) or _EN_NOT_OURS.search(words):
        return False
    return (referenced or bool(_EN_OURS.search(words))) and not _EN_ATTACHED.search(words)


def _stated(pattern: re.Pattern[str], text: str) -> list[str]:
    """What *pattern* finds in the sentences of *text* that are no question: "申报书见附件"
    claims an attachment, "可以用超大附件发送吗？" does not."""
    found = []
    text = _LINK.sub(" ", text)  # a link's "?" asks nothing
    for sentence in re.findall(r"[^。！!？?\n]+[。！!？?]?", text):
        m = pattern.search(sentence)
        if m and not re.search(r"[?？]$|吗|能否|可否|是否可以", sentence):
            found.append(m.group(0))
    return found


def _claims_attachment(text: str) -> bool:
    return bool(_stated(_ATTACH_CLAIM, text))


# -- reference numbers and links -------------------------------------------------


def find_reference(code: str, *texts: str) -> str | None:
    """The first ``CODE-NNNN`` in the texts given (subject, threading ids, body…), normalised."""
    pattern = re.compile(rf"(?<![A-Za-z0-9]){re.escape(code)}\s*[-－—_]\s*(\d{{1,6}})(?!\d)", re.I)
    for text in texts:
        m = pattern.search(nfkc(text or ""))
        if m:
            return f"{code.upper()}-{int(m.group(1)):04d}"
    return None


def _decoded(text: str) -> str:
    """An HTML body's links as a browser follows them: entities and %-escapes undone (a
    link wrapped by a gateway, Outlook's safelinks "?url=https%3A%2F%2Fpan.baidu.com…")."""
    if "%" not in text and "&" not in text:
        return ""
    return unquote(html.unescape(text))


def cloud_links(*texts: str) -> list[str]:
    """Links to large-attachment / net-disk services, or their tell-tale words.

    The words count only with a link somewhere in the mail (the plain text or an HTML
    ``href``), and never a government site's (the round's notice): a question "可以用网盘
    发送吗" or "通知的下载链接打不开" is no file sent by link."""
    found: list[str] = []
    bodies = [t or "" for t in texts]
    for text in bodies:
        links = [m.group(0) for m in _CLOUD.finditer(text)]
        decoded = _decoded(text) if not links else ""
        if decoded and decoded != text:
            links = [m.group(0) for m in _CLOUD.finditer(decoded)]
        found += links
    if not found:
        words = [w for text in bodies for w in _stated(_CLOUD_WORDS, _cn(own_text(text)))[:1]]
        linked = any(
            not _not_cloud_link(u.group(0)) for text in bodies for u in _LINK.finditer(text)
        )
        if words and linked:
            found.append(words[0])
    return list(dict.fromkeys(found))


# -- document roles ----------------------------------------------------------------


def _looks_like_table(doc: Document) -> bool:
    view = view_of(doc, 20000)
    if any(
        ct.column("unit") is not None
        and (ct.column("rank") is not None or ct.column("direction") is not None)
        and ct.rows
        for ct in view.column_tables
    ):
        return True
    head = norm(doc.text[:300])
    # a cover letter "关于报送推荐汇总表的函" names the table but is not one
    titled = ("推荐汇总表" in head or "推荐表" in head) and not re.search(r"的函|关于|报告", head)
    return titled and (doc.scanned or not _blank_table(doc))


def _blank_table(doc: Document) -> bool:
    """An empty 推荐汇总表 template: no rows, and no organisation named but a bureau."""
    from intake.extract.table import read_recommendations
    from intake.extract.units import unit_names_in

    if read_recommendations(doc).rows:
        return False
    return not [n for n in unit_names_in(doc.text[:20000]) if not n.endswith(("局", "厅"))]


def _title_lines(doc: Document, count: int = 3) -> list[str]:
    """The first lines of text that can be a title: no "label：value", no table row."""
    out = []
    for raw in doc.text[:2000].splitlines():
        line = norm(raw)
        if not line or re.fullmatch(r"附件\d*[:：]?", line):
            continue
        cells = raw.split()
        row = len(cells) > 1 and match_label(cells[0]) is not None  # a table row of a PDF
        out.append("" if row or re.search(r"[:：\t]", raw) or len(line) > 40 else line)
        if len(out) == count:
            break
    return out


def _titled_as_support(doc: Document) -> bool:
    """The document's own title names a supporting document (协议, 承诺书, 营业执照…)."""
    titles = _title_lines(doc)
    if any(_FORM_TITLE.search(t) for t in titles):
        return False
    return any(_SUPPORT_TITLE.search(_TITLE_NOTE.sub("", t)) for t in titles if t)


def _form_score(doc: Document) -> int:
    view = view_of(doc, 60000)
    named = {p.field for p in view.pairs + view.sections if p.field in _FORM_FIELDS and p.value}
    return len(named) + (2 if "申报书" in norm(doc.text[:400]) else 0)


def classify_document(doc: Document) -> Role:
    """The role of one opened document, by its content first and its name second."""
    if doc.format in CONTAINER_FORMATS:
        return "unknown"
    name = norm(doc.name)
    has_content = doc.readable and bool(doc.text.strip() or doc.tables)
    score = 0
    support_named = bool(_SUPPORT_NAME.search(name)) and not _FORM_NAME_STRONG.search(name)
    if has_content:
        if _looks_like_table(doc):
            return "recommendation_table"
        if _titled_as_support(doc):
            return "supporting"  # a form is a form by its content, and this says what it is
        score = _form_score(doc)
        # named as a supporting document: the form's own title must say otherwise
        if score >= 3 and not (support_named and not any("申报书" in t for t in _title_lines(doc))):
            return "application_form"
    if _TABLE_NAME.search(name) and not (has_content and not doc.scanned and _blank_table(doc)):
        return "recommendation_table"  # (a blank template some applicants attach is not one)
    if _SUPPORT_NAME.search(name) and not _FORM_NAME_STRONG.search(name):
        return "supporting" if doc.readable else "unknown"
    if _FORM_NAME_STRONG.search(name):
        return "application_form"
    if _FORM_NAME_WEAK.search(name) and doc.format != "image" and (score >= 1 or not has_content):
        return "application_form"
    return "supporting" if doc.readable else "unknown"


def classify_documents(docs: list[Document]) -> None:
    """Set ``role`` on each document in place."""
    for doc in docs:
        try:
            doc.role = classify_document(doc)
        except Exception:  # one odd document must not stop the others
            doc.role = "unknown"


def promote_scanned_forms(docs: list[Document]) -> None:
    """A submission's scanned PDF that nothing calls anything else, when the mail has no
    form at all or OCR could read (almost) nothing of it.

    The scan is taken as a form: a 申报书 OCR could not make out is for staff to
    read (OCR_USED), not a "missing application form" to tell the applicant about.
    Only for mail already known to be a submission: a scanned invoice stays an invoice.
    """
    none_yet = not any(d.role in ("application_form", "recommendation_table") for d in docs)
    for doc in docs:
        if (
            doc.role in ("supporting", "unknown")
            and doc.format == "pdf"
            and doc.scanned
            and doc.readable
            and (none_yet or len(norm(doc.text)) < 20)  # beside forms: only a scan OCR could not read
            and not _SUPPORT_NAME.search(norm(doc.name))
            and not _titled_as_support(doc)
        ):
            doc.role = "application_form"
