"""Mail: quarantine (requeue, download the raw message), outbox (resend), and mail that
needs a person (questions no automatic answer covers, replies held by the budget)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from notifier.models import MailKind, OutboxMail
from notifier.outbox import HeldFilter, InvalidTransition, MailNotFound, held_count
from notifier.outbox import resend as resend_mail
from tracker.outreach.held import describe, release
from tracker.pipeline.processing import requeue as requeue_messages
from tracker.records.events import record
from tracker.reports.digest import unanswered
from tracker.reports.documents import raw_message
from tracker.store.tables import MessageState, StoredMessage
from tracker.web import auth, notices, pages
from tracker.web.auth import Access
from tracker.web.guard import PROVINCE, router, small_int
from tracker.web.listing import held_page, held_query

ROUTES: list[BaseRoute] = []
route = router(ROUTES)  # every page here concerns every city: the province's


@route("/mail", allow=PROVINCE)
def overview(request: Request, access: Access) -> Response:
    app = auth.jb(request)
    with Session(app.engine) as session:
        quarantined = session.exec(select(StoredMessage).where(StoredMessage.state == MessageState.quarantined)
                                   .order_by(col(StoredMessage.id))).all()
        outbox = session.exec(select(OutboxMail).order_by(col(OutboxMail.id).desc()).limit(500)).all()
        review = unanswered(session, app.policy)
        which = _held_filter(request.query_params)
        # a page of the held answers; the counts of all of them (the release acts on every match)
        held = held_page(session, which, request.query_params.get("held_page", ""))
        held_total = held_count(session)
    return pages.render(request, "mail.html", quarantined=quarantined, outbox=outbox, review=review,
                        held=held, held_total=held_total, held_matching=held.total, held_filter=which,
                        kinds=list(MailKind), held_query=held_query)


@route("/mail/requeue", allow=PROVINCE, methods=["POST"])
def requeue(request: Request, access: Access) -> Response:
    app = auth.jb(request)
    form = access.form.getlist("message") if access.form is not None else []
    ids = [n for n in (small_int(v, 18) for v in form) if n is not None]
    if not ids:
        return notices.redirect(request, "/mail", error="请选择要重新处理的邮件")
    count = requeue_messages(app.engine, ids)  # as `jiebang requeue ID…`
    with Session(app.engine) as session:
        for pk in ids:
            msg = session.get(StoredMessage, pk)
            if msg is not None and msg.state == MessageState.stored:
                record(session, "requeued", message=msg, actor=access.actor, detail="网页：重新处理")
        session.commit()
    return notices.redirect(request, "/mail", done=f"{count} 封邮件已重新排队处理")


@route("/mail/messages/{message_pk:id}/raw", allow=PROVINCE)
def raw(request: Request, access: Access) -> Response:
    app = auth.jb(request)
    with Session(app.engine) as session:
        msg = session.get(StoredMessage, request.path_params["message_pk"])
        data = raw_message(session, app.blobs, msg.id) if msg is not None and msg.id else None
        if msg is None or data is None:
            raise HTTPException(404, "原始邮件不存在")
        record(session, "raw_downloaded", message=msg, actor=access.actor)  # strangers' bytes, on purpose
        session.commit()
    return Response(data, media_type="application/octet-stream", headers={
        "content-disposition": f"attachment; filename=message-{int(request.path_params['message_pk'])}.eml"})


def _held_filter(params: Any) -> HeldFilter:
    kind = str(params.get("kind", "") or "")
    domain = str(params.get("domain", "") or "").strip().lower().lstrip("@")[:200]
    return HeldFilter(kind=kind if kind in set(MailKind) else None, domain=domain or None)


@route("/mail/held/release", allow=PROVINCE, methods=["POST"])
def release_held(request: Request, access: Access) -> Response:
    app = auth.jb(request)
    which = _held_filter(access.form or {})
    with Session(app.engine) as session:
        rows = release(session, which, actor=access.actor)  # as `jiebang release`
        session.commit()
    return notices.redirect(request, "/mail#held", done=f"已释放暂扣的答复 {len(rows)} 封（{describe(which)}），将依次发出")


@route("/mail/outbox/{mail_id:id}/resend", allow=PROVINCE, methods=["POST"])
def resend(request: Request, access: Access) -> Response:
    app = auth.jb(request)
    mail_id: int = request.path_params["mail_id"]
    with Session(app.engine) as session:
        try:
            row = resend_mail(session, mail_id)  # as `jiebang resend ID`
        except (MailNotFound, InvalidTransition) as exc:
            return notices.redirect(request, "/mail", error=str(exc))
        record(session, "mail_resent", actor=access.actor, detail=f"outbox #{mail_id} {row.kind} → "
               + ", ".join(row.to_addrs))
        session.commit()
    return notices.redirect(request, "/mail", done=f"邮件 #{mail_id} 已重新排队发送")
