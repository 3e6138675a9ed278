"""HTML to readable plain text: mail bodies and Word files saved as HTML."""

from __future__ import annotations

import re
from html.parser import HTMLParser

MAX_HTML_CHARS = 4_000_000  # beyond this the tail is dropped: a body, not a book

_BLOCK = {
    "p",
    "div",
    "br",
    "tr",
    "li",
    "ul",
    "ol",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "hr",
    "section",
    "article",
    "header",
    "footer",
    "dt",
    "dd",
}
_CELL = {"td", "th"}
_WS = re.compile(r"[ \r\n\f\v\xa0]+")
_HIDDEN = {"script", "style", "head", "title", "xml", "noscript", "template"}


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden = 0
        self.href: str | None = None
        self.anchor_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BLOCK:
            self.out.append("\n")
        elif tag in _CELL:
            self.out.append("\t")
        elif tag == "a":
            self.href = dict(attrs).get("href") or None
            self.anchor_text = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCK:
            self.out.append("\n")
        elif tag == "a" and self.href:
            # Keep link targets: cloud "large attachment" links live only there.
            shown = "".join(self.anchor_text)
            if self.href.lower().startswith(("http://", "https://")) and self.href not in shown:
                self.out.append(f" ({self.href})")
            self.href = None

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        data = _WS.sub(" ", data)  # newlines inside HTML text are just spaces
        self.out.append(data)
        if self.href:
            self.anchor_text.append(data)


def html_to_text(html: str) -> str:
    """Visible text of ``html`` with line breaks at block elements and links kept."""
    if not html:
        return ""
    parser = _TextParser()
    parser.feed(html[:MAX_HTML_CHARS])
    parser.close()
    lines = (_WS.sub(" ", line).strip() for line in "".join(parser.out).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
