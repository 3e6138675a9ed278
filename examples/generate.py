"""Write the project's example mails (examples/mails/*.eml) — run: python examples/generate.py

Fictional units and addresses; USCCs carry valid GB 32100-2015 check characters.
The quick start delivers these to the local SMTP receiver so a newcomer sees the
service at work without any account.
"""

from __future__ import annotations

import io
import mimetypes
import shutil
import subprocess
import tempfile
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

import docx

HERE = Path(__file__).resolve().parent
CST = timezone(timedelta(hours=8))
PROVINCE = "dsjjzcghc@shandong.cn"
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
DIRECTIONS = ("数据产权保护", "数据治理", "公共数据资源授权运营", "数据流通交易",
              "数据收益分配", "数据流通利用技术", "数据产业发展", "数据安全")


def uscc(first17: str) -> str:
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return first17 + USCC_CHARS[(31 - total % 31) % 31]


def form_docx(*, unit: str, code: str, nature: str, city: str, direction: int, task: str,
              types: set[str], outcomes: set[str], partners: list[str] = (), email: str = "") -> bytes:
    doc = docx.Document()
    doc.add_paragraph("附件1")
    doc.add_heading("2025年全省数据要素市场化配置改革揭榜挂帅申报书", level=1)
    cover = doc.add_table(rows=0, cols=2)
    for label, value in (("榜单方向", f"{direction}. {DIRECTIONS[direction - 1]}"), ("揭榜任务名称", task),
                         ("揭榜单位（盖章）", unit), ("联合单位", "、".join(partners) or "无"),
                         ("申报日期", "2025年1月8日")):
        row = cover.add_row().cells
        row[0].text, row[1].text = label, value
    doc.add_paragraph("一、揭榜单位基本情况")
    basic = doc.add_table(rows=0, cols=2)
    natures = "  ".join(("☑" if n == nature else "□") + n for n in ("中央驻鲁单位", "省属单位", "其他"))
    for label, value in (("单位名称", unit), ("统一社会信用代码", code), ("单位性质", natures),
                         ("所在市", city), ("联系人", "王晓明"), ("电子邮箱", email)):
        row = basic.add_row().cells
        row[0].text, row[1].text = label, value
    doc.add_paragraph("二、联合单位基本情况")
    for i, p in enumerate(partners, 1):
        doc.add_paragraph(f"{i}. {p}")
    doc.add_paragraph("三、揭榜任务")
    doc.add_paragraph("（一）任务类别")
    doc.add_paragraph("　　".join(("☑" if t in types else "□") + t for t in ("理论研究", "技术创新", "应用实践")))
    doc.add_paragraph("（三）总体目标：建成覆盖全省的数据资源目录与治理体系。")
    doc.add_paragraph("（四）阶段性目标：2025年6月完成方案设计；2025年12月完成试点验证。")
    doc.add_paragraph("（五）预期成果")
    doc.add_paragraph("　　".join(("☑" if o in outcomes else "□") + o for o in ("研究报告", "创新成果", "应用场景", "实践案例")))
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def recommendation_table(city: str, rows: list[tuple[int, int, str, str]]) -> bytes:
    doc = docx.Document()
    doc.add_heading(f"{city}2025年数据要素市场化配置改革揭榜挂帅推荐汇总表", level=1)
    doc.add_paragraph(f"推荐单位（盖章）：{city}大数据局")
    table = doc.add_table(rows=1, cols=5)
    for cell, text in zip(table.rows[0].cells, ("推荐排序", "榜单方向", "揭榜单位", "揭榜任务名称", "备注"), strict=True):
        cell.text = text
    for rank, direction, unit, task in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, (str(rank), DIRECTIONS[direction - 1], unit, task, ""), strict=True):
            cell.text = text
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def as_pdf(files: dict[str, bytes]) -> dict[str, bytes]:
    """PDF versions made by LibreOffice (as a bureau's scanner-less 'sealed PDF' would be)."""
    if not shutil.which("soffice"):
        return {}
    with tempfile.TemporaryDirectory(prefix="jb-examples-") as work:
        root = Path(work)
        for i, data in enumerate(files.values()):
            (root / f"{i}.docx").write_bytes(data)
        subprocess.run(["soffice", f"-env:UserInstallation={(root / 'profile').as_uri()}", "--headless",
                        "--convert-to", "pdf", "--outdir", str(root / "out"),
                        *[str(root / f"{i}.docx") for i in range(len(files))]],
                       check=True, capture_output=True, timeout=180)
        return {name.rsplit(".", 1)[0] + ".pdf": (root / "out" / f"{i}.pdf").read_bytes()
                for i, name in enumerate(files)}


DOCX = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")


def mail(*, sender: str, name: str, subject: str, body: str, when: datetime, mid: str,
         attachments: list[tuple[str, bytes]] = (), headers: dict[str, str] | None = None) -> bytes:
    msg = EmailMessage()
    msg["Received"] = (f"from mail.example.cn by mx.shandong.cn (Postfix) with ESMTPS; "
                       f"{format_datetime(when + timedelta(seconds=40))}")
    msg["From"] = f"{name} <{sender}>"
    msg["To"] = f"山东省大数据局 <{PROVINCE}>"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = mid
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    for filename, data in attachments:
        kind = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        maintype, subtype = kind.split("/", 1) if not filename.endswith(".docx") else DOCX
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes(policy=SMTP)  # CRLF line ends, as on the wire


