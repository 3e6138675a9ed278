"""End to end in real headless Chromium against uvicorn: log in, filter, open a submission
and its document preview, correct a field and see the rule result change, confirm a claim."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.browser import CHROMIUM, chromium, served
from support.web import PASSWORD, Workspace, add_recommended

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (scripts/test.sh installs it)"),
]


def test_a_working_session_in_chromium(workspace: Workspace, tmp_path: Path) -> None:
    with served(workspace.app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")  # type: ignore[attr-defined]
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

        # anonymous: the login page, then back where we wanted to go
        page.goto(f"{base}/submissions/{workspace.weifang}")
        assert page.url.startswith(f"{base}/login")
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/submissions/{workspace.weifang}")
        page.goto(f"{base}/submissions")
        assert page.locator("#submission-list").get_by_text(workspace.jinan).is_visible()

        # filter (htmx swaps the list in place)
        page.select_option("select[name=direction]", "4")
        # (a locator, not wait_for_function: the page's CSP forbids the eval that polling needs)
        page.locator("#submission-list a", has_text=workspace.jinan).wait_for(state="detached")
        assert workspace.weifang in page.inner_text("#submission-list")

        # one submission, its document preview
        page.click(f"text={workspace.weifang}")
        page.wait_for_url(f"{base}/submissions/{workspace.weifang}")
        assert "潍坊市数据港科技有限公司" in page.inner_text("h1")
        frame = page.locator("details.preview iframe").first
        src = frame.get_attribute("src")
        assert src and "/preview?name=" in src
        pdf = page.request.get(f"{base}{src}")
        assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
        open_row = page.locator("#deficiencies tr", has_text="未能识别任务类别")
        assert "未解决" in open_row.inner_text()

        # correct 任务类别, chosen from the round's names: the deficiency it decides is resolved
        page.click("#field-task_types details.fix summary")
        page.select_option("#correct-task_types select[name=value]", label="技术创新")
        page.fill("#correct-task_types input[name=note]", "见申报书第 3 页")
        page.click("#correct-task_types button[type=submit]")
        page.wait_for_selector("p.notice")
        assert "未能识别任务类别" in page.inner_text("p.notice")
        assert "已解决" in page.locator("#deficiencies tr", has_text="未能识别任务类别").inner_text()
        assert "已人工更正" in page.inner_text("#fields") and "技术创新" in page.inner_text("#field-task_types")

        # confirm the stranger's claim
        page.click("nav >> text=待确认")
        page.wait_for_url(f"{base}/confirm")
        page.locator("article.claim form[action$='/confirm'] button").first.click()
        page.wait_for_selector("p.notice")
        assert "已确认" in page.inner_text("p.notice")
        assert "没有待确认的来信" in page.inner_text("main")
        assert not [p for p in problems if "Content Security Policy" in p], problems


def test_readable_on_a_phone(workspace: Workspace) -> None:
    recommended = add_recommended(workspace)
    with served(workspace.app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")  # type: ignore[attr-defined]
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "jinan")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/submissions")
        # no sideways scrolling of the page itself on a phone
        assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
        shown = page.inner_text("main")  # what 济南 recommended; not what its units sent the province
        assert recommended in shown and workspace.jinan not in shown and workspace.weifang not in shown
