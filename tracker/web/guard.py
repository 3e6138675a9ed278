"""Every route states once who may use it; the check runs before its handler does.

    ROUTES: list[BaseRoute] = []
    route = guard.router(ROUTES)

    @route("/confirm", allow=PROVINCE)
    def pending(request: Request, access: Access) -> Response: ...

    @route("/submissions/{reference}/correct", allow=PROVINCE | CITY, methods=["POST"])
    def correct(request: Request, access: Access) -> Response: ...  # access.form: checked

Before the handler runs, :class:`Guarded` (the Route it builds):

1. finds the session (anonymous: 303 to /login, nothing of the page in the body);
2. checks the account's reach against ``allow``: ``PROVINCE`` — accounts that see the
   whole instance (province staff, a viewer without a city, everyone on a city
   instance); ``CITY`` — accounts confined to one city's recommendations; anything else
   is 403; ``EXPERT`` — review experts (role ``expert``), admitted only where a route
   names them: every other route answers them 403, whatever else it allows;
3. on a POST: reads the form and checks this session's CSRF token (403), and when the
   route ``writes`` (every POST but logout) refuses read-only accounts (403);
4. hands the handler an :class:`~tracker.web.auth.Access`: the user, its scope (what it
   may see: ``access.submission(session, ref)`` answers 404 for anything else) and the form.

Handlers are plain functions: Starlette's thread pool runs them, so argon2, the records
lock, the rules and database writes never stall the event loop. The few ``async``
handlers (the login's delay, the preview queue) only await. Path ids use the ``id``
convertor (1–18 digits): a larger number matches no route and is a 404, never an
OverflowError in the database driver.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Awaitable, Callable, Sequence
from enum import Flag, auto
from typing import cast

from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tracker.store.tables import StaffRole
from tracker.web import auth, csrf
from tracker.web.auth import Access


class Allow(Flag):
    ANONYMOUS = auto()  # no session needed: the login form only
    PROVINCE = auto()  # accounts that see the whole instance
    CITY = auto()  # accounts confined to what one city recommended
    EXPERT = auto()  # review experts: only the routes that name them (their scores, later)


ANONYMOUS, PROVINCE, CITY, EXPERT = Allow.ANONYMOUS, Allow.PROVINCE, Allow.CITY, Allow.EXPERT
STAFF = PROVINCE | CITY

Handler = Callable[[Request, Access], Response] | Callable[[Request, Access], Awaitable[Response]]

FORBIDDEN_ALL_CITIES = "此页面涉及所有城市，仅限省级工作人员"
FORBIDDEN_READ_ONLY = "只读账号不能修改"
FORBIDDEN_EXPERT = "评审专家账号不能访问此页面"
FORBIDDEN_CSRF = "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试"


class IdConvertor(Convertor[int]):
    """A database id in a path: 1–18 digits (always fits a 64-bit integer)."""

    regex = "[0-9]{1,18}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", IdConvertor())


def small_int(value: object, digits: int = 9) -> int | None:
    """A form's or query's number, or None when it is not a small non-negative integer."""
    if isinstance(value, str) and value.isdecimal() and value.isascii() and len(value) <= digits:
        return int(value)
    return None


class Guarded(Route):
    """A Route whose permission is part of it (``allow``, ``writes``): see the module."""

    def __init__(self, path: str, handler: Handler, *, allow: Allow, methods: Sequence[str] = ("GET",),
                 writes: bool | None = None) -> None:
        if not allow or (ANONYMOUS in allow and allow != ANONYMOUS):
            raise ValueError(f"{path}: allow is ANONYMOUS alone, or PROVINCE, CITY and/or EXPERT")
        self.allow = allow
        self.writes = ("POST" in methods) if writes is None else writes
        self.handler = handler
        super().__init__(path, self._guarded, methods=list(methods), name=getattr(handler, "__name__", None))

    async def _guarded(self, request: Request) -> Response:
        access: Access | None = None
        if self.allow != ANONYMOUS:
            access = await run_in_threadpool(self._admit, request)
            if request.method == "POST":
                form = await request.form(max_files=0, max_fields=200)
                if not csrf.matches(access.user.csrf_token, form.get(csrf.FIELD)):
                    raise HTTPException(403, FORBIDDEN_CSRF)
                access = dataclasses.replace(access, form=form)
        handed = cast(Access, access)  # an ANONYMOUS handler is handed None
        if inspect.iscoroutinefunction(self.handler):
            return await cast(Callable[[Request, Access], Awaitable[Response]], self.handler)(request, handed)
        return await run_in_threadpool(cast(Callable[[Request, Access], Response], self.handler), request, handed)

    def _admit(self, request: Request) -> Access:
        user = auth.current(request)
        if user is None:
            path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise auth.NotSignedIn(path if request.method == "GET" else "/")
        scope = auth.scope_of(user, auth.jb(request).policy)
        if user.role == StaffRole.expert:
            # an expert is never "province" or "city", whatever its city or the instance's role
            if EXPERT not in self.allow:
                raise HTTPException(403, FORBIDDEN_EXPERT)
        elif (PROVINCE if scope.everything else CITY) not in self.allow:
            raise HTTPException(403, FORBIDDEN_ALL_CITIES)
        if self.writes and not user.may_change:
            raise HTTPException(403, FORBIDDEN_READ_ONLY)
        return Access(user, scope)


def router(routes: list[BaseRoute]) -> Callable[..., Callable[[Handler], Handler]]:
    """A ``route`` decorator that appends a :class:`Guarded` route to *routes*."""

    def route(path: str, *, allow: Allow, methods: Sequence[str] = ("GET",),
              writes: bool | None = None) -> Callable[[Handler], Handler]:
        def add(handler: Handler) -> Handler:
            routes.append(Guarded(path, handler, allow=allow, methods=methods, writes=writes))
            return handler

        return add

    return route
