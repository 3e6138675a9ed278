"""PDFs and images: handwritten tiny PDFs (fast) and rasterised scans (no text layer)."""

from __future__ import annotations

import io
import os

from PIL import Image, ImageDraw, ImageFont

CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


def text_pdf(pages: list[str], *, encrypted: bool = False) -> bytes:
    """A valid PDF with one Helvetica text page per entry (ASCII text)."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in once the page tree's number is known
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    page_ids = []
    contents: dict[str, int] = {}
    for text in pages:
        if text not in contents:  # identical pages share a stream: 900 pages stay small
            ops = b"".join(b"(" + _escape(line) + b") Tj T* " for line in text.splitlines())
            stream = b"BT /F1 14 Tf 72 740 Td 18 TL " + ops + b"ET"
            contents[text] = add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        page_ids.append(add(b""))
    tree = add(b"")
    for pid, text in zip(page_ids, pages, strict=True):
        objects[pid - 1] = (
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (tree, contents[text], font)
        )
    kids = b" ".join(b"%d 0 R" % pid for pid in page_ids)
    objects[tree - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_ids))
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % tree
    trailer = b""
    if encrypted:
        # Standard handler R2 with a user password: the /U check fails for the
        # empty password, which is all a reader needs to demand one.
        enc = add(
            b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P -4 >>"
            % (os.urandom(32).hex().encode(), os.urandom(32).hex().encode())
        )
        ident = os.urandom(16).hex().encode()
        trailer = b" /Encrypt %d 0 R /ID [<%s> <%s>]" % (enc, ident, ident)
    return _assemble(objects, catalog, trailer)


def _escape(line: str) -> bytes:
    return (
        line.encode("latin-1", "replace")
        .replace(b"\\", b"\\\\")
        .replace(b"(", b"\\(")
        .replace(b")", b"\\)")
    )


def _assemble(objects: list[bytes], root: int, trailer_extra: bytes) -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R%s >>\n" % (len(objects) + 1, root, trailer_extra))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def page_image(lines: list[str], size: tuple[int, int] = (1654, 2339)) -> Image.Image:
    """An A4 page at 200 dpi with Chinese text drawn on it, as a scanner would deliver."""
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(CJK_FONT, 56)
    for index, line in enumerate(lines):
        draw.text((150, 200 + index * 130), line, font=font, fill=0)
    return image


def scanned_pdf(pages: list[list[str]]) -> bytes:
    """A PDF whose pages are only pictures (no text layer)."""
    images = [page_image(lines).convert("RGB") for lines in pages]
    out = io.BytesIO()
    images[0].save(out, "PDF", resolution=200, save_all=True, append_images=images[1:])
    return out.getvalue()


def png(lines: list[str], size: tuple[int, int] = (1654, 1000)) -> bytes:
    out = io.BytesIO()
    page_image(lines, size).save(out, "PNG")
    return out.getvalue()
