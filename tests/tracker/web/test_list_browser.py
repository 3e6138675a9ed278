"""The long list in real Chromium (issue #23): the first screen shows rows, the header stays
in view while scrolling, city and direction stay on one line, pages turn — on a desktop
(1366×768) and on a phone."""

from __future__ import annotations

import pytest
from support.browser import CHROMIUM, chromium, served
from support.crowd import crowd
from support.web import PASSWORD, Workspace

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (scripts/test.sh installs it)"),
]


def _sign_in(page, base: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/submissions")


def test_pages_and_a_sticky_header_on_a_desktop_and_a_phone(workspace: Workspace) -> None:
    crowd(workspace.app, 300)
    with served(workspace.app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")  # type: ignore[attr-defined]
        _sign_in(page, base)
        rows = page.locator("#submission-list tbody tr")
        assert rows.count() == 100 and "共 302 项" in page.inner_text(".total")
        first_row = rows.first.bounding_box()
        assert first_row is not None and first_row["y"] + first_row["height"] <= 768  # rows on the first screen
        assert not page.locator("details.counts").evaluate("d => d.open")  # counts folded away
        # city and direction: one line each, the whole name in the tooltip
        city = page.locator("#submission-list tbody tr td:nth-child(4)").first
        assert city.evaluate("c => getComputedStyle(c).whiteSpace") == "nowrap"
        direction = page.locator("#submission-list tbody tr td:nth-child(3)").first
        assert direction.get_attribute("title") and direction.evaluate("c => getComputedStyle(c).whiteSpace") == "nowrap"
        heights = page.locator("#submission-list tbody tr").evaluate_all("rs => rs.map(r => r.offsetHeight)")
        assert max(heights) < 2 * min(heights)  # no row wraps to a second line
        # scrolled far down: the header is still at the top of the window
        page.mouse.wheel(0, 2400)
        page.locator("#submission-list tbody tr").nth(60).scroll_into_view_if_needed()
        header = page.locator("#submission-list thead th").first.bounding_box()
        assert header is not None and abs(header["y"]) <= 2, header
        assert page.evaluate("window.scrollY") > 1000
        # the next page continues where this one ended
        first_page = page.locator("#submission-list tbody tr td.ref").all_inner_texts()
        page.click(".pager a[rel=next]")
        page.wait_for_url("**/submissions?page=2")
        second_page = page.locator("#submission-list tbody tr td.ref").all_inner_texts()
        assert len(second_page) == 100 and not set(first_page) & set(second_page)
        # sorting by a header keeps working page after page
        page.click("#submission-list thead th >> text=城市")
        page.wait_for_url("**/submissions?sort=city")
        assert page.locator("#submission-list thead th[aria-sort=ascending]").inner_text().startswith("城市")

        phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")  # type: ignore[attr-defined]
        _sign_in(phone, base)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390 + 1  # no sideways scrolling
        assert "共 302 项" in phone.inner_text(".total")
        phone.locator(".pager a[rel=next]").scroll_into_view_if_needed()
        phone.click(".pager a[rel=next]")
        phone.wait_for_url("**/submissions?page=2")
        refs = phone.locator("#submission-list tbody tr td.ref").all_inner_texts()
        assert len(refs) == 100 and not set(refs) & set(first_page)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390 + 1
