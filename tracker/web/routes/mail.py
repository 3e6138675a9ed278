"""Mail: quarantine (requeue, download the raw message), outbox (resend), and mail that
needs a person (questions no automatic answer covers, replies held by the budget)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from notifier.models import MailKind, OutboxMail
from notifier.outbox import HeldFilter, InvalidTransition, MailNotFound, held_count, held_mail
from notifier.outbox import resend as resend_mail
from tracker.outreach.held import describe, release
from tracker.pipeline.processing import requeue as requeue_messages
from tracker.records.events import record
from tracker.reports.digest import unanswered
from tracker.reports.documents import raw_message
from tracker.store.tables import MessageState, StoredMessage
from tracker.web import auth, pages


def overview(request: Request) -> Response:
    auth.require_province(request)
    app = auth.jb(request)
    with Session(app.engine) as session:
        quarantined = session.exec(select(StoredMessage).where(StoredMessage.state == MessageState.quarantined)
                                   .order_by(col(StoredMessage.id))).all()
        outbox = session.exec(select(OutboxMail).order_by(col(OutboxMail.id).desc()).limit(500)).all()
        review = unanswered(session, app.policy)
        which = _held_filter(request.query_params)
        held = held_mail(session, HeldFilter(kind=which.kind, domain=which.domain, limit=HELD_SHOWN))
        held_total, held_matching = held_count(session), held_count(session, which)
    return pages.render(request, "mail.html", quarantined=quarantined, outbox=outbox, review=review,
                        held=held, held_total=held_total, held_matching=held_matching, held_filter=which,
                        kinds=sorted(MailKind), held_shown=HELD_SHOWN,
                        notice=request.query_params.get("done", "")[:200],
                        error=request.query_params.get("error", "")[:300])


async def requeue(request: Request) -> Response:
    auth.require_province(request)
    user, form = await auth.posted(request)
    app = auth.jb(request)
    ids = [int(v) for v in form.getlist("message") if isinstance(v, str) and v.isdigit()]
    if not ids:
        return RedirectResponse("/mail?error=" + quote("请选择要重新处理的邮件"), status_code=303)
    count = requeue_messages(app.engine, ids)  # as `jiebang requeue ID…`
    with Session(app.engine) as session:
        for pk in ids:
            msg = session.get(StoredMessage, pk)
            if msg is not None and msg.state == MessageState.stored:
                record(session, "requeued", message=msg, actor=auth.actor(user), detail="网页：重新处理")
        session.commit()
    return RedirectResponse("/mail?done=" + quote(f"{count} 封邮件已重新排队处理"), status_code=303)


def raw(request: Request) -> Response:
    user = auth.require_province(request)
    app = auth.jb(request)
    with Session(app.engine) as session:
        msg = session.get(StoredMessage, int(request.path_params["message_pk"]))
        data = raw_message(session, app.blobs, msg.id) if msg is not None and msg.id else None
        if msg is None or data is None:
            raise HTTPException(404, "原始邮件不存在")
        record(session, "raw_downloaded", message=msg, actor=auth.actor(user))  # strangers' bytes, on purpose
        session.commit()
    return Response(data, media_type="application/octet-stream", headers={
        "content-disposition": f"attachment; filename=message-{int(request.path_params['message_pk'])}.eml"})


HELD_SHOWN = 200  # rows listed; the release button acts on every held answer the filter matches


def _held_filter(params: Any) -> HeldFilter:
    kind = str(params.get("kind", "") or "")
    domain = str(params.get("domain", "") or "").strip().lower().lstrip("@")[:200]
    return HeldFilter(kind=kind if kind in set(MailKind) else None, domain=domain or None)


async def release_held(request: Request) -> Response:
    auth.require_province(request)
    user, form = await auth.posted(request)
    app = auth.jb(request)
    which = _held_filter(form)
    with Session(app.engine) as session:
        rows = release(session, which, actor=auth.actor(user))  # as `jiebang release`
        session.commit()
    return RedirectResponse("/mail?done=" + quote(f"已释放暂扣的答复 {len(rows)} 封（{describe(which)}），将依次发出")
                            + "#held", status_code=303)


async def resend(request: Request) -> Response:
    auth.require_province(request)
    user, _form = await auth.posted(request)
    app = auth.jb(request)
    mail_id = int(request.path_params["mail_id"])
    with Session(app.engine) as session:
        try:
            row = resend_mail(session, mail_id)  # as `jiebang resend ID`
        except (MailNotFound, InvalidTransition) as exc:
            return RedirectResponse("/mail?error=" + quote(str(exc)), status_code=303)
        record(session, "mail_resent", actor=auth.actor(user), detail=f"outbox #{mail_id} {row.kind} → "
               + ", ".join(row.to_addrs))
        session.commit()
    return RedirectResponse("/mail?done=" + quote(f"邮件 #{mail_id} 已重新排队发送"), status_code=303)


ROUTES = [
    Route("/mail", overview, methods=["GET"]),
    Route("/mail/requeue", requeue, methods=["POST"]),
    Route("/mail/messages/{message_pk:int}/raw", raw, methods=["GET"]),
    Route("/mail/outbox/{mail_id:int}/resend", resend, methods=["POST"]),
    Route("/mail/held/release", release_held, methods=["POST"]),
]
