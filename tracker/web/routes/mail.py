"""Mail: quarantine (requeue, download the raw message), outbox (resend, a page at a time),
and mail that needs a person (questions no automatic answer covers: assigned, answered from
its page with a template, or closed; replies held by the budget)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from intake.mime import parse_message
from notifier.models import MailKind, OutboxMail
from notifier.outbox import HeldFilter, InvalidTransition, MailNotFound, held_count
from notifier.outbox import resend as resend_mail
from tracker.outreach import answers
from tracker.outreach.held import describe, release
from tracker.pipeline.processing import requeue as requeue_messages
from tracker.records import assignments
from tracker.records.events import record
from tracker.reports.digest import unanswered
from tracker.reports.documents import raw_message
from tracker.store.tables import MailHandled, MessageState, StoredMessage
from tracker.web import auth, notices, pages
from tracker.web.auth import Access
from tracker.web.guard import PROVINCE, router, small_int
from tracker.web.listing import held_page, held_query, outbox_page

ROUTES: list[BaseRoute] = []
route = router(ROUTES)  # every page here concerns every city: the province's


@route("/mail", allow=PROVINCE)
def overview(request: Request, access: Access) -> Response:
    app = auth.jb(request)
    with Session(app.engine) as session:
        quarantined = session.exec(select(StoredMessage).where(StoredMessage.state == MessageState.quarantined)
                                   .order_by(col(StoredMessage.id))).all()
        outbox = outbox_page(session, request.query_params.get("outbox_page", ""))
        review = unanswered(session, app.policy)  # neither answered nor marked handled
        _, review_assignees = assignments.assignees(session, messages=[m.id for m in review])
        which = _held_filter(request.query_params)
        # a page of the held answers; the counts of all of them (the release acts on every match)
        held = held_page(session, which, request.query_params.get("held_page", ""))
        held_total = held_count(session)
    return pages.render(request, "mail.html", quarantined=quarantined, outbox=outbox, review=review,
                        held=held, held_total=held_total, held_matching=held.total, held_filter=which,
                        kinds=list(MailKind), held_query=held_query, review_assignees=review_assignees)


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


# --- one mail that needs a person: assign, answer, close ----------------------------------------------
DRAFT = ("您好！\n\n感谢您的来信。关于您询问的事项，答复如下：\n\n（请在此填写答复内容）\n\n"
         "如有其他问题，请回复本邮件或致电业务咨询电话。")


def _message(session: Session, request: Request) -> StoredMessage:
    msg = session.get(StoredMessage, request.path_params["message_pk"])
    if msg is None:
        raise HTTPException(404, "没有这封来信")
    return msg


@route("/mail/messages/{message_pk:id}", allow=PROVINCE)
def message_page(request: Request, access: Access) -> Response:
    app = auth.jb(request)
    with Session(app.engine) as session:
        msg = _message(session, request)
        _, by_msg = assignments.assignees(session, messages=[msg.id or 0])
        answered = session.exec(select(OutboxMail).where(OutboxMail.in_reply_to == msg.message_id)
                                .order_by(col(OutboxMail.id))).all() if msg.message_id else []
        context: dict[str, Any] = dict(
            msg=msg, assignee=by_msg.get(msg.id or 0), handled=session.get(MailHandled, msg.id or 0),
            colleagues=[u.name for u in assignments.colleagues(session)], answers=answered, draft=DRAFT)
        data = raw_message(session, app.blobs, msg.id or 0)
    # parsed with no database session held: a large mail takes a while
    context["body"] = parse_message(data).text.strip()[:8000] if data else ""
    return pages.render(request, "mail_message.html", **context)


def _to_message(request: Request, msg_id: int, *, done: str = "", error: str = "") -> Response:
    return notices.redirect(request, f"/mail/messages/{msg_id}", done=done, error=error)


@route("/mail/messages/{message_pk:id}/assign", allow=PROVINCE, methods=["POST"])
def assign_message(request: Request, access: Access) -> Response:
    name = access.field("assignee", 100)
    with Session(auth.jb(request).engine) as session:
        msg = _message(session, request)
        try:
            assignments.assign_message(session, msg, name, actor=access.actor)
        except assignments.AssignError as exc:
            return _to_message(request, msg.id or 0, error=str(exc))
        session.commit()
        pk = msg.id or 0
    return _to_message(request, pk, done=f"已分派给 {name}" if name else "已取消分派")


@route("/mail/messages/{message_pk:id}/answer", allow=PROVINCE, methods=["POST"])
def answer_message(request: Request, access: Access) -> Response:
    app = auth.jb(request)
    with Session(app.engine) as session:
        msg = _message(session, request)
        text = access.field("text", answers.MAX_ANSWER + 1)
        if text.strip() == DRAFT.strip() or "（请在此填写答复内容）" in text:
            return _to_message(request, msg.id or 0, error="请先把“（请在此填写答复内容）”换成答复内容")
        try:
            row = answers.answer(session, app.reply_settings, msg, text, actor=access.actor)
        except answers.AnswerError as exc:
            session.rollback()
            return _to_message(request, msg.id or 0, error=str(exc))
        session.commit()
        pk, to = msg.id or 0, "、".join(row.to_addrs)
    return _to_message(request, pk, done=f"答复已写入发件箱，将发往 {to}；此来信已标记为已处理")


@route("/mail/messages/{message_pk:id}/handled", allow=PROVINCE, methods=["POST"])
def close_message(request: Request, access: Access) -> Response:
    with Session(auth.jb(request).engine) as session:
        msg = _message(session, request)
        changed = answers.mark_handled(session, msg, actor=access.actor)
        session.commit()
        pk = msg.id or 0
    return _to_message(request, pk, done="已标记为已处理（未发答复）" if changed else "此来信已处理")
