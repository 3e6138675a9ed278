"""A person's answer to a mail that needed one (需人工答复), written from the workspace.

It goes through the outbox like every answer (the daily cap, the sender, retries), in the
thread of the mail it answers (In-Reply-To, References), and is logged. Answering marks the
mail handled; so does closing it without an answer (``mark_handled``).
"""

from __future__ import annotations

from sqlmodel import Session

from notifier.models import MailKind, OutboxMail
from notifier.outbox import enqueue
from tracker.outreach.replies import ReplySettings
from tracker.records.events import record
from tracker.store.tables import MailHandled, StoredMessage

MAX_ANSWER = 5000
# (Auto-Submitted: auto-replied keeps autoresponders from answering it back)
ANSWER_KIND = MailKind.answer  # a clerk's words, threaded and logged like every answer


class AnswerError(Exception):
    """The answer cannot be written; one line, in Chinese."""


def handled(session: Session, msg: StoredMessage) -> MailHandled | None:
    return session.get(MailHandled, msg.id or 0)


def mark_handled(session: Session, msg: StoredMessage, *, actor: str, outbox_id: int | None = None) -> bool:
    """Mark *msg* dealt with; False when it already was."""
    if handled(session, msg) is not None:
        return False
    session.add(MailHandled(message_pk=msg.id or 0, actor=actor[:100], outbox_id=outbox_id))
    record(session, "mail_handled", message=msg, actor=actor,
           detail=f"来信 #{msg.id}" + (f"，已答复（发件箱 #{outbox_id}）" if outbox_id else "，无需答复"))
    session.flush()
    return True


def answer(session: Session, settings: ReplySettings, msg: StoredMessage, text: str, *, actor: str) -> OutboxMail:
    """Queue *text* as the answer to *msg* (threaded), log it, and mark *msg* handled."""
    body = text.strip()
    if not body:
        raise AnswerError("答复内容为空")
    if len(body) > MAX_ANSWER:
        raise AnswerError(f"答复不能超过 {MAX_ANSWER} 字")
    if not msg.from_addr:
        raise AnswerError("来信没有可答复的发件地址")
    if handled(session, msg) is not None:
        raise AnswerError("此来信已处理")
    paragraphs = [line.strip() for line in body.splitlines() if line.strip()]  # a line, a paragraph
    refs = [*msg.references, *([msg.message_id] if msg.message_id else [])]
    row = enqueue(session, kind=ANSWER_KIND, to=[msg.from_addr], template="answer",
                  context={"paragraphs": paragraphs, "received_at": msg.received_at or msg.stored_at,
                           "subject": msg.subject},
                  in_reply_to=msg.message_id, references=refs, sender=settings.sender,
                  dedupe_key=f"answer:{msg.content_key}", daily_cap=settings.daily_cap,
                  cause=f"工作人员答复：{actor}", own_addresses=settings.own_addresses)
    if row is None:
        raise AnswerError("答复未写入发件箱：已答复过、收件地址不可用，或今天发给该地址的邮件已达上限")
    record(session, "mail_answered", message=msg, actor=actor, detail=f"答复 → {msg.from_addr}（发件箱 #{row.id}）")
    mark_handled(session, msg, actor=actor, outbox_id=row.id)
    return row
