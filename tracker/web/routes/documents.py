"""A submission's documents: the file as attached, and an inline preview (PDF in an
iframe, images as they are, Word/WPS converted to PDF once, in the preview queue); the
raw mail of a version, and every attachment of it (unreadable ones too), under
``routes.mailfiles``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from urllib.parse import quote

from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from tracker.reports.documents import (
    PDF,
    DocumentRef,
    PreviewUnavailable,
    as_shown,
    attachment,
    cached_pdf,
    convert_pdf,
    remember_pdf,
    source_key,
)
from tracker.store.tables import StoredMessage, SubmissionVersion
from tracker.web import auth
from tracker.web.auth import Access
from tracker.web.guard import STAFF, router
from tracker.web.previews import Busy, Previews, QueueFull
from tracker.web.text import plain

ROUTES: list[BaseRoute] = []
route = router(ROUTES)

NOT_ATTACHED = "文件不在原邮件的附件中（可能在压缩包内），请下载原邮件查看"


def disposition(kind: str, name: str) -> str:
    # RFC 6266 / 5987: the display name, percent-encoded, never a path, no bidi controls
    return f"{kind}; filename*=UTF-8''{quote(plain(name).replace('/', '_').replace(chr(92), '_'))}"


def _document(request: Request, access: Access) -> tuple[DocumentRef, bytes]:
    """The file, if this account may see its submission; the session is closed before the
    (slow) parse of the stored mail."""
    app = auth.jb(request)
    name = request.query_params.get("name", "")
    number: int = request.path_params["version"]
    with Session(app.engine) as session:
        sub = access.submission(session, request.path_params["reference"])
        version = session.exec(select(SubmissionVersion).where(
            SubmissionVersion.submission_id == sub.id, SubmissionVersion.number == number)).first()
        if version is None or name not in version.documents:
            raise HTTPException(404, NOT_ATTACHED)
        msg = session.get(StoredMessage, version.message_pk)
        raw_sha = msg.raw_sha256 if msg is not None else None
    data = attachment(app.blobs, raw_sha, name)
    if data is None:
        raise HTTPException(404, NOT_ATTACHED)
    return DocumentRef(number, name), data


@route("/submissions/{reference}/v{version:id}/file", allow=STAFF)
def original(request: Request, access: Access) -> Response:
    ref, data = _document(request, access)
    return Response(data, media_type="application/octet-stream",
                    headers={"content-disposition": disposition("attachment", ref.name)})


def previews(request: Request) -> Previews:
    found: Previews = request.app.state.previews
    return found


@route("/submissions/{reference}/v{version:id}/preview", allow=STAFF)
async def inline(request: Request, access: Access) -> Response:
    """Awaits only: the reads run in the thread pool, a conversion in the preview queue."""
    return await preview(request, access, _document)


async def preview(request: Request, access: Access,
                  load: Callable[[Request, Access], tuple[DocumentRef, bytes]]) -> Response:
    """The file *load* finds (in the thread pool), shown inline: as it is, or converted to
    PDF in the preview queue; this user's concurrent previews are limited."""
    queue = previews(request)
    try:
        queue.enter(access.user.user_id)
    except Busy:
        raise HTTPException(429, f"同时打开的预览过多（每人最多 {queue.per_user} 个），"
                                 "请等已打开的预览显示后再试") from None
    try:
        ref, data = await run_in_threadpool(load, request, access)
        content_type, body = await _shown(request, queue, ref, data)
    except PreviewUnavailable as exc:
        raise HTTPException(404, f"无法预览：{exc}") from None
    finally:
        queue.leave(access.user.user_id)
    shown = ref.name if content_type != PDF or ref.kind == "pdf" else ref.name + ".pdf"
    return Response(body, media_type=content_type, headers={"content-disposition": disposition("inline", shown)})


async def _shown(request: Request, queue: Previews, ref: DocumentRef, data: bytes) -> tuple[str, bytes]:
    direct = as_shown(ref, data)
    if direct is not None:
        return direct
    app = auth.jb(request)
    pdf = await run_in_threadpool(cached_pdf, app.engine, app.blobs, data)
    if pdf is not None:
        return PDF, pdf

    def work() -> bytes:  # in the queue's worker: no session while LibreOffice converts
        result = convert_pdf(ref, data)
        remember_pdf(app.engine, app.blobs, data, result)
        return result

    try:
        future = queue.convert(source_key(data), work)
    except QueueFull:
        raise HTTPException(503, "正在转换的预览较多，请稍后再试，或先下载原文件查看") from None
    # shielded: a viewer who gives up does not cancel the conversion others wait for
    return PDF, await asyncio.shield(asyncio.wrap_future(future))
