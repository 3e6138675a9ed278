"""`jiebang claims` and `jiebang claim confirm|reject ID`: what the trust rules hold back."""

from __future__ import annotations

import json
import sys
from typing import Annotated, TypedDict

import typer
from rich.table import Table
from sqlmodel import Session

from campaign.clock import with_offset
from campaign.labels import CLAIM_KIND_LABELS
from tracker.cli.common import (
    ConfigOpt,
    JsonOpt,
    fail,
    migrated_app,
    out,
    reading_app,
    submission_under_lock,
)
from tracker.cli.exits import EXIT_CONFIG, EXIT_FAILURE
from tracker.config import Operator
from tracker.records import claims as claim_records
from tracker.records.contacts import ContactError, remove_contact
from tracker.store.locks import records_lock
from tracker.store.tables import ClaimState


class _HeldRow(TypedDict):
    """One held claim as `jiebang claims --json` prints it."""

    id: int | None
    kind: str
    reason: str
    sender: str | None
    city: str | None
    message: int
    created_at: str
    submission: str | None
    unit: str | None
    uscc: str | None
    direction: int | None
    applications: int


def claims(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Mail held for staff: strangers quoting a reference or a credit code, unverified city packages."""
    a = reading_app(config)
    with Session(a.engine) as session:
        rows: list[_HeldRow] = []
        for held in claim_records.review(session, a.policy.code):
            c = held.claim
            app = held.applications[0] if c.application is not None and c.application < held.count else {}
            rows.append({"id": c.id, "kind": c.kind, "reason": c.reason, "sender": c.sender, "city": c.city,
                         "message": c.message_pk, "created_at": c.created_at.isoformat(),
                         "submission": held.submission,
                         "unit": app.get("unit"), "uscc": app.get("uscc"), "direction": app.get("direction"),
                         "applications": held.count})
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
        return
    table = Table("#", "类型", "发件人", "涉及申报", "来信中的单位", "原因", "收到", title=f"待确认 {len(rows)} 项")
    for r in rows:
        table.add_row(str(r["id"]), CLAIM_KIND_LABELS.get(r["kind"], r["kind"]), r["sender"] or "—",
                      r["submission"] or r["city"] or "—", r["unit"] or f"{r['applications']} 份申报书",
                      r["reason"], with_offset(r["created_at"]))
    out.print(table)
    if rows:
        out.print("jiebang claim confirm ID  — apply it (its sender becomes a contact); "
                  "jiebang claim reject ID — keep it out", markup=False)


def claim(
    action: Annotated[str, typer.Argument(help="confirm | reject")],
    claim_id: Annotated[int, typer.Argument(help="the claim's number (jiebang claims)")],
    note: Annotated[str, typer.Option("--note", help="why (kept in the event log)")] = "",
    transfer: Annotated[bool, typer.Option("--transfer", help="confirm: its sender becomes the only "
                                           "address on file (the record was someone else's)")] = False,
    config: ConfigOpt = None,
) -> None:
    """Confirm (apply) or reject one claim; who and when go into the event log."""
    if action not in ("confirm", "reject"):
        raise fail("action must be confirm or reject", EXIT_CONFIG)
    a = migrated_app(config)
    actor = Operator().actor()
    # confirming records the mail's submissions: numbered under the same lock as the service's
    with Session(a.engine, expire_on_commit=False) as session, records_lock(session):
        try:
            held = claim_records.get(session, claim_id)
            if action == "confirm":
                touched = a.applier.confirm(session, held, actor=actor, note=note, transfer=transfer)
                done = "、".join(sub.reference for sub, _, _ in touched.versions) or "（无新增版本）"
            else:
                a.applier.reject(session, held, actor=actor, note=note)
                done = ""
        except claim_records.ClaimError as exc:
            raise fail(str(exc), EXIT_FAILURE) from None
        session.commit()
    verb = ClaimState.confirmed if action == "confirm" else ClaimState.rejected
    out.print(f"claim #{claim_id}: {verb} (by {actor}){' → ' + done if done else ''}", markup=False)


def contact(
    action: Annotated[str, typer.Argument(help="remove")],
    reference: Annotated[str, typer.Argument(help="the submission, e.g. JB2025-0007")],
    address: Annotated[str, typer.Argument(help="the address to take off file")],
    note: Annotated[str, typer.Option("--note", help="why (kept in the event log)")] = "",
    config: ConfigOpt = None,
) -> None:
    """Take an address off a submission's file (it no longer changes it or hears of it)."""
    if action != "remove":
        raise fail("action must be remove", EXIT_CONFIG)
    a = migrated_app(config)
    actor = Operator().actor()
    with submission_under_lock(a, reference) as (session, sub):
        try:
            remove_contact(session, sub, address, actor=actor, note=note)
        except ContactError as exc:
            raise fail(str(exc), EXIT_FAILURE) from None
        session.commit()
    out.print(f"{reference}: {address} removed (by {actor})", markup=False)


def register(app: typer.Typer, db_app: typer.Typer) -> None:
    """Add this module's commands, in the order `jiebang --help` lists them."""
    app.command()(claims)
    app.command()(claim)
    app.command()(contact)
