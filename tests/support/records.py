"""Build application mails and run them through the real pipeline (store → cycle)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from examples.generate import CST, form_docx, mail, recommendation_table, uscc
from notifier.models import OutboxMail
from support.factory.office import convert
from support.helpers import write_config
from tracker.app import App
from tracker.config import load_settings
from tracker.pipeline.ingest import store_raw
from tracker.service import Service
from tracker.store.tables import DeficiencyRecord, Submission

CITY_CONFIG = {
    "济南市": {"bureau_emails": ["jinan-dsj@dsj.jinan.example"], "contact": "孟晓林", "phone": "0531-94710893"},
    "潍坊市": {"bureau_emails": ["weifang-dsj@dsj.weifang.example"], "contact": "郎雪梅", "phone": "0536-9999249"},
}
T0 = datetime(2025, 1, 8, 10, 0, tzinfo=CST)
_counter = iter(range(1, 10_000))


def make_app(tmp_path, db_url, **sections) -> App:
    sections.setdefault("cities", CITY_CONFIG)
    config = write_config(tmp_path, db_url=db_url, **sections)
    app = App(load_settings(config))
    app.migrate()
    return app


def form(unit="山东省泉河数字经济研究院", code17="12370000MA3QH7K2X", nature="省属单位", city="济南市",
         direction=2, types=("技术创新",), outcomes=("创新成果",), partners=(), email="") -> bytes:
    return form_docx(unit=unit, code=uscc(code17), nature=nature, city=city, direction=direction,
                     task=f"{unit}揭榜任务", types=set(types), outcomes=set(outcomes),
                     partners=list(partners), email=email)


def application_mail(*, sender="wangxm@quanhe.example.cn", subject="揭榜挂帅申报书", when=T0,
                     attachments=None, headers=None, body="您好，申报书见附件，请查收。", **form_args) -> bytes:
    n = next(_counter)
    files = attachments if attachments is not None else [(f"申报书{n}.docx", form(**form_args))]
    return mail(sender=sender, name="申报人", subject=subject, body=body, when=when,
                mid=f"<t{n}.{when:%Y%m%d%H%M}@example.cn>", attachments=files, headers=headers)


def city_package(city="济南市", sender="jinan-dsj@dsj.jinan.example", rows=(), forms=(),
                 when=T0 + timedelta(days=8), with_pdf=True) -> bytes:
    """A city bureau's mail: its 推荐汇总表 and each form as Word and (LibreOffice-made) PDF."""
    attachments = []
    if rows:
        attachments.append((f"{city}推荐汇总表.docx", recommendation_table(city, list(rows))))
    attachments += list(forms)
    if with_pdf and forms:
        attachments += sorted(convert(dict(forms), "pdf").items())
    n = next(_counter)
    return mail(sender=sender, name=f"{city}大数据局", subject=f"{city}揭榜挂帅推荐材料", when=when,
                mid=f"<pkg{n}@{sender.split('@')[1]}>", body="省大数据局：现将我市推荐材料报送。",
                attachments=attachments)


def deliver(app: App, *raws: bytes) -> None:
    for raw in raws:
        store_raw(app.engine, app.blobs, raw)
    Service(app).cycle()


def submissions(app: App) -> list[Submission]:
    with Session(app.engine) as s:
        return s.exec(select(Submission).order_by(Submission.reference)).all()


def open_codes(app: App, sub: Submission) -> set[str]:
    with Session(app.engine) as s:
        return {d.code for d in s.exec(select(DeficiencyRecord).where(
            DeficiencyRecord.submission_id == sub.id, DeficiencyRecord.state == "open")).all()}


def outbox(app: App) -> list[OutboxMail]:
    with Session(app.engine) as s:
        return s.exec(select(OutboxMail).order_by(OutboxMail.id)).all()
