"""A submission's documents: the file as attached, and an inline preview (PDF in an
iframe, images as they are, Word/WPS converted to PDF once); the raw mail of a version."""

from __future__ import annotations

from urllib.parse import quote

from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tracker.records.queries import find_submission
from tracker.reports.documents import DocumentRef, PreviewUnavailable, document_bytes, preview
from tracker.store.tables import SubmissionVersion
from tracker.web import auth


def _disposition(kind: str, name: str) -> str:
    # RFC 6266 / 5987: the display name, percent-encoded, never a path
    return f"{kind}; filename*=UTF-8''{quote(name.replace('/', '_').replace(chr(92), '_'))}"


def _document(request: Request) -> tuple[DocumentRef, bytes]:
    user = auth.require(request)
    app = auth.jb(request)
    name = request.query_params.get("name", "")
    try:
        number = int(request.path_params["version"])
    except ValueError:
        raise HTTPException(404) from None
    with Session(app.engine) as session:
        sub = find_submission(session, request.path_params["reference"])
        if sub is None or not auth.can_see(user, sub):
            raise HTTPException(404, "没有这份申报")
        version = session.exec(select(SubmissionVersion).where(
            SubmissionVersion.submission_id == sub.id, SubmissionVersion.number == number)).first()
        data = document_bytes(session, app.blobs, version, name) if version else None
    if data is None:
        raise HTTPException(404, "文件不在原邮件的附件中（可能在压缩包内），请下载原邮件查看")
    return DocumentRef(number, name), data


async def original(request: Request) -> Response:
    ref, data = await run_in_threadpool(_document, request)
    return Response(data, media_type="application/octet-stream",
                    headers={"content-disposition": _disposition("attachment", ref.name)})


async def inline(request: Request) -> Response:
    ref, data = await run_in_threadpool(_document, request)
    app = auth.jb(request)

    def convert() -> tuple[str, bytes]:
        with Session(app.engine) as session:
            return preview(session, app.blobs, ref, data)

    try:
        content_type, body = await run_in_threadpool(convert)
    except PreviewUnavailable as exc:
        raise HTTPException(404, f"无法预览：{exc}") from None
    shown = ref.name if content_type != "application/pdf" or ref.kind == "pdf" else ref.name + ".pdf"
    return Response(body, media_type=content_type, headers={
        "content-disposition": _disposition("inline", shown)})


ROUTES = [
    Route("/submissions/{reference}/v{version}/file", original, methods=["GET"]),
    Route("/submissions/{reference}/v{version}/preview", inline, methods=["GET"]),
]
