"""Pictures of one form's pages, sent one file per page, made one document.

Applicants photograph a printed, sealed form page by page and mail the photos (or a
scanner's PNG/TIFF per page). Read one by one, only the cover reads as a form and the
page with the unit's name and credit code becomes "supporting". ``bind_pages`` makes
such pictures one document: the first page's Document holds the text of all of them in
page order, names the others in ``parts``, and each of those names it in ``part_of``
(understand then reads the form once, and every page belongs to the application).

Conservative, as a wrong merge would join two applications:

- only pictures (``image``) that look like pages: readable, text OCR could read, no
  strip or icon;
- never one named or titled as other material (营业执照, 承诺书, 证书…) or as a
  推荐汇总表 (those are read on their own);
- each must read as part of a form (its words: 揭榜, 榜单方向, 任务类别, 信用代码…),
  and one of them as its cover or its basic information;
- pictures inside different archives or forwarded mails are never joined; a second
  cover starts another document.

Page order: by file name when every name carries a page number (natural order: 2
before 10; 第一页, 第二页…), else by the time the photo was taken (EXIF
DateTimeOriginal) when every picture has a different one, else as the mail lists them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from intake.model import Application, Document

# what a page of a form says (any page of the 2025 template says one of these)
_FORM_CUE = re.compile(
    r"申报书|揭榜|榜单方向|任务类别|预期成果|实施方案|联合单位|信用承诺|信用代码|单位性质|填报说明|"
    r"推荐单位|研究内容|总体目标|考核指标|进度安排|经费|基本情况|任务名称|承担单位|团队"
)
# what only the cover or the basic information says: a document of its own starts here
_COVER = re.compile(r"(?:申报书|申请书|申报表)(?:[(（][^()（）]*[)）])?$")  # a title ends with it
_BASIC = (r"揭榜单位|申报单位|单位名称", r"信用代码", r"榜单方向|申报方向|揭榜方向", r"单位性质",
          r"任务名称", r"任务类别")  # fmt: skip
# other material, by its name or its title (intake.classify decides what it is; here it
# is only kept apart)
_OTHER_NAME = re.compile(
    r"营业执照|执照|证书|承诺|证明|公函|的函|推荐函|推荐信|说明|委托|授权|资质|专利|著作权|合同|协议|"
    r"信用报告|征信|声明|发票|截图|身份证|汇总表|推荐表|推荐名单|推荐清单|签名|签字|logo",
    re.IGNORECASE,
)
_FORM_NAME = re.compile(r"申报书|申请书|申报表|申报材料")
_OTHER_TITLE = re.compile(
    r"营业执照|法人证书|许可证|推荐汇总表|汇总表|推荐表|协议书?$|承诺书$|承诺函$|声明书?$|委托书$|授权书$|"
    r"推荐函$|推荐信$|证明$|的函$"
)
_MIN_CJK = 15  # characters OCR read: fewer, and a picture is no page of text
_MIN_SIDE = 400  # px: smaller pictures are icons, logos, signatures
_MAX_ASPECT = 2.2  # a page (A4 1.41, a phone photo 1.33); longer is a strip or a screenshot
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}  # fmt: skip
_CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百]+")
_CJK = re.compile("[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Picture:
    """What the opener saw of a picture before reading it."""

    width: int
    height: int
    taken: str | None = None  # EXIF DateTimeOriginal, "2025:01:10 09:31:12"


def bind_pages(documents: list[Document], pictures: dict[int, Picture]) -> None:
    """Join the pictures of one form's pages (see the module doc); *pictures*: by
    ``id()`` of each image Document, its size and when it was taken."""
    by_container: dict[str | None, list[Document]] = {}
    for doc in documents:
        if id(doc) in pictures and _is_page(doc, pictures[id(doc)]):
            by_container.setdefault(doc.container, []).append(doc)
    for pages in by_container.values():
        if len(pages) < 2:
            continue
        ordered = page_order(pages, [pictures[id(d)].taken for d in pages])
        for group in _split_at_covers(ordered):
            if len(group) >= 2 and any(_leads(d) for d in group):
                _join(group)


def _is_page(doc: Document, picture: Picture) -> bool:
    if doc.format != "image" or not doc.readable or doc.part_of or doc.parts:
        return False
    short, long = sorted((picture.width, picture.height))
    if short < _MIN_SIDE or long > _MAX_ASPECT * short:
        return False
    name = doc.name.rsplit("/", 1)[-1]
    if _OTHER_NAME.search(name) and not _FORM_NAME.search(name):
        return False
    if len(_CJK.findall(doc.text)) < _MIN_CJK or any(_OTHER_TITLE.search(t) for t in _titles(doc.text)):
        return False
    return bool(_FORM_CUE.search(doc.text))


def _titles(text: str, count: int = 3) -> list[str]:
    out = []
    for line in text.splitlines():
        line = re.sub(r"\s+", "", line)
        if line and not re.fullmatch(r"附件\d*[:：]?", line):
            out.append(line)
            if len(out) == count:
                break
    return out


def _is_cover(doc: Document) -> bool:
    return any(_COVER.search(t) and len(t) <= 40 for t in _titles(doc.text, 5))


def _is_basic(doc: Document) -> bool:
    """The page with the unit's basic information (its name, code, direction…)."""
    return sum(bool(re.search(p, doc.text)) for p in _BASIC) >= 3


