"""Answers applied in order of arrival, whatever order the workers finish in (the
processing queue's reorder buffer)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tracker.pipeline.workers import Outcome, Task, Understood

# results waiting for an earlier message's before they are applied: beyond this many, no
# more mail is handed out until the earlier one is answered (memory stays bounded: an
# understood sample mail is 15 KB on average, 46 KB at most, so ~10-25 MB). Large enough
# that the other workers keep reading quick mail for minutes while one reads a long scan
MAX_WAITING = 500
# how long answers wait for an earlier mail still being read (a long scan, a hostile mail
# using its whole budget): good mail behind it is answered within a minute
ORDER_WAIT = 30.0
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Arrival = tuple[datetime, int]  # (when it reached our server, else when it was stored; row id)


@dataclass
class Claimed:
    task: Task
    attempts: int  # the value this claim set: only this claim may finish the message
    arrival: Arrival = (EPOCH, 0)
    at: float = field(default_factory=time.monotonic)  # when it was claimed (handed out)


class InOrder:
    """Results applied in order of arrival, whatever order the workers finish in.

    An understood message waits while a message that arrived before it is still being
    read (claimed, no outcome yet); then both are applied, the earlier first. So mail 01
    of 8 January is JB2025-0001 even when mail 02 of 9 January finished first, and a
    form's second version is version 2. Outcomes that record nothing (a worker died, a
    task never started) never wait. The wait is bounded: a mail still being read
    :data:`ORDER_WAIT` after it was handed out holds nothing back any more (the mail behind
    it is answered, and numbered, before it).
    """

    def __init__(self, outstanding: dict[int, Claimed]) -> None:
        self.outstanding = outstanding  # claimed and handed out, no outcome yet (the queue's claims)
        self.waiting: dict[int, tuple[Claimed, Outcome]] = {}

    def add(self, claimed: Claimed, outcome: Outcome) -> list[tuple[Claimed, Outcome]]:
        """What may be applied now that *claimed* has its *outcome*, earliest first."""
        if not isinstance(outcome, Understood):
            return [(claimed, outcome), *self.due()]
        self.waiting[claimed.task.pk] = (claimed, outcome)
        return self.due()

    def due(self) -> list[tuple[Claimed, Outcome]]:
        # a mail read longer than ORDER_WAIT holds nobody back any more: one slow (or
        # hostile) scan must not keep every answer behind it waiting for its whole budget
        fresh = time.monotonic() - ORDER_WAIT
        first_open = min((c.arrival for c in self.outstanding.values() if c.at > fresh), default=None)
        ready = sorted((item for item in self.waiting.values()
                        if first_open is None or item[0].arrival < first_open), key=lambda i: i[0].arrival)
        for claimed, _ in ready:
            del self.waiting[claimed.task.pk]
        return ready

    def rest(self) -> list[tuple[Claimed, Outcome]]:
        """Everything still waiting (the run is over: nothing earlier will come)."""
        ready = sorted(self.waiting.values(), key=lambda i: i[0].arrival)
        self.waiting.clear()
        return ready

    def full(self) -> bool:
        return len(self.waiting) >= MAX_WAITING
