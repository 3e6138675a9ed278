"""An expert scores an application end to end in real headless Chromium: sign in, the list of
their panel's applications, one application with its document preview, the score form,
the saved score on the list."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select
from support.browser import CHROMIUM, chromium, served
from support.review_web import review_round
from support.web import PASSWORD, Workspace

from tracker.store.tables import Score

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (scripts/test.sh installs it)"),
]


def test_an_expert_scores_an_application_in_chromium(workspace: Workspace) -> None:
    review_round(workspace)
    with served(workspace.app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")  # type: ignore[attr-defined]
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

        page.goto(f"{base}/expert")
        assert page.url.startswith(f"{base}/login")
        page.fill("input[name=username]", "zhang")  # from the 济南 application's lead unit
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/expert")
        listed = page.inner_text("#expert-list")
        assert workspace.weifang in listed and workspace.jinan not in listed  # the conflict is left out

        page.click(f"text={workspace.weifang}")
        page.wait_for_url(f"{base}/expert/{workspace.weifang}")
        assert "潍坊市数据港科技有限公司" in page.inner_text("h1")
        src = page.locator("details.preview iframe").first.get_attribute("src")
        assert src and src.startswith(f"/expert/{workspace.weifang}/")
        shown = page.request.get(f"{base}{src}")
        assert shown.status == 200 and shown.headers["content-type"] == "application/pdf"

        for name, value in (("mark-0", "27"), ("mark-1", "25.5"), ("mark-2", "18"), ("mark-3", "16")):
            page.fill(f"#score-form input[name={name}]", value)
        page.fill("#score-form textarea[name=comment]", "技术路线清晰，应用场景明确。")
        page.click("#score-form button[type=submit]")
        page.wait_for_selector("p.notice")
        assert "评分已保存，总分 86.5 分" in page.inner_text("p.notice")
        assert "86.5" in page.inner_text("#my-total")

        page.click("text=我的评审")
        page.wait_for_url(f"{base}/expert")
        assert "已评分（86.5 分）" in page.inner_text("#expert-list")
        assert not [p for p in problems if "Content Security Policy" in p], problems
    with Session(workspace.app.engine) as s:
        [score] = s.exec(select(Score)).all()
        assert score.total == 86.5 and score.comment == "技术路线清晰，应用场景明确。"
