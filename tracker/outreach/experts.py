"""Experts' invitations and reminders: where to sign in, how much is left — never an
application's name, unit or content (the mail may be forwarded; the workspace checks who
is looking). One invitation per expert and panel; a reminder at most once a day."""

from __future__ import annotations

from sqlmodel import Session, col, select

from campaign.clock import local_today, utcnow
from campaign.policy import RoundPolicy
from notifier.outbox import enqueue
from tracker.outreach.replies import ReplySettings
from tracker.records.events import record
from tracker.records.review import ReviewRefused
from tracker.records.review.experts import conflict_of, members, panel_applications
from tracker.store.tables import Panel, PanelMember, Score


def invite_panel(session: Session, policy: RoundPolicy, settings: ReplySettings, panel: Panel, *, sign_in: str,
                 remind: bool, actor: str) -> list[str]:
    """Queue the panel's invitations (or reminders to those with applications left);
    returns the experts written to."""
    if panel.closed_at is not None:
        raise ReviewRefused(f"评审组“{panel.name}”已结束评分")
    apps = panel_applications(session, panel)
    sent: list[str] = []
    today = local_today(policy.catalogue).isoformat()
    for expert in members(session, panel):
        if not expert.email or not expert.active:
            continue
        mine = [s.id for s in apps if conflict_of(session, expert, s) is None]
        done = set(session.exec(select(Score.submission_id).where(Score.expert_id == expert.id,
                                                                  col(Score.submission_id).in_(mine))).all())
        pending = len([i for i in mine if i not in done])
        if remind and pending == 0:
            continue
        key = f"expert:{panel.id}:{expert.id}:" + (f"remind:{today}" if remind else "invite")
        row = enqueue(session, kind="expert_invite", to=[expert.email], template="expert_invite",
                      context={"name": expert.name, "panel": panel.name, "round_title": policy.catalogue.title,
                               "sign_in": sign_in, "login": expert.name, "reminder": remind, "pending": pending},
                      sender=settings.sender, dedupe_key=key, daily_cap=settings.daily_cap,
                      cause=f"{'reminder' if remind else 'invitation'} by {actor}",
                      own_addresses=settings.own_addresses)
        if row is None:
            continue
        sent.append(expert.name)
        member = session.exec(select(PanelMember).where(PanelMember.panel_id == panel.id,
                                                        PanelMember.expert_id == expert.id)).one()
        if remind:
            member.reminded_at = utcnow()
        else:
            member.invited_at = utcnow()
        session.add(member)
    if sent:
        record(session, "experts_invited", actor=actor, detail=f"{panel.name}：{'、'.join(sent)}"
               + ("（提醒）" if remind else ""))
    return sent
