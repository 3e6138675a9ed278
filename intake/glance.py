"""What a message's headers alone tell, before it is understood: enough to say "received".

A deadline-day mail may wait minutes behind scans for its full answer; the receipt that
bridges the wait must obey the same reply guard as every answer (no auto-replies,
bounces, lists, robots, ourselves, nor a From our own server says is forged), and it
must be cheap: only the header block is parsed, never an attachment.
"""

from __future__ import annotations

from datetime import datetime
from email.message import Message

from campaign import RoundPolicy
from intake import authres
from intake.classify import reply_guard
from intake.envelope import envelope_of, read_headers
from intake.model import Envelope, Understanding

MAX_HEAD = 256 * 1024  # a header block larger than this is not a deadline-day applicant's


def answer_facts(result: Understanding, headers: Message | None, env: Envelope, policy: RoundPolicy,
                 intent: str | None) -> None:
    """What every answer to the mail depends on, from its headers, into *result*: the
    thread it continues, why no automatic answer may go (the one reply guard; *intent*
    None: not understood yet) and our server's verdicts on its sender."""
    result.thread_ids = list(dict.fromkeys(x for x in (env.in_reply_to, *env.references) if x))
    result.no_reply_reason = reply_guard(intent, headers, env, frozenset(policy.own_addresses))
    try:
        values = [str(v) for v in (headers.get_all("Authentication-Results") or [])] if headers is not None else []
    except Exception:  # a hostile header: as if there were none
        values = []
    result.sender_auth = authres.parse(values, policy.trusted_authserv_ids, env.from_addr)


def glance(head: bytes, policy: RoundPolicy, received_at: datetime | None = None) -> Understanding:
    """The sender, threading ids, reply guard and sender authentication of a message
    whose first bytes are *head* (its header block; at most :data:`MAX_HEAD` is read).

    The intent stays unknown (``other``): nothing here decides what the mail is.
    """
    headers = read_headers(head[:MAX_HEAD])
    env = envelope_of(headers)
    result = Understanding(message_id=env.message_id, from_addr=env.from_addr, subject=env.subject or "",
                           received_at=received_at or env.received_at or env.date)
    answer_facts(result, headers, env, policy, intent=None)
    return result
