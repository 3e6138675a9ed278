"""Issue #23, item 8: the new clerk tasks in real headless Chromium — two-factor sign-in, the
keys (skip link, "/" to search, j/k on the rows), assigning and noting a submission,
answering a question from its page, and the form beside its fields (one column on a phone)."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlmodel import Session
from support.browser import CHROMIUM, chromium, served
from support.records import T0, application_mail, deliver
from support.web import PASSWORD, Workspace

from tracker.records import accounts, twofactor

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (scripts/test.sh installs it)"),
]


def _sign_in(page, base: str, name: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_two_factor_sign_in_in_chromium(workspace: Workspace) -> None:
    with Session(workspace.app.engine) as s:
        enrolment = twofactor.enrol(s, accounts.find_user(s, "alice"))  # type: ignore[arg-type]
        s.commit()
    with served(workspace.app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")  # type: ignore[attr-defined]
        page.goto(f"{base}/mail")
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/login/code**")
        assert "两步验证" in page.inner_text("h1") and page.locator("input[name=password]").count() == 0
        page.fill("input[name=code]", "000000" if pyotp.TOTP(enrolment.secret).now() != "000000" else "111111")
        page.click("button[type=submit]")
        assert "验证码错误" in page.inner_text("p.error")
        page.fill("input[name=code]", pyotp.TOTP(enrolment.secret).now())
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/mail")  # where the clerk was going
        assert "邮件" in page.inner_text("h1")


def test_the_keys_in_chromium(workspace: Workspace) -> None:
    with served(workspace.app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")  # type: ignore[attr-defined]
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        _sign_in(page, base, "alice")
        page.wait_for_url(f"{base}/submissions")
        page.keyboard.press("Tab")  # the first stop: past the masthead to the page itself
        assert page.locator("a.skip:focus").count() == 1 and page.locator("a.skip").is_visible()
        page.locator("body").click(position={"x": 5, "y": 700})
        page.keyboard.press("/")
        assert page.locator("#search:focus").count() == 1
        page.keyboard.press("Escape")
        page.locator("h1").click()
        page.keyboard.press("j")
        rows = page.locator("#submission-list tbody tr")
        assert "kbd-current" in (rows.nth(0).get_attribute("class") or "")
        page.keyboard.press("j")
        assert "kbd-current" in (rows.nth(1).get_attribute("class") or "")
        assert "kbd-current" not in (rows.nth(0).get_attribute("class") or "")
        page.keyboard.press("k")
        assert "kbd-current" in (rows.nth(0).get_attribute("class") or "")
        first = rows.nth(0).locator("td.ref a").inner_text()
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/submissions/{first}")
        assert not [p for p in problems if "Content Security Policy" in p], problems


def test_assign_note_and_answer_in_chromium(workspace: Workspace) -> None:
    deliver(workspace.app, application_mail(sender="zhang@question.example.cn", subject="咨询联合单位", attachments=[],
                                            body="您好，请问联合单位可以是省外企业吗？", when=T0 + timedelta(days=2)))
    with served(workspace.app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")  # type: ignore[attr-defined]
        _sign_in(page, base, "alice")
        page.wait_for_url(f"{base}/submissions")
        page.goto(f"{base}/submissions/{workspace.weifang}")
        page.select_option("#assign-form select[name=assignee]", "alice")
        page.click("#assign-form button[type=submit]")
        page.wait_for_selector("p.notice")
        assert "已分派给 alice" in page.inner_text("p.notice") and page.inner_text("#assignee") == "alice"
        page.fill("#note-form textarea[name=text]", "已电话联系，周五前补交任务类别")
        page.click("#note-form button[type=submit]")
        page.wait_for_selector("p.notice")
        assert "已电话联系，周五前补交任务类别" in page.inner_text("#notes")
        # "mine": the list filter swaps the rows in place
        page.goto(f"{base}/submissions")
        page.select_option("select[name=mine]", "1")
        page.locator("#submission-list a", has_text=workspace.jinan).wait_for(state="detached")
        assert workspace.weifang in page.inner_text("#submission-list")
        # a question that needs a person: answered from its page
        page.goto(f"{base}/mail")
        page.click("#review a >> text=咨询联合单位")
        assert "请问联合单位可以是省外企业吗" in page.inner_text("#body")
        page.fill("#answer-form textarea[name=text]", "您好！\n可以，联合单位不限于省内。")
        page.click("#answer-form button[type=submit]")
        page.wait_for_selector("p.notice")
        assert "答复已写入发件箱" in page.inner_text("p.notice") and "已处理" in page.inner_text("#handled")


def test_the_form_beside_its_fields_and_one_column_on_a_phone(workspace: Workspace) -> None:
    with served(workspace.app) as base, chromium() as browser:
        wide = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")  # type: ignore[attr-defined]
        _sign_in(wide, base, "alice")
        wide.wait_for_url(f"{base}/submissions")
        wide.goto(f"{base}/submissions/{workspace.weifang}")
        fields, pane = wide.locator("#fields").bounding_box(), wide.locator("#preview-pane").bounding_box()
        assert fields and pane and pane["x"] >= fields["x"] + fields["width"] - 1  # side by side
        assert abs(pane["y"] - fields["y"]) < 5 and wide.locator("#preview-frame").is_visible()
        phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")  # type: ignore[attr-defined]
        phone.context.add_cookies(wide.context.cookies())
        phone.goto(f"{base}/submissions/{workspace.weifang}")
        fields, pane = phone.locator("#fields").bounding_box(), phone.locator("#preview-pane").bounding_box()
        assert fields and pane and pane["y"] >= fields["y"] + fields["height"] - 1  # one after the other


def test_save_the_filter_in_force_after_the_rows_were_swapped(workspace: Workspace) -> None:
    with served(workspace.app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")  # type: ignore[attr-defined]
        _sign_in(page, base, "alice")
        page.wait_for_url(f"{base}/submissions")
        page.select_option("select[name=city]", "潍坊市")  # htmx swaps the rows, not the page
        page.locator("#submission-list a", has_text=workspace.jinan).wait_for(state="detached")
        page.click("details.save-filter summary")
        page.fill("#save-filter input[name=name]", "潍坊")
        page.click("#save-filter button[type=submit]")
        page.wait_for_selector("p.notice")
        page.goto(f"{base}/submissions")
        page.click(".saved-filters a >> text=潍坊")
        page.wait_for_url("**/submissions?city=*")
        assert workspace.weifang in page.inner_text("#submission-list")
        assert workspace.jinan not in page.inner_text("#submission-list")
