"""Screenshots of the web workspace's main pages for the README (docs/screenshots/*.png).

Builds a throwaway workspace (SQLite in a temp folder) with the test suite's example mail,
serves it on a free loopback port and photographs it in headless /usr/bin/chromium at
1366×768 (and one page at phone width). Run from the repository root:

    .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]  # the test suite's mail factories and helpers

from support.browser import chromium, served  # noqa: E402
from support.web import PASSWORD, make_workspace  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        ws = make_workspace(Path(tmp), f"sqlite:///{tmp}/jiebang.db")
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
                     "city": "/city?city=济南市"}
            for name, path in shots.items():
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                if name == "submission":  # let Chromium's PDF viewer draw the Word form's preview
                    page.locator("details.preview iframe").first.scroll_into_view_if_needed()
                    page.wait_for_timeout(3000)
                page.screenshot(path=str(OUT / f"{name}.png"), full_page=name in ("submission",))
            phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")  # type: ignore[attr-defined]
            phone.context.add_cookies(page.context.cookies())
            phone.goto(f"{base}/submissions")
            phone.screenshot(path=str(OUT / "phone-submissions.png"))
    for png in sorted(OUT.glob("*.png")):
        print(png.relative_to(ROOT), png.stat().st_size)


if __name__ == "__main__":
    main()
