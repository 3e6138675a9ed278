"""A mail's own files: its raw message and every attachment as sent — the unreadable ones
too — downloaded, and previewed when a browser can show them (or LibreOffice convert them).

Reached from a submission's page (any account that sees the submission, and only mail that
belongs to it: its versions, its events, claims on it) and from /mail (the province's: a
claim's or a question's mail). Names are matched against the parsed attachments, never
used as paths.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from intake.mime import parse_message
from tracker.records.events import record
from tracker.reports.documents import DocumentRef, raw_message
from tracker.store.tables import Claim, Event, StoredMessage, SubmissionVersion
from tracker.web import auth, pages
from tracker.web.auth import Access
from tracker.web.guard import PROVINCE, STAFF, router
from tracker.web.routes.documents import disposition, preview

ROUTES: list[BaseRoute] = []
route = router(ROUTES)

NOT_FOUND = "没有这封邮件，或它与此申报无关"
NO_FILE = "邮件中没有这个附件"


@dataclass(frozen=True)
class Shown:
    """One attachment as the page lists it."""

    name: str
    kind: str  # DocumentRef.kind: pdf · image · word · other
    size: int
    read: bool  # recognised as a document of a version (False: not read, e.g. unreadable)


def _linked(session: Session, access: Access, reference: str, pk: int) -> StoredMessage:
    """Message *pk* if it belongs to submission *reference* and this account sees that."""
    sub = access.submission(session, reference)
    versions = select(SubmissionVersion.message_pk).where(SubmissionVersion.submission_id == sub.id)
    events = select(Event.message_pk).where(Event.submission_id == sub.id, col(Event.message_pk).is_not(None))
    claims = select(Claim.message_pk).where(Claim.submission_id == sub.id)
    linked = {*session.exec(versions).all(), *session.exec(events).all(), *session.exec(claims).all()}
    msg = session.get(StoredMessage, pk) if pk in linked else None
    if msg is None:
        raise HTTPException(404, NOT_FOUND)
    return msg


def _province_message(session: Session, pk: int) -> StoredMessage:
    msg = session.get(StoredMessage, pk)
    if msg is None:
        raise HTTPException(404, NOT_FOUND)
    return msg


def _message(request: Request, access: Access) -> tuple[StoredMessage, list[str]]:
    """The message the path names, and the names a version read from it."""
    pk: int = request.path_params["message_pk"]
    with Session(auth.jb(request).engine) as session:
        reference = request.path_params.get("reference")
        msg = _linked(session, access, reference, pk) if reference else _province_message(session, pk)
        read = [n for docs in session.exec(select(SubmissionVersion.documents).where(
            SubmissionVersion.message_pk == msg.id)).all() for n in docs]
        session.expunge(msg)
        return msg, read


def _raw(request: Request, msg: StoredMessage) -> bytes:
    with Session(auth.jb(request).engine) as session:
        data = raw_message(session, auth.jb(request).blobs, msg.id or 0)
    if data is None:
        raise HTTPException(404, "原始邮件不存在")
    return data


def _attachment(request: Request, access: Access) -> tuple[DocumentRef, bytes]:
    msg, _ = _message(request, access)
    name = request.query_params.get("name", "")
    found = next((a.data for a in parse_message(_raw(request, msg)).attachments if a.name == name), None)
    if found is None:
        raise HTTPException(404, NO_FILE)
    return DocumentRef(0, name), found


def _page(request: Request, access: Access, base: str) -> Response:
    msg, read = _message(request, access)
    parsed = parse_message(_raw(request, msg))
    files = [Shown(a.name, DocumentRef(0, a.name).kind, len(a.data), a.name in read)
             for a in parsed.attachments if not a.inline]
    return pages.render(request, "mail_files.html", msg=msg, files=files, base=base,
                        reference=request.path_params.get("reference"), problems=parsed.problems)


def _download(request: Request, access: Access) -> Response:
    ref, data = _attachment(request, access)
    return Response(data, media_type="application/octet-stream",
                    headers={"content-disposition": disposition("attachment", ref.name)})


def _raw_download(request: Request, access: Access) -> Response:
    msg, _ = _message(request, access)
    data = _raw(request, msg)
    with Session(auth.jb(request).engine) as session:
        record(session, "raw_downloaded", message=msg, actor=access.actor)  # strangers' bytes, on purpose
        session.commit()
    return Response(data, media_type="application/octet-stream", headers={
        "content-disposition": f"attachment; filename=message-{msg.id}.eml"})


# --- from a submission's page ----------------------------------------------------------------------
@route("/submissions/{reference}/messages/{message_pk:id}", allow=STAFF)
def submission_mail(request: Request, access: Access) -> Response:
    ref, pk = request.path_params["reference"], request.path_params["message_pk"]
    return _page(request, access, f"/submissions/{ref}/messages/{pk}")


@route("/submissions/{reference}/messages/{message_pk:id}/raw", allow=STAFF)
def submission_raw(request: Request, access: Access) -> Response:
    return _raw_download(request, access)


@route("/submissions/{reference}/messages/{message_pk:id}/file", allow=STAFF)
def submission_file(request: Request, access: Access) -> Response:
    return _download(request, access)


@route("/submissions/{reference}/messages/{message_pk:id}/preview", allow=STAFF)
async def submission_preview(request: Request, access: Access) -> Response:
    return await preview(request, access, _attachment)


# --- from /mail and the claims (the province's) ------------------------------------------------------
@route("/mail/messages/{message_pk:id}/files", allow=PROVINCE)
def mail_files(request: Request, access: Access) -> Response:
    return _page(request, access, f"/mail/messages/{request.path_params['message_pk']}")


@route("/mail/messages/{message_pk:id}/file", allow=PROVINCE)
def mail_file(request: Request, access: Access) -> Response:
    return _download(request, access)


@route("/mail/messages/{message_pk:id}/preview", allow=PROVINCE)
async def mail_preview(request: Request, access: Access) -> Response:
    return await preview(request, access, _attachment)
