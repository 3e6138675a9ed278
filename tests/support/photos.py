"""Phone photos and scans of printed forms and tables, made at test time (issue #22, items 1-2).

A form is typed the way the 2025 template lays it out — a cover, the instructions, the
basic information, the tasks — one page each (``form_docx``), printed through
LibreOffice (``to_pdf``) and rendered with pypdfium2; each page is then photographed
(``photograph``: the sheet on a desk, tilted a little, lit unevenly, grainy, saved as a
JPEG), turned (``turned``), tagged with an EXIF orientation (``jpeg``), or stamped with
a red seal over the unit's name and credit code (``stamp_over``). A 推荐汇总表 is
printed the same way (``table_pdf``) and photographed or scanned.

Every picture is drawn from a fixed seed: the same bytes on every run.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import docx
import numpy as np
from docx.enum.section import WD_ORIENT
from docx.shared import Cm
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from support.factory.pdfs import CJK_FONT
from support.formfactory import (
    CN,
    NAMES,
    TABLE_HEADER,
    FormSpec,
    basic_fields,
    direction_text,
    make_docx,
    make_eml,
    make_uscc,
    outcome_text,
    table_rows,
    task_text,
    title,
    to_pdf,
)

DPI = 200  # a page as printed and looked at: A4 is 1654 × 2339
RED = (214, 38, 46)  # 印泥: vermilion


# -- the form, as typed -----------------------------------------------------------------------------


def form_docx(spec: FormSpec) -> bytes:
    """Four pages: cover · 填报说明 · 一、基本情况 · 二、揭榜任务 + 信用承诺."""
    document = docx.Document()
    document.add_paragraph("附件1")
    for _ in range(4):
        document.add_paragraph("")
    document.add_paragraph(title(spec))
    for _ in range(6):
        document.add_paragraph("")
    document.add_paragraph(f"推荐单位：{spec.city}大数据局")
    document.add_paragraph("填报日期：2025年1月8日")
    document.add_page_break()
    document.add_paragraph("填报说明")
    document.add_paragraph("1．申报书内容应真实、准确，所附材料须加盖单位公章。")
    document.add_paragraph("2．请使用A4纸双面打印，左侧装订，一式三份。")
    document.add_paragraph("3．联合申报的，由揭榜单位统一报送。")
    document.add_page_break()
    document.add_paragraph("一、揭榜单位基本情况")
    table = document.add_table(rows=0, cols=2, style="Table Grid")
    rows = [("榜单方向", direction_text(spec)), ("揭榜任务名称", spec.task_name), *basic_fields(spec)]
    for label, value in rows:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, value
    for cell in table.columns[0].cells:
        cell.width = Cm(4)
    for cell in table.columns[1].cells:
        cell.width = Cm(11)
    document.add_paragraph("联合单位：" + ("、".join(spec.partners) or "无"))
    document.add_page_break()
    document.add_paragraph("二、揭榜任务")
    document.add_paragraph("（一）任务类别")
    document.add_paragraph(task_text(spec))
    document.add_paragraph("（二）总体目标")
    document.add_paragraph("到2025年底形成可推广的成果。")
    document.add_paragraph("（三）预期成果")
    document.add_paragraph(outcome_text(spec))
    document.add_paragraph("三、信用承诺")
    document.add_paragraph("本单位承诺所填内容真实有效。")
    document.add_paragraph("揭榜单位（盖章）：")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def table_docx(specs: list[FormSpec], city: str) -> bytes:
    """The 推荐汇总表 as cities type it: landscape, one row per recommendation."""
    document = docx.Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    document.add_paragraph("附件2")
    document.add_paragraph("2025年全省数据要素市场化配置改革揭榜挂帅推荐汇总表")
    document.add_paragraph(f"推荐单位（盖章）：{city}大数据局\u3000\u3000填报日期：2025年1月16日")
    table = document.add_table(rows=1, cols=len(TABLE_HEADER), style="Table Grid")
    for cell, text in zip(table.rows[0].cells, TABLE_HEADER, strict=True):
        cell.text = text
    for row in table_rows(specs):
        for cell, text in zip(table.add_row().cells, row, strict=True):
            cell.text = text
    widths = [1.3, 4.2, 1.6, 5.2, 4.0, 5.6, 3.0]
    for column, width in zip(table.columns, widths, strict=True):
        for cell in column.cells:
            cell.width = Cm(width)
    document.add_paragraph("联系人：王五\u3000\u3000联系电话：0531-1234567")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@dataclass
class Printed:
    """A document printed: its pages as pictures, and where given words stand on them."""

    pdf: bytes
    pages: list[Image.Image]

    def box(self, page: int, text: str) -> tuple[int, int, int, int]:
        """Pixel box (left, top, right, bottom) of *text* on *page* (as rendered at DPI)."""
        import pypdfium2 as pdfium

        document = pdfium.PdfDocument(self.pdf)
        try:
            pdf_page = document[page]
            height = pdf_page.get_height()
            textpage = pdf_page.get_textpage()
            found = textpage.search(text, match_case=True).get_next()
            if found is None:
                raise LookupError(f"{text!r} is not on page {page + 1}")
            start, count = found
            boxes = [textpage.get_charbox(i) for i in range(start, start + count)]
        finally:
            document.close()
        scale = DPI / 72
        left = min(b[0] for b in boxes) * scale
        right = max(b[2] for b in boxes) * scale
        top = (height - max(b[3] for b in boxes)) * scale
        bottom = (height - min(b[1] for b in boxes)) * scale
        return round(left), round(top), round(right), round(bottom)


@cache
def _printed(data: bytes) -> Printed:
    pdfs = to_pdf([data])
    if pdfs is None:
        raise RuntimeError("LibreOffice (soffice) is needed to print the forms")
    return Printed(pdfs[0], render(pdfs[0]))


def printed_form(spec: FormSpec) -> Printed:
    return _printed(form_docx(spec))


def printed_table(specs: tuple[FormSpec, ...], city: str) -> Printed:
    return _printed(table_docx(list(specs), city))


def render(pdf: bytes, dpi: int = DPI) -> list[Image.Image]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return [document[i].render(scale=dpi / 72).to_pil().convert("RGB") for i in range(len(document))]
    finally:
        document.close()


# -- a seal ------------------------------------------------------------------------------------------


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(CJK_FONT, size)


def seal(words: str, radius: int = 170) -> Image.Image:
    """A round 公章 as a bureau's or a company's seal is cut: a thick red ring, the unit's
    name in bold characters around its top, a large star in the middle, "公章" below;
    white elsewhere (it is multiplied onto a page: ink over ink stays dark, as with a real
    stamp). 4.2 cm across at 200 dpi is a radius of ~165 px."""
    size = 2 * radius + 20
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    c = size / 2
    draw.ellipse((c - radius, c - radius, c + radius, c + radius), outline=RED, width=max(8, radius // 14))
    star = [
        (c + (radius * (0.34 if i % 2 == 0 else 0.13)) * math.sin(i * math.pi / 5),
         c - (radius * (0.34 if i % 2 == 0 else 0.13)) * math.cos(i * math.pi / 5))
        for i in range(10)
    ]  # fmt: skip
    draw.polygon(star, fill=RED)
    font = _font(max(16, round(radius / 3.6)))
    letters = words[:16]
    span = math.radians(250)
    for i, ch in enumerate(letters):
        angle = -span / 2 + span * (i + 0.5) / len(letters)
        glyph = Image.new("RGBA", (radius // 2, radius // 2), (255, 255, 255, 0))
        ImageDraw.Draw(glyph).text((2, 2), ch, font=font, fill=RED, stroke_width=2, stroke_fill=RED)
        glyph = glyph.rotate(-math.degrees(angle), expand=True)
        x = c + (radius * 0.7) * math.sin(angle) - glyph.width / 2
        y = c - (radius * 0.7) * math.cos(angle) - glyph.height / 2
        image.paste(glyph, (round(x), round(y)), glyph)
    draw.text((c - radius * 0.32, c + radius * 0.36), "公章", font=_font(max(16, radius // 4)), fill=RED,
              stroke_width=1, stroke_fill=RED)  # fmt: skip
    return image


def stamp_over(page: Image.Image, boxes: list[tuple[int, int, int, int]], words: str) -> Image.Image:
    """*page* with a seal stamped over the middle of *boxes*, its ring crossing their text."""
    top = min(b[1] for b in boxes)
    bottom = max(b[3] for b in boxes)
    radius = max(165, round((bottom - top) * 0.9))
    mark = seal(words, radius)
    # over the first box's text, a little to its right: the ring and the name cross the
    # lines around it, the star sits on the text (where a clerk presses it)
    first = boxes[0]
    cx, cy = (first[0] + first[2]) // 2 + 40, (first[1] + bottom) // 2
    layer = Image.new("RGB", page.size, "white")
    layer.paste(mark, (cx - mark.width // 2, cy - mark.height // 2))
    return ImageChops.multiply(page.convert("RGB"), layer)


# -- a photograph ----------------------------------------------------------------------------------


def photograph(page: Image.Image, *, seed: int = 1, tilt: float = 1.5, noise: float = 7.0,
               scale: float = 1.0) -> Image.Image:  # fmt: skip
    """The sheet lying on a desk, photographed from above: a darker surround, tilted by
    *tilt* degrees, lit from one side, with sensor noise and a touch of blur."""
    rng = random.Random(seed)
    sheet = page.convert("RGB")
    if scale != 1.0:
        sheet = sheet.resize((round(sheet.width * scale), round(sheet.height * scale)), Image.LANCZOS)
    margin = round(0.07 * sheet.height)
    canvas = Image.new("RGB", (sheet.width + 2 * margin, sheet.height + 2 * margin), (92, 84, 76))
    canvas.paste(sheet, (margin, margin))
    canvas = canvas.rotate(tilt * (1 if rng.random() < 0.5 else -1), resample=Image.BICUBIC,
                           fillcolor=(92, 84, 76))  # fmt: skip
    pixels = np.asarray(canvas, dtype=np.float32)
    height, width = pixels.shape[:2]
    # light falls off across the sheet (a lamp on one side), warm and a little grey
    ramp = np.linspace(1.0, 0.82, width, dtype=np.float32)[None, :, None]
    pixels = pixels * ramp * np.array([1.0, 0.97, 0.92], dtype=np.float32)
    pixels += np.random.default_rng(seed).normal(0.0, noise, pixels.shape).astype(np.float32)
    photo = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    return photo.filter(ImageFilter.GaussianBlur(0.6))


def turned(image: Image.Image, degrees: int) -> Image.Image:
    """*image* turned *degrees* clockwise (as a scanner fed the sheet sideways makes it)."""
    return image.rotate(-degrees, expand=True) if degrees % 360 else image


# EXIF Orientation → how the stored pixels were turned from the upright picture
_STORED = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}


def jpeg(image: Image.Image, *, quality: int = 80, orientation: int | None = None,
         taken: str | None = None) -> bytes:  # fmt: skip
    """JPEG bytes. *orientation*: store the pixels as a phone's sensor does and say in the
    EXIF Orientation tag how to show them (6: turn 90° clockwise to view); *taken*: EXIF
    DateTimeOriginal ("2025:01:10 09:31:12")."""
    exif = Image.Exif()
    if orientation is not None:
        image = image.transpose(_STORED[orientation]) if orientation in _STORED else image
        exif[0x0112] = orientation
    if taken is not None:
        exif.get_ifd(0x8769)[0x9003] = taken
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality, exif=exif.tobytes())
    return out.getvalue()


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def heic(image: Image.Image, quality: int = 80) -> bytes:
    """An iPhone's HEIC photo (pillow-heif encodes it)."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    out = io.BytesIO()
    image.convert("RGB").save(out, "HEIF", quality=quality)
    return out.getvalue()


