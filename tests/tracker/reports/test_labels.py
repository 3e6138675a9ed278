"""Every state a person can meet has its Chinese name in the one label table: a new state
added to a table without a label would reach a clerk's screen as an English code."""

from __future__ import annotations

from enum import StrEnum

import pytest

from campaign.labels import MAIL_KIND_LABELS, MAIL_STATE_LABELS, STATE_LABELS, STATUS_LABELS
from notifier.models import MailKind, OutboxState
from tracker.store.tables import MessageState, SubmissionStatus


@pytest.mark.parametrize(("states", "labels"), [
    (SubmissionStatus, STATUS_LABELS), (MessageState, STATE_LABELS),
    (MailKind, MAIL_KIND_LABELS), (OutboxState, MAIL_STATE_LABELS),
], ids=["submission", "message", "mail kind", "mail state"])
def test_every_state_has_a_chinese_name(states: type[StrEnum], labels: dict[str, str]) -> None:
    missing = [s.value for s in states if s.value not in labels]
    assert missing == []
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in labels[s.value]) for s in states)
