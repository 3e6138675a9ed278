"""Screenshots of the web workspace's main pages for the README (docs/screenshots/*.png).

Builds a throwaway workspace (SQLite in a temp folder) with the test suite's example mail,
serves it on a free loopback port and photographs it in headless /usr/bin/chromium at
1366×768 (and one page at phone width): the list, a submission (its form beside the fields),
the claims, mail and a question's answer page, the digest, a city, and two-factor sign-in. Run from the repository root:

    .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]  # the test suite's mail factories and helpers

from datetime import timedelta  # noqa: E402

from sqlmodel import Session, select  # noqa: E402
from support.browser import chromium, served  # noqa: E402
from support.records import T0, application_mail, deliver  # noqa: E402
from support.web import PASSWORD, make_workspace  # noqa: E402

from tracker.records import accounts, assignments, notes, saved_filters  # noqa: E402
from tracker.records.queries import find_submission  # noqa: E402
from tracker.store.tables import StoredMessage  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        ws = make_workspace(Path(tmp), f"sqlite:///{tmp}/jiebang.db")
        # a question no automatic answer covers (需人工答复): answered from its own page
        deliver(ws.app, application_mail(sender="zhang@question.example.cn", subject="咨询联合单位", attachments=[],
                                         body="您好，请问联合单位可以是省外企业吗？\n谢谢！", when=T0 + timedelta(days=2)))
        with Session(ws.app.engine) as session:
            question = session.exec(select(StoredMessage.id).where(StoredMessage.subject == "咨询联合单位")).one()
            # a team at work: one application assigned, a note on it, a saved filter
            alice = accounts.find_user(session, "alice")
            assert alice is not None and alice.id is not None
            sub = find_submission(session, ws.weifang)
            assert sub is not None
            assignments.assign_submission(session, sub, "alice", actor="alice（网页）")
            notes.add_note(session, sub, "已电话联系刘老师，周五前补充任务类别。", author="alice（网页）")
            saved_filters.save(session, alice.id, "材料待补正", "status=incomplete", actor="alice（网页）")
            session.commit()
        with served(ws.app) as base, chromium() as browser:
            page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")  # type: ignore[attr-defined]
            page.goto(f"{base}/login")
            page.screenshot(path=str(OUT / "login.png"))
            page.fill("input[name=username]", "alice")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/submissions")
            shots = {"submissions": "/submissions", "submission": f"/submissions/{ws.weifang}",
                     "confirm": "/confirm", "mail": "/mail", "digest": "/digest?day=2025-01-10",
                     "city": "/city?city=济南市", "question": f"/mail/messages/{question}"}
            for name, path in shots.items():
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                if name == "submission":  # let Chromium's PDF viewer draw the Word form's preview, beside the fields
                    page.locator("#preview-frame").wait_for()
                    page.wait_for_timeout(3000)
                page.screenshot(path=str(OUT / f"{name}.png"))
            # two-factor sign-in: enrolling on 我的账号, then the second step of signing in
            page.goto(f"{base}/account")
            page.click("form[action='/account/2fa'] button")
            page.wait_for_selector("#totp-secret")
            page.screenshot(path=str(OUT / "account-2fa.png"))
            other = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")  # type: ignore[attr-defined]
            other.goto(f"{base}/login")
            other.fill("input[name=username]", "alice")
            other.fill("input[name=password]", PASSWORD)
            other.click("button[type=submit]")
            other.wait_for_url(f"{base}/login/code**")
            other.screenshot(path=str(OUT / "login-code.png"))
            phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")  # type: ignore[attr-defined]
            phone.context.add_cookies(page.context.cookies())
            phone.goto(f"{base}/submissions")
            phone.screenshot(path=str(OUT / "phone-submissions.png"))
    for png in sorted(OUT.glob("*.png")):
        print(png.relative_to(ROOT), png.stat().st_size)


if __name__ == "__main__":
    main()