def tiff(pages: list[Image.Image]) -> bytes:
    """A multi-page TIFF (a scanner's "one file" setting)."""
    out = io.BytesIO()
    first, *rest = [p.convert("RGB") for p in pages]
    first.save(out, "TIFF", save_all=True, append_images=rest, compression="tiff_jpeg", dpi=(DPI, DPI))
    return out.getvalue()


def scanned_pdf(pages: list[Image.Image], dpi: int = 150) -> bytes:
    """Pictures of pages as one image-only PDF (a scanner's output)."""
    scale = dpi / DPI
    images = [p.convert("RGB").resize((round(p.width * scale), round(p.height * scale))) for p in pages]
    out = io.BytesIO()
    images[0].save(out, "PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return out.getvalue()


def direction_label(n: int) -> str:
    return f"（{CN[n - 1]}）{NAMES[n]}"


# -- the cases: mails of photos and scans, each with what a reader must find ------------------------

JINAN = FormSpec(unit="山东云图数据科技有限公司", uscc=make_uscc("370102", body="MA3C4D5E6"), direction=2,
                 nature="省属企业", city="济南市", task_name="企业数据合规管理工具研发与应用")  # fmt: skip
ZIBO_FORMS = (
    FormSpec(unit="淄博智数信息技术有限公司", uscc=make_uscc("370303", body="MA3Y1B2C3"), direction=2,
             nature="民营企业", city="淄博市", task_name="工业数据治理平台"),
    FormSpec(unit="山东齐鲁数安科技有限公司", uscc=make_uscc("370304", body="MA3Y4B5C6"), direction=8,
             nature="民营企业", city="淄博市", task_name="数据安全审计体系"),
)  # fmt: skip
ZIBO_SENDER = "zibo-dsj@dsj.zibo.example"
APPLICANT = "wangxm@yuntu.example.cn"
# 揭榜单位 and 统一社会信用代码 stand on the third page (一、揭榜单位基本情况)
BASIC_PAGE = 2


@dataclass
class PhotoCase:
    """One mail and what a careful reader finds in it."""

    kind: str  # pages | orientation | seal | table
    build: Callable[[], bytes]
    codes: set[str]  # exactly the codes the mail deserves
    applications: list[dict[str, Any]] = field(default_factory=list)  # fields, in order
    recommendations: list[tuple[str, int, int]] = field(default_factory=list)  # unit, direction, rank
    pages: int = 0  # pages OCR reads (about): the slow ones are marked in the tests
    documents: list[list[str]] | None = None  # each application's files, in page order


def form_pages(spec: FormSpec = JINAN, *, sealed: bool = False) -> list[Image.Image]:
    """The four pages of *spec*'s form as printed; *sealed*: the unit's 公章 stamped over
    its name and credit code on the basic-information page."""
    printed = printed_form(spec)
    pages = list(printed.pages)
    if sealed:
        boxes = [printed.box(BASIC_PAGE, spec.unit), printed.box(BASIC_PAGE, spec.uscc)]
        pages[BASIC_PAGE] = stamp_over(pages[BASIC_PAGE], boxes, spec.unit)
    return pages


def expected(spec: FormSpec = JINAN) -> dict[str, Any]:
    nature = {"省属企业": "provincial", "中央驻鲁企业": "central"}.get(spec.nature, "other")
    return {"unit": spec.unit, "uscc": spec.uscc, "direction": spec.direction, "unit_nature": nature}


def _mail(attachments: list[tuple[str, bytes]], *, sender: str = APPLICANT,
          subject: str = "揭榜挂帅申报书（山东云图数据科技有限公司）") -> bytes:  # fmt: skip
    return make_eml(sender=sender, subject=subject, attachments=attachments,
                    body="您好，附件是我单位的揭榜挂帅申报书（手机拍照），请查收。")  # fmt: skip


def _photos(pages: list[Image.Image], names: list[str], *, order: list[int] | None = None,
            orientation: int | None = None, turn: int = 0, taken: bool = False) -> bytes:  # fmt: skip
    files = []
    for index, (page, name) in enumerate(zip(pages, names, strict=True)):
        photo = turned(photograph(page, seed=index + 1), turn)
        stamp = f"2025:01:10 09:3{index}:12" if taken else None
        files.append((name, jpeg(photo, orientation=orientation, taken=stamp)))
    return _mail([files[i] for i in (order or range(len(files)))])


def _scan(pages: list[Image.Image], turn: int = 0, name: str = "申报书（盖章扫描件）.pdf") -> bytes:
    return _mail([(name, scanned_pdf([turned(p, turn) for p in pages]))])


def _package(table: list[tuple[str, bytes]], specs: tuple[FormSpec, ...] = ZIBO_FORMS) -> bytes:
    """A Zibo bureau package: each form as Word and as PDF, and the table as given."""
    words = [make_docx(s) for s in specs]
    pdfs = to_pdf(words) or []
    files: list[tuple[str, bytes]] = []
    for spec, word, pdf in zip(specs, words, pdfs, strict=True):
        files += [(f"{spec.unit}-申报书.docx", word), (f"{spec.unit}-申报书（盖章）.pdf", pdf)]
    return _mail(files + table, sender=ZIBO_SENDER, subject="淄博市大数据局揭榜挂帅推荐材料")


def table_picture(specs: tuple[FormSpec, ...] = ZIBO_FORMS, city: str = "淄博市",
                  sealed: bool = True) -> Image.Image:  # fmt: skip
    printed = printed_table(specs, city)
    page = printed.pages[0]
    if sealed:  # the bureau's seal over its name in the heading
        page = stamp_over(page, [printed.box(0, f"{city}大数据局")], f"{city}大数据局")
    return page


def _ranks(specs: tuple[FormSpec, ...]) -> list[tuple[str, int, int]]:
    seen: dict[int, int] = {}
    out = []
    for spec in specs:
        direction = spec.direction if isinstance(spec.direction, int) else 0
        seen[direction] = seen.get(direction, 0) + 1
        out.append((spec.unit, direction, seen[direction]))
    return out


def _blurred(image: Image.Image) -> Image.Image:
    """A photo taken in a hurry: out of focus and far away (nothing can be read)."""
    small = image.resize((image.width // 6, image.height // 6)).filter(ImageFilter.GaussianBlur(3))
    return small.resize(image.size)


NUMBERED = [f"申报书{i}.jpg" for i in range(1, 5)]
CHINESE = [f"扫描件_第{n}页.png" for n in "一二三四"]
PHONE = [f"IMG_20250110_09311{i}.jpg" for i in range(4)]
IPHONE = [f"IMG_{4821 + i}.HEIC" for i in range(4)]
FOUR = list(range(4))
QUICK = [0, BASIC_PAGE, 3]  # the cover, the basic information, the tasks


def _pick(items: list[Any], picked: list[int]) -> list[Any]:
    return [items[i] for i in picked]


CASES: dict[str, PhotoCase] = {
    # 1. several pictures of one form are the pages of one document
    "photos_numbered": PhotoCase(
        "pages", lambda: _photos(form_pages(), NUMBERED, order=[2, 0, 3, 1]),
        {"OCR_USED"}, [expected()], pages=4, documents=[NUMBERED]),
    "photos_quick": PhotoCase(
        "pages", lambda: _photos(_pick(form_pages(), QUICK), _pick(PHONE, [0, 1, 2])),
        {"OCR_USED"}, [expected()], pages=3, documents=[_pick(PHONE, [0, 1, 2])]),
    "scans_chinese_page_names": PhotoCase(
        "pages", lambda: _mail([(n, png(p)) for n, p in reversed(list(zip(CHINESE, form_pages(), strict=True)))]),
        {"OCR_USED"}, [expected()], pages=4, documents=[CHINESE]),
    "multipage_tiff": PhotoCase(
        "pages", lambda: _mail([("申报书扫描.tif", tiff(form_pages()))]),
        {"OCR_USED"}, [expected()], pages=4, documents=[["申报书扫描.tif"]]),
    "photos_heic": PhotoCase(
        "pages", lambda: _mail([(n, heic(photograph(p, seed=i))) for i, (n, p) in enumerate(zip(IPHONE, form_pages(), strict=True))]),
        {"OCR_USED"}, [expected()], pages=4, documents=[IPHONE]),
    "photos_with_licence": PhotoCase(
        "pages", lambda: _mail([(n, jpeg(photograph(p, seed=i)))
                                for i, (n, p) in enumerate(zip(PHONE, form_pages(), strict=True))]
                               + [("营业执照.jpg", jpeg(photograph(_licence(), seed=9)))]),
        {"OCR_USED"}, [expected()], pages=5, documents=[PHONE]),
    # 2. orientation: scanner turns, a phone's EXIF tag, a photo taken sideways
    "scan_turned_90": PhotoCase(
        "orientation", lambda: _scan(form_pages(), 90), {"OCR_USED"}, [expected()], pages=3),
    "scan_turned_270_quick": PhotoCase(
        "orientation", lambda: _scan(_pick(form_pages(), [BASIC_PAGE]), 270), {"OCR_USED"}, [expected()], pages=1),
    "scan_turned_180": PhotoCase(
        "orientation", lambda: _scan(form_pages(), 180), {"OCR_USED"}, [expected()], pages=3),
    "scan_turned_180_quick": PhotoCase(
        "orientation", lambda: _scan(_pick(form_pages(), [BASIC_PAGE]), 180), {"OCR_USED"}, [expected()], pages=1),
    "photos_exif_orientation": PhotoCase(
        "orientation", lambda: _photos(form_pages(), PHONE, orientation=6, taken=True),
        {"OCR_USED"}, [expected()], pages=4, documents=[PHONE]),
    "photo_sideways": PhotoCase(
        "orientation", lambda: _photos(_pick(form_pages(), [BASIC_PAGE]), ["申报书.jpg"], turn=90),
        {"OCR_USED"}, [expected()], pages=1),
    # 3. a red seal over the unit's name and credit code
    "sealed_photos": PhotoCase(
        "seal", lambda: _photos(form_pages(sealed=True), PHONE), {"OCR_USED"}, [expected()], pages=4,
        documents=[PHONE]),
    "sealed_scan_quick": PhotoCase(
        "seal", lambda: _scan(_pick(form_pages(sealed=True), [BASIC_PAGE])), {"OCR_USED"}, [expected()], pages=1),
    # 4. a 推荐汇总表 only as a picture
    "table_photo": PhotoCase(
        "table", lambda: _package([("推荐汇总表.jpg", jpeg(photograph(table_picture(), seed=5)))]),
        set(), [expected(s) for s in ZIBO_FORMS], _ranks(ZIBO_FORMS), pages=1),
    "table_scanned_pdf": PhotoCase(
        "table", lambda: _package([("推荐汇总表（盖章）.pdf", scanned_pdf([table_picture()]))]),
        set(), [expected(s) for s in ZIBO_FORMS], _ranks(ZIBO_FORMS), pages=1),
    "table_photo_unreadable": PhotoCase(
        "table", lambda: _package([("推荐汇总表.jpg", jpeg(_blurred(photograph(table_picture(), seed=6))))]),
        {"OCR_USED"}, [expected(s) for s in ZIBO_FORMS], [], pages=1),
    "table_photo_lists_a_missing_form": PhotoCase(
        "table", lambda: _package([("推荐汇总表.jpg", jpeg(photograph(table_picture(), seed=7)))], ZIBO_FORMS[:1]),
        {"TABLE_MISMATCH"}, [expected(ZIBO_FORMS[0])], _ranks(ZIBO_FORMS), pages=1),
}


def _licence() -> Image.Image:
    """A 营业执照 as photographed for the package (its words, not the form's)."""
    image = Image.new("RGB", (1654, 1169), (250, 246, 236))
    draw = ImageDraw.Draw(image)
    draw.text((620, 80), "营业执照", font=_font(90), fill=(150, 30, 30))
    lines = [f"统一社会信用代码 {JINAN.uscc}", f"名称 {JINAN.unit}", "类型 有限责任公司",
             "法定代表人 张三", "经营范围 数据处理服务", "住所 山东省济南市历下区经十路100号"]  # fmt: skip
    for index, line in enumerate(lines):
        draw.text((160, 300 + index * 110), line, font=_font(44), fill="black")
    return image
