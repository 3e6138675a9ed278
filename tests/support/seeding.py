"""A province database seeded through the real pipeline, for the digest and staff CLI tests.

store_raw → Service.cycle → the delivery job: the project's example mails, a late direct
submission, a 青岛 package over quota, a question for a person, a message that cannot be
processed, a mail a server refused and a bounce of one of our acks.

Seeding runs once per backend and session; every ``seed_province`` gets its own copy
(``support.templates``: the database cloned, the store's files copied), so tests stay
independent and may change what they got.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from sqlmodel import Session, select

from notifier.models import OutboxMail, OutboxState
from notifier.sender import deliver_pending
from notifier.transports.base import PermanentSendError
from support.digests import QUESTION_SUBJECT
from support.formfactory import FormSpec, make_docx, make_eml, make_table_xlsx, make_uscc
from support.helpers import CST, REPO, make_mail, write_config
from support.templates import cloned
from tracker.app import App
from tracker.config import load_settings
from tracker.pipeline.ingest import store_raw
from tracker.service import Service
from tracker.store.tables import StoredMessage

STAFF = "staff@shandong.cn"
CITIES = {
    "济南市": {"bureau_emails": ["jinan-dsj@dsj.jinan.example"], "contact": "孟晓林", "phone": "0531-94710893"},
    "青岛市": {"bureau_emails": ["qingdao-dsj@dsj.qingdao.example"], "contact": "于海涛", "phone": "0532-79063638"},
}


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("jiebang_examples", REPO / "examples" / "generate.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


class RefusingTransport:
    """An SMTP server that accepts everything except one mailbox (550 user unknown)."""

    def __init__(self, refused: str) -> None:
        self.refused, self.sent = refused, []

    def send(self, message: EmailMessage, *, envelope_from: str, recipients: list[str]) -> None:
        if self.refused in recipients:
            raise PermanentSendError(f"550 5.1.1 <{self.refused}>: Recipient address rejected: User unknown")
        self.sent.append(message)


def dsn_for(message_id: str, recipient: str) -> bytes:
    """A Postfix-style delivery status notification quoting one of our Message-IDs."""
    return f"""Received: from mx.shandong.cn by mx.shandong.cn (Postfix); Mon, 13 Jan 2025 09:00:05 +0800
From: MAILER-DAEMON@mx.shandong.cn (Mail Delivery System)
To: dsjjzcghc@shandong.cn
Subject: Undelivered Mail Returned to Sender
Date: Mon, 13 Jan 2025 09:00:00 +0800
Message-ID: <dsn.20250113@mx.shandong.cn>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.shandong.cn.

<{recipient}>: host mail.example.cn said: 552 5.2.2 mailbox full

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.shandong.cn

Final-Recipient: rfc822; {recipient}
Action: failed
Status: 5.2.2

--b1
Content-Type: text/rfc822-headers

From: dsjjzcghc@shandong.cn
To: {recipient}
Message-ID: {message_id}
Subject: ack

--b1--
""".replace("\n", "\r\n").encode()


def _extra_mails() -> dict[str, bytes]:
    late = FormSpec(unit="山东省数据集团有限公司", uscc=make_uscc("370000", head="91", body="MA3P0Q1R2"),
                    nature="省属企业", direction=8, task_name="数据安全保险分担机制研究",
                    task_types=["theory"], outcomes=["研究报告"], email="late@sddata.example.cn")
    qd = [FormSpec(unit=f"青岛{n}数据科技有限公司", uscc=make_uscc("370202", body=f"MA3Q{i}W0Z0"), nature="其他",
                   city="青岛市", direction=3, task_name=f"公共数据授权运营{n}", task_types=["application"],
                   outcomes=["应用场景"]) for i, n in enumerate("海山川", 1)]
    return {
        "late": make_eml(sender="late@sddata.example.cn", subject="揭榜挂帅申报书-山东省数据集团",
                         attachments=[("申报书.docx", make_docx(late))],
                         received=datetime(2025, 1, 21, 9, 15, tzinfo=CST)),
        "qingdao": make_eml(sender="qingdao-dsj@dsj.qingdao.example", subject="青岛市揭榜挂帅推荐材料",
                            attachments=[("青岛市推荐汇总表.xlsx", make_table_xlsx(qd, city="青岛市"))]
                            + [(f"申报书-{s.unit}.docx", make_docx(s)) for s in qd],
                            received=datetime(2025, 1, 13, 16, 0, tzinfo=CST)),
        "question": make_mail(subject=QUESTION_SUBJECT, sender="asker@university.example.cn",
                              body="您好，我单位拟联合北京的一所高校申报，请问联合单位可以是省外高校吗？",
                              when=datetime(2025, 1, 12, 15, 30, tzinfo=CST)),
    }


@dataclass
class Seeded:
    app: App
    config: Path
    quarantined_pk: int
    bounced_id: int
    failed_id: int


def seed_province(tmp_path: Path, db_url: str) -> Seeded:
    """The seeded province in ``tmp_path`` on ``db_url`` (an empty database)."""
    quarantined, bounced, failed = cloned("province", tmp_path, db_url, _seed)
    return Seeded(App(load_settings(tmp_path / "config.yaml")), tmp_path / "config.yaml",
                  quarantined, bounced, failed)


def _seed(tmp_path: Path, db_url: str) -> tuple[int, int, int]:
    config = write_config(tmp_path, db_url=db_url, cities=CITIES, staff={"digest_to": [STAFF]})
    app = App(load_settings(config))
    app.migrate()
    for raw in [*_generator().build().values(), *_extra_mails().values()]:
        store_raw(app.engine, app.blobs, raw)
    broken = store_raw(app.engine, app.blobs, make_mail(subject="申报材料（第二封）", sender="lost@example.cn"))
    with Session(app.engine) as session:  # its bytes vanished from the store: processing must quarantine it
        app.blobs.path_for(session.get(StoredMessage, broken.message_pk).raw_sha256).unlink()
    service = Service(app)
    service.cycle()
    report = deliver_pending(app.engine, RefusingTransport("zhao@hainuo.example.cn"), sender=app.settings.smtp.from_,
                             load=app.blobs.get)
    assert report.failed == 1 and report.sent >= 5
    with Session(app.engine) as session:
        failed = session.exec(select(OutboxMail).where(OutboxMail.state == OutboxState.failed)).one()
        ack = session.exec(select(OutboxMail).where(OutboxMail.kind == "ack").order_by(OutboxMail.id)).first()
    store_raw(app.engine, app.blobs, dsn_for(ack.message_id, ack.to_addrs[0]))
    service.cycle()
    app.engine.dispose()  # PostgreSQL copies a template nobody is connected to
    return broken.message_pk, ack.id, failed.id


