"""The few forms that carry a file (a credit check's evidence): a :class:`Guarded` route whose
form may hold one file of at most LIMIT bytes.

The guard reads every other form with ``max_files=0``: an upload is the exception, so it
is declared as one (``uploads.router``). The same checks run in the same order — session,
reach, read-only, CSRF — and the request's declared length is checked before any byte of
the body is read, so a huge upload is refused without being spooled to disk (the server
holds a body to its Content-Length).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import cast

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from tracker.web import csrf
from tracker.web.auth import Access
from tracker.web.guard import FORBIDDEN_CSRF, Allow, Guarded

LIMIT = 10 * 1024 * 1024  # a screenshot or the PDF of a query
SLACK = 64 * 1024  # the form's other fields and the multipart framing
FIELD = "evidence"
TOO_LARGE = f"文件过大：凭证文件不能超过 {LIMIT // (1024 * 1024)} MB，未作任何更改"
NO_LENGTH = "请求缺少长度信息，请使用浏览器上传文件"

SyncHandler = Callable[[Request, Access], Response]


class Uploading(Guarded):
    """A POST route whose form may carry one file (see the module)."""

    def __init__(self, path: str, handler: SyncHandler, *, allow: Allow) -> None:
        super().__init__(path, handler, allow=allow, methods=("POST",), writes=True)

    async def _guarded(self, request: Request) -> Response:
        length = request.headers.get("content-length", "")
        if not length.isdecimal():
            raise HTTPException(411, NO_LENGTH)
        if int(length) > LIMIT + SLACK:
            raise HTTPException(413, TOO_LARGE)
        access = await run_in_threadpool(self._admit, request)
        form = await request.form(max_files=1, max_fields=50)
        try:
            if not csrf.matches(access.user.csrf_token, form.get(csrf.FIELD)):
                raise HTTPException(403, FORBIDDEN_CSRF)
            handler = cast(SyncHandler, self.handler)
            return await run_in_threadpool(handler, request, dataclasses.replace(access, form=form))
        finally:
            await form.close()  # the spooled file, at once


def router(routes: list[BaseRoute]) -> Callable[..., Callable[[SyncHandler], SyncHandler]]:
    """An ``upload`` decorator that appends an :class:`Uploading` route to *routes*."""

    def route(path: str, *, allow: Allow) -> Callable[[SyncHandler], SyncHandler]:
        def add(handler: SyncHandler) -> SyncHandler:
            routes.append(Uploading(path, handler, allow=allow))
            return handler

        return add

    return route


def uploaded(access: Access, field: str = FIELD) -> tuple[str, bytes] | None:
    """The file sent in *field* as (its name, its bytes); None when none was chosen.
    ValueError (Chinese) when it is larger than LIMIT. Called from the handler's thread."""
    value = access.form.get(field) if access.form is not None else None
    if not isinstance(value, UploadFile) or not value.filename:
        return None
    data = value.file.read(LIMIT + 1)
    if len(data) > LIMIT:
        raise ValueError(TOO_LARGE)
    if not data:
        return None
    name = value.filename.replace("\\", "/").rsplit("/", 1)[-1][:255]  # a browser's path, never ours
    return name or "凭证", data