def _leads(doc: Document) -> bool:
    """The cover, or the page with the unit's basic information."""
    return _is_cover(doc) or _is_basic(doc)


def _split_at_covers(pages: list[Document]) -> list[list[Document]]:
    """Runs of pages, a new one at a second cover or a second basic-information page
    (two units' forms photographed together are never read as one)."""
    groups: list[list[Document]] = []
    seen: set[str] = set()
    for doc in pages:
        kind = "cover" if _is_cover(doc) else "basic" if _is_basic(doc) else None
        if not groups or kind in seen:
            groups.append([])
            seen = set()
        groups[-1].append(doc)
        if kind:
            seen.add(kind)
    return groups


def _join(group: list[Document]) -> None:
    lead, *rest = group
    lead.text = "\n".join(d.text for d in group)
    lead.pages = sum(max(d.pages, 1) for d in group)
    lead.parts = [d.name for d in rest]
    for doc in rest:
        doc.part_of = lead.name


# -- page order ---------------------------------------------------------------------------------


def page_order(docs: Sequence[Document], taken: Sequence[str | None]) -> list[Document]:
    """*docs* in page order: by the page numbers of their names, else by when they were
    taken, else as given (see the module doc)."""
    keys = [natural_key(d.name) for d in docs]
    numbered = all(any(kind == 0 for kind, _ in key) for key in keys)
    if numbered and len(set(keys)) == len(keys):
        return [d for _, d in sorted(zip(keys, docs, strict=True), key=lambda pair: pair[0])]
    if all(taken) and len(set(taken)) == len(taken):
        return [d for _, d in sorted(zip(taken, docs, strict=True), key=lambda pair: pair[0] or "")]
    return list(docs)


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """A file name as a sort key: runs of digits (and Chinese numerals: 第十二页) as
    numbers, the rest as text; the extension left out."""
    base = name.rsplit("/", 1)[-1]
    base = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", base)
    base = _CN_NUMBER.sub(lambda m: str(_chinese_number(m.group(0))), base)
    key: list[tuple[int, int | str]] = []
    for part in re.split(r"(\d+)", base.lower()):
        if part.isdigit():
            key.append((0, int(part)))
        elif part:
            key.append((1, part))
    return tuple(key)


def _chinese_number(text: str) -> int:
    """一 → 1, 十 → 10, 十二 → 12, 二十 → 20, 一百零五 → 105 (page numbers: small ones)."""
    total, current = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
    return total + current


# -- after classification -------------------------------------------------------------------------


def follow_lead_pages(documents: list[Document]) -> None:
    """Every further page has the role its first page was given (the form's pages are the form)."""
    leads = {d.name: d for d in documents if d.parts}
    for doc in documents:
        lead = leads.get(doc.part_of or "")
        if lead is not None:
            doc.role = lead.role


class _Reading(Protocol):
    @property
    def application(self) -> Application: ...


def with_pages(readings: Sequence[_Reading], documents: list[Document]) -> None:
    """Each application's files with the further pages of each of them, in page order."""
    parts = {d.name: d.parts for d in documents if d.parts}
    if not parts:
        return
    for reading in readings:
        app = reading.application
        app.documents = list(dict.fromkeys(
            name for own in app.documents for name in (own, *parts.get(own, []))))
