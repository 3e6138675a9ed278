"""The signed-in user's own account: two-factor sign-in (enrol once, shown once).

Enrolling here needs no administrator; replacing or ending an enrolment does (`jiebang
user 2fa NAME [--off]`), so a stolen session cannot swap the victim's second factor for
its own.
"""

from __future__ import annotations

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from tracker.records import twofactor
from tracker.store.tables import StaffUser
from tracker.web import auth, notices, pages
from tracker.web.auth import Access
from tracker.web.guard import STAFF, router

ROUTES: list[BaseRoute] = []
route = router(ROUTES)


@route("/account", allow=STAFF)
def account(request: Request, access: Access) -> Response:
    app = auth.jb(request)
    with Session(app.engine) as session:
        enrolled = twofactor.enrolled(session, access.user.user_id)
        left = twofactor.recovery_left(session, access.user.user_id) if enrolled else 0
    return pages.render(request, "account.html", enrolled=enrolled, recovery_left=left, enrolment=None,
                        required=app.settings.web.require_2fa_for_province)


@route("/account/2fa", allow=STAFF, methods=["POST"], writes=False)  # one's own sign-in, a viewer's too
def enrol(request: Request, access: Access) -> Response:
    app = auth.jb(request)
    with Session(app.engine) as session:
        if twofactor.enrolled(session, access.user.user_id):
            return notices.redirect(request, "/account", error="已启用两步验证；如需更换，请联系系统管理员")
        user = session.get(StaffUser, access.user.user_id)
        assert user is not None  # signed in a moment ago
        enrolment = twofactor.enrol(session, user, actor=access.actor)
        session.commit()
    # shown once, in this answer only: the secret and the codes are never displayed again
    return pages.render(request, "account.html", enrolled=True, recovery_left=len(enrolment.recovery_codes),
                        enrolment=enrolment, required=app.settings.web.require_2fa_for_province)
