"""The workspace (``support.web``) one step on: both applications passed formal review, one
panel over their directions (2 and 4) with two experts — ``zhang`` from the 济南
application's own lead unit (a conflict found from the units), ``wang`` from a university
(no conflict) — and a third expert ``li`` on another panel (direction 1)."""

from __future__ import annotations

from sqlmodel import Session

from support.web import PASSWORD, Workspace
from tracker.records.queries import find_submission
from tracker.records.review import experts
from tracker.records.review.formal import pass_formally

LEAD_JINAN = "山东省泉河数字经济研究院"  # the 济南 application's lead unit (``support.records.form``)


def review_round(ws: Workspace) -> None:
    with Session(ws.app.engine) as s:
        for ref in (ws.jinan, ws.weifang):
            sub = find_submission(s, ref)
            assert sub is not None
            pass_formally(s, sub, actor="test")
        for name, unit in (("zhang", LEAD_JINAN), ("wang", "山东大学"), ("li", "中国海洋大学")):
            experts.add_expert(s, name, PASSWORD, email=f"{name}@experts.example.cn", unit=unit, uscc=None,
                               actor="test")
        s.flush()
        catalogue = ws.app.policy.catalogue
        experts.set_panel(s, catalogue, "第一组", [2, 4], ["zhang", "wang"], actor="test")
        experts.set_panel(s, catalogue, "第二组", [1], ["li"], actor="test")
        s.commit()


def marks(*points: float) -> dict[str, str]:
    """The score form's fields for *points*, one per criterion in order."""
    return {f"mark-{i}": f"{p:g}" for i, p in enumerate(points)}
