"""Issue #22 items 1-2: photos and scans of a printed form, as applicants really send them.

1. **Pictures are pages**: a form photographed page by page (JPG, PNG, a multi-page
   TIFF) is one document: one application with the unit and credit code of its basic
   information page, every picture listed among its files in page order — not the cover
   as the form and the other pages as "supporting". A 营业执照 photo beside it stays
   apart.
2. **Orientation**: a scan turned 90°, 180° or 270°, a phone photo whose EXIF tag says
   how to turn it, a photo taken sideways: all read upright.
3. **Red seals**: a 公章 stamped over the unit's name and credit code does not hide them.

The mails are made at test time (tests/support/photos.py: a Word form printed through
LibreOffice, each page photographed or scanned). OCR costs ~1-5 s a page: each class
keeps a quick case in the default set; the full-length ones are ``slow``.
Before these fixes: the numbered photos made 4 applications (one per page), the phone
photos none (MISSING_APPLICATION_FORM), the 90° scan read no field, the 180° scan one.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from support.photos import CASES, PhotoCase, seal

from intake.documents import images, pages
from intake.documents.ocr import Line, Reading
from intake.model import Document, Understanding
from intake.understand import understand
from tracker.config import load_settings

POLICY = load_settings(Path(__file__).resolve().parents[1] / "support" / "samples-config.yaml").round_policy()

pytestmark = pytest.mark.skipif(
    __import__("shutil").which("soffice") is None, reason="LibreOffice prints the forms"
)


@cache
def _understood(name: str) -> Understanding:
    """Each mail understood once per test session (OCR is the cost)."""
    return understand(CASES[name].build(), POLICY)


def _assert_read(name: str) -> Understanding:
    """What the applicant and staff would see: one application, its fields, its findings."""
    case: PhotoCase = CASES[name]
    result = _understood(name)
    fields = [{k: a.contract()[k] for k in case.applications[0]} for a in result.applications]
    assert fields == case.applications, (name, result.applications, [d.text[:300] for d in result.documents])
    assert {d.code for d in result.deficiencies} == case.codes, (name, result.deficiencies)
    if case.documents is not None:
        assert [a.documents for a in result.applications] == case.documents, name
    return result


QUICK = ["photos_quick", "scan_turned_270_quick", "scan_turned_180_quick", "sealed_scan_quick"]
SLOW = ["photo_sideways", "photos_numbered", "scans_chinese_page_names", "multipage_tiff", "photos_heic", "photos_with_licence",
        "scan_turned_90", "scan_turned_180", "photos_exif_orientation", "sealed_photos"]  # fmt: skip


@pytest.mark.parametrize("name", QUICK)
def test_a_photographed_turned_or_sealed_form_reads_as_its_one_application(name):
    _assert_read(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_every_way_of_sending_pictures_of_the_form_reads_as_its_one_application(name):
    _assert_read(name)


def test_the_pages_of_one_form_are_one_document_the_cover_first():
    result = _understood("photos_quick")
    first, *rest = result.documents
    assert first.parts == [d.name for d in rest] and all(d.part_of == first.name for d in rest)
    # every page is part of the form (the contract lists each file, none "supporting")
    assert [d.role for d in result.documents] == ["application_form"] * 3
    assert first.pages == 3
    assert first.text.index("申报书") < first.text.index("信用代码") < first.text.index("任务类别")


@pytest.mark.slow
def test_a_licence_photo_beside_the_pages_stays_supporting():
    result = _understood("photos_with_licence")
    licence = next(d for d in result.documents if d.name == "营业执照.jpg")
    assert licence.role == "supporting" and licence.part_of is None
    assert "营业执照.jpg" not in result.applications[0].documents


# -- page order, without OCR ------------------------------------------------------------------------


def _doc(name: str, text: str = "", container: str | None = None) -> Document:
    return Document(name=name, format="image", scanned=True, text=text, container=container, pages=1)


def test_pages_are_ordered_by_the_numbers_in_their_names():
    names = ["p10.jpg", "p2.jpg", "p1.jpg", "p9.jpg"]
    assert [d.name for d in pages.page_order([_doc(n) for n in names], [None] * 4)] == [
        "p1.jpg", "p2.jpg", "p9.jpg", "p10.jpg"]
    chinese = ["第十一页.png", "第二页.png", "封面第一页.png", "第十页.png"]
    assert [d.name for d in pages.page_order([_doc(n) for n in chinese], [None] * 4)] == [
        "封面第一页.png", "第二页.png", "第十页.png", "第十一页.png"]


def test_without_page_numbers_the_time_taken_orders_them_else_the_mail_does():
    docs = [_doc("image.jpg"), _doc("image.jpg"), _doc("image.jpg")]
    taken = ["2025:01:10 09:31:40", "2025:01:10 09:31:12", "2025:01:10 09:31:25"]
    assert pages.page_order(docs, taken) == [docs[1], docs[2], docs[0]]
    named = [_doc("封面.jpg"), _doc("基本信息.jpg"), _doc("任务.jpg")]
    assert pages.page_order(named, [None, None, None]) == named  # as the mail lists them


COVER = "附件1\n2025年全省数据要素市场化配置改革揭榜挂帅申报书\n推荐单位：济南市大数据局\n填报日期：2025年1月8日"
BASIC = ("一、揭榜单位基本情况\n榜单方向 （二）数据治理\n揭榜单位 山东云图数据科技有限公司\n"
         "统一社会信用代码 91370102MA3C4D5E6X\n单位性质 省属企业")  # fmt: skip
NOTES = "填报说明\n1．申报书内容应真实、准确，所附材料须加盖单位公章。\n2．请使用A4纸双面打印，左侧装订。"
TASKS = "二、揭榜任务\n（一）任务类别\n☑理论研究 □技术创新 □应用实践\n（三）预期成果\n☑研究报告"
LICENCE = "营业执照\n统一社会信用代码 91370102MA3C4D5E6X\n名称 山东云图数据科技有限公司\n类型 有限责任公司"


def _bind(docs: list[Document], size: tuple[int, int] = (1654, 2339)) -> None:
    pictures = {id(d): pages.Picture(*size) for d in docs}
    pages.bind_pages(docs, pictures)


def test_pages_of_a_form_are_joined_and_other_pictures_are_not():
    docs = [_doc("3.jpg", BASIC), _doc("营业执照.jpg", LICENCE), _doc("1.jpg", COVER), _doc("4.jpg", TASKS),
            _doc("2.jpg", NOTES)]  # the instructions name the 申报书 too: no second cover
    _bind(docs)
    cover = docs[2]
    assert cover.parts == ["2.jpg", "3.jpg", "4.jpg"] and cover.pages == 4
    assert cover.text.index("申报书") < cover.text.index("信用代码") < cover.text.index("任务类别")
    assert docs[1].part_of is None and not docs[1].parts  # the licence stays a picture of its own


def test_two_covers_are_two_forms_and_pictures_of_different_archives_never_meet():
    docs = [_doc("1.jpg", COVER), _doc("2.jpg", BASIC), _doc("3.jpg", COVER), _doc("4.jpg", BASIC)]
    _bind(docs)
    assert docs[0].parts == ["2.jpg"] and docs[2].parts == ["4.jpg"]
    other = BASIC.replace("山东云图数据科技有限公司", "山东海岱数智科技有限公司")
    two = [_doc("1.jpg", BASIC), _doc("2.jpg", TASKS), _doc("3.jpg", other), _doc("4.jpg", TASKS)]
    _bind(two)  # two units' basic pages, no covers: two documents, never one
    assert two[0].parts == ["2.jpg"] and two[2].parts == ["4.jpg"]
    apart = [_doc("1.jpg", COVER, "a.zip"), _doc("2.jpg", BASIC, "b.zip")]
    _bind(apart)
    assert not any(d.parts or d.part_of for d in apart)


def test_pictures_that_are_no_pages_of_a_form_stay_apart():
    # a table, a signature strip, a chat screenshot, a picture with no form words
    table = _doc("推荐汇总表.jpg", "推荐汇总表\n序号 榜单方向 推荐顺序 揭榜单位\n1 数据治理 1 山东云图数据科技有限公司")
    strip = _doc("2.png", "法定代表人签字：张明 揭榜单位盖章处，请加盖公章并签字确认")
    docs = [_doc("1.jpg", COVER), table, strip]
    pictures = {id(docs[0]): pages.Picture(1654, 2339), id(table): pages.Picture(2339, 1654),
                id(strip): pages.Picture(1600, 200)}  # fmt: skip
    pages.bind_pages(docs, pictures)
    assert not any(d.parts or d.part_of for d in docs)
    alone = [_doc("1.jpg", "会议合影\n2025年1月8日 数据要素大会现场照片，共计二十余人参加"), _doc("2.jpg", BASIC)]
    _bind(alone)
    assert not any(d.parts or d.part_of for d in alone)


# -- orientation and seals, without OCR ------------------------------------------------------------


def _line(text: str, *, flipped: bool = False, tall: bool = False, score: float = 0.95) -> Line:
    quad = [(0.0, 0.0), (20.0, 0.0), (20.0, 200.0), (0.0, 200.0)] if tall else \
        [(0.0, 0.0), (300.0, 0.0), (300.0, 30.0), (0.0, 30.0)]
    return Line(quad, text, score, flipped)


def test_a_first_read_is_doubted_only_when_it_looks_turned():
    upright = Reading([_line("揭榜单位山东云图数据科技有限公司")] * 6)
    assert images._doubt(upright) is None
    assert images._doubt(Reading([_line("揭榜单位山东云图数据科技有限公司", flipped=True)] * 6)) == "flipped"
    assert images._doubt(Reading([_line("数据科技", tall=True)] * 6)) == "sideways"
    assert images._doubt(Reading([_line("ab3d#", score=0.6)] * 6)) == "poor"


def test_an_upright_page_is_read_once(monkeypatch):
    calls = []

    def lines(image, *, detect_side=None):
        calls.append(image.size)
        return Reading([_line("揭榜单位山东云图数据科技有限公司")] * 6)

    monkeypatch.setattr(images, "ocr_lines", lines)
    images.read_page(Image.new("RGB", (1654, 2339), "white"))
    assert len(calls) == 1


def test_a_sideways_page_is_tried_small_and_read_again_once(monkeypatch):
    calls = []

    def lines(image, *, detect_side=None):
        calls.append(image.size)
        if image.width > image.height:  # the page as it came: lines run down it
            return Reading([_line("数据科技", tall=True)] * 6)
        return Reading([_line("揭榜单位山东云图数据科技有限公司")] * 6)

    monkeypatch.setattr(images, "ocr_lines", lines)
    reading = images.read_page(Image.new("RGB", (2339, 1654), "white"))
    assert reading.turn in (90, 270)
    # the first read, two small tries (90°, 270°), the full read turned: nothing more
    assert len(calls) == 4 and max(calls[1]) <= images._TRIAL_SIDE and max(calls[2]) <= images._TRIAL_SIDE


def test_the_exif_orientation_turns_the_picture_before_reading():
    from support.photos import jpeg

    from intake.attachments import _Opener, _orientation

    page = Image.new("RGB", (300, 400), "white")
    page.paste((0, 0, 0), (0, 0, 300, 40))  # a black band at the top of the upright page
    with Image.open(io.BytesIO(jpeg(page, orientation=6))) as stored:
        assert stored.size == (400, 300)
        shown = _Opener._page_of(stored, _orientation(stored))
    assert shown.size == (300, 400)
    pixels = np.asarray(shown.convert("L"))
    assert pixels[:30].mean() < 60 and pixels[-100:].mean() > 200


def test_a_red_seal_fades_and_the_black_text_under_it_stays():
    from PIL import ImageChops, ImageDraw

    page = Image.new("RGB", (600, 600), "white")
    draw = ImageDraw.Draw(page)
    from support.photos import _font

    for y in (220, 262, 304, 346):  # black text under the middle of the seal (its star)
        draw.text((110, y), "山东云图数据科技有限公司", font=_font(32), fill="black")
    page.paste((0, 0, 0), (20, 60, 580, 66))  # a rule the ring crosses
    layer = Image.new("RGB", page.size, "white")
    layer.paste(seal("山东云图数据科技有限公司", radius=200), (90, 90))
    stamped = ImageChops.multiply(page, layer)  # ink over toner: the toner stays dark
    clean = np.asarray(images.unseal(stamped).convert("L")).astype(int)
    rgb = np.asarray(stamped).astype(int)
    ink = (rgb[..., 0] > 150) & (rgb[..., 0] - rgb[..., 1] > 80)
    band = np.zeros(ink.shape, bool)
    band[215:385, 105:520] = True  # the lines of text the seal is stamped over
    assert (ink & band).sum() > 5000 and np.percentile(clean[ink & band], 5) > 180  # paper now
    text = np.asarray(page.convert("L")) < 50
    assert clean[text].max() < 90  # the text and the rule under it are still black
    gray = Image.new("L", (100, 100), 255)
    assert images.unseal(gray) is gray  # a grey scan has no seal to take out


def test_a_solid_mark_stamped_over_nothing_is_left_as_a_mark():
    """A star with no text showing through it hides what it covers for good (an opaque
    stamp): faded it would leave a hole in a character; left, OCR reads a mark."""
    page = Image.new("RGB", (400, 400), "white")
    page.paste((214, 38, 46), (150, 150, 250, 250))  # solid red, nothing under it
    page.paste((214, 38, 46), (20, 40, 380, 46))  # a thin red stroke
    clean = np.asarray(images.unseal(page).convert("L")).astype(int)
    assert clean[170:230, 170:230].max() < 120 and clean[41:45, 30:370].min() > 180


def test_an_iphone_heic_photo_is_opened_as_a_page(monkeypatch):
    from support.photos import heic

    from intake.attachments import open_attachments
    from intake.mime import Attachment

    seen = []

    def read(page, *, detect_side=None, turn=0):
        seen.append(page.size)
        return images.PageReading("一、揭榜单位基本情况\n揭榜单位 山东云图数据科技有限公司")

    monkeypatch.setattr("intake.attachments.read_page", read)
    data = heic(Image.new("RGB", (1500, 2000), "white"))
    [doc] = open_attachments([Attachment(name="IMG_4821.HEIC", data=data, content_type="image/heic")])
    assert doc.format == "image" and doc.readable and doc.scanned and seen == [(1500, 2000)]
    assert "山东云图数据科技有限公司" in doc.text


@pytest.mark.slow
def test_photos_and_a_table_photo_read_in_the_worker_pool_under_the_shipped_limits(tmp_path):
    """Four phone photos of a form, and a package whose table is a photo, through a real
    WorkerPool with the configuration's default limits (memory, CPU, OCR threads): read
    as in this process, no worker killed."""
    from support.records import make_app

    from tracker.config import Processing
    from tracker.pipeline.workers import Task, Understood, WorkerPool

    cities = {"淄博市": {"bureau_emails": ["zibo-dsj@dsj.zibo.example"], "contact": "齐文静", "phone": "0533-7936580"},
              "济南市": {"bureau_emails": ["jinan-dsj@dsj.jinan.example"], "contact": "孟晓林", "phone": "0531-94710893"}}  # fmt: skip
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'jiebang.sqlite'}", cities=cities)
    names = ["photos_numbered", "table_photo"]
    tasks = []
    for pk, name in enumerate(names, 1):
        blob = tmp_path / f"{name}.eml"
        blob.write_bytes(CASES[name].build())
        tasks.append(Task(pk, blob, None))
    pool = app.understander(workers=1)
    assert isinstance(pool, WorkerPool)
    shipped = Processing()
    assert (pool.limits.memory_mb, pool.limits.ocr_threads) == (shipped.worker_memory_mb, shipped.ocr_threads)
    with pool:
        outcomes = {names[task.pk - 1]: outcome for task, outcome in pool.run(tasks)}
        assert pool.stats.died == 0, pool.stats.causes
    for name in names:
        outcome = outcomes[name]
        assert isinstance(outcome, Understood), (name, outcome)
        result, case = outcome.result, CASES[name]
        fields = [{k: a.contract()[k] for k in case.applications[0]} for a in result.applications]
        assert fields == case.applications, name
        assert [(r.unit, r.direction, r.rank) for r in result.recommendations] == case.recommendations
        assert "UNREADABLE_DOCUMENT" not in {d.code for d in result.deficiencies}
