"""What a status decision from the web must carry before the records see it.

A decision is a choice, never a default: the form preselects nothing, a reason is
required (it goes into the event log with the decision), and the clerk confirms it (the
form's box, sent as ``confirm=1``). Whatever the browser did, the server checks all
three; a POST missing any of them records nothing and is answered 400 with what is
missing, in Chinese.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from campaign.labels import STATUS_LABELS
from tracker.store.tables import STAFF_STATUSES, SubmissionStatus

# the statuses staff decide, in the order a submission moves through them
CHOICES = [s.value for s in SubmissionStatus if s in STAFF_STATUSES]
NOTE_LIMIT = 500


@dataclass(frozen=True)
class Decision:
    status: str
    note: str
    confirmed: bool

    @classmethod
    def of(cls, field: Callable[[str], object]) -> Decision:
        """From a form (``field(name)`` gives a posted value or None)."""
        def text(name: str) -> str:
            value = field(name)
            return value.strip() if isinstance(value, str) else ""
        return cls(text("status")[:40], text("note")[:NOTE_LIMIT], text("confirm") == "1")

    def problem(self) -> str | None:
        """Why it cannot be recorded (Chinese, one line); None when it can."""
        if not self.status:
            return "请选择新状态（" + "、".join(STATUS_LABELS[s] for s in CHOICES) + "），未作任何更改"
        if self.status not in CHOICES:
            return f"不能将状态设为“{STATUS_LABELS.get(self.status, self.status)}”，未作任何更改"
        if not self.note:
            return "请填写决定理由，未作任何更改"
        if not self.confirmed:
            return "请勾选“已核对，确认作出此决定”后再保存，未作任何更改"
        return None

    def shown(self) -> dict[str, str]:
        """What the form shows again after a refusal (the clerk's choice and reason kept)."""
        return {"status": self.status if self.status in CHOICES else "", "note": self.note}