def build() -> dict[str, bytes]:
    t0 = datetime(2025, 1, 8, 10, 2, tzinfo=CST)
    inst = "山东省泉河数字经济研究院"
    weifang = "潍坊瑞丰数据科技有限公司"
    jn1, jn2 = "济南云泺信息技术有限公司", "山东历城数智科技股份有限公司"
    jinan_forms = {
        f"申报书-{jn1}.docx": form_docx(
            unit=jn1, code=uscc("91370102MA3CY1L5N"), nature="其他", city="济南市", direction=6,
            task="隐私计算数据流通平台", types={"技术创新"}, outcomes={"创新成果"}),
        f"申报书-{jn2}.docx": form_docx(
            unit=jn2, code=uscc("91370112MA3DL2W6P"), nature="其他", city="济南市", direction=6,
            task="可信数据空间关键技术", types={"技术创新", "理论研究"}, outcomes={"创新成果", "研究报告"},
            partners=["山东数联大学"]),
    }
    out = {
        "01-direct-provincial.eml": mail(
            sender="wangxm@quanhe.example.cn", name="王晓明", when=t0, mid="<ex01.20250108@quanhe.example.cn>",
            subject="2025年揭榜挂帅申报书-山东省泉河数字经济研究院",
            body="您好：\n\n附件是我单位的揭榜挂帅申报书（Word版），请查收。\n\n王晓明\n山东省泉河数字经济研究院",
            attachments=[(f"2025年揭榜挂帅申报书-{inst}.docx", form_docx(
                unit=inst, code=uscc("12370000MA3QH7K2X"), nature="省属单位", city="济南市", direction=2,
                task="全省公共数据治理标准体系研究与应用", types={"技术创新", "应用实践"},
                outcomes={"创新成果", "应用场景"}, email="wangxm@quanhe.example.cn"))]),
        "02-direct-private-company.eml": mail(
            sender="li.na@ruifeng.example.cn", name="李娜", when=t0 + timedelta(days=1),
            mid="<ex02.20250109@ruifeng.example.cn>", subject="揭榜挂帅申报-潍坊瑞丰数据科技有限公司",
            body="省大数据局：\n\n我公司申报数据流通交易方向，申报书见附件。",
            attachments=[("申报书.docx", form_docx(
                unit=weifang, code=uscc("91370705MA3RF5D8Q"), nature="其他", city="潍坊市", direction=4,
                task="数据交易撮合平台建设", types={"应用实践"}, outcomes={"应用场景"}))]),
        "03-city-package-jinan.eml": mail(
            sender="jinan-dsj@dsj.jinan.example", name="济南市大数据局", when=t0 + timedelta(days=9),
            mid="<ex03.20250117@dsj.jinan.example>", subject="济南市揭榜挂帅推荐材料报送",
            body="省大数据局：\n\n现将我市推荐汇总表及推荐项目申报书报送，请审核。",
            attachments=[
                ("济南市推荐汇总表.docx", recommendation_table("济南市", [
                    (1, 6, jn1, "隐私计算数据流通平台"), (2, 6, jn2, "可信数据空间关键技术")])),
                *jinan_forms.items(),
                *as_pdf(jinan_forms).items(),
            ]),
        "04-status-query.eml": mail(
            sender="wangxm@quanhe.example.cn", name="王晓明", when=t0 + timedelta(days=3),
            mid="<ex04.20250111@quanhe.example.cn>", subject="Re: [JB2025-0001] 申报材料已收到",
            body="您好，请问我单位申报材料目前审核进度如何？是否需要补充材料？",
            headers={"In-Reply-To": "<jb2025-0001.1736301780@shandong.cn>",
                     "References": "<jb2025-0001.1736301780@shandong.cn>"}),
        "05-no-attachment.eml": mail(
            sender="zhao@hainuo.example.cn", name="赵磊", when=t0 + timedelta(days=4),
            mid="<ex05.20250112@hainuo.example.cn>", subject="揭榜挂帅申报材料",
            body="您好，申报书见附件，请查收。"),
        "06-out-of-office.eml": mail(
            sender="li.na@ruifeng.example.cn", name="李娜", when=t0 + timedelta(days=2),
            mid="<ex06.20250110@ruifeng.example.cn>", subject="自动回复: [JB2025-0002] 申报材料已收到",
            body="您好，我正在休假，1月15日返回，期间邮件不能及时回复。",
            headers={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"}),
    }
    return out


def main() -> None:
    target = HERE / "mails"
    target.mkdir(exist_ok=True)
    for name, data in build().items():
        (target / name).write_bytes(data)
        print(f"wrote examples/mails/{name} ({len(data):,} bytes)")


if __name__ == "__main__":
    main()
