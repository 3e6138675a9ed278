"""Open every attachment into a :class:`Document`; never raise.

Order of the result: each attachment in mail order, an archive followed by its
members (depth first). ``container`` of a member is the *outermost* archive's
name, or the ``container`` the attachment already had (a forwarded message).

Forwarded messages were already expanded by :func:`intake.mime.parse_message`,
so a top-level ``.eml`` is read for its body text only; an ``.eml`` found
inside an archive is expanded here.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from intake.charsets import decode_bytes
from intake.documents import archives, office
from intake.documents.docx import WordContent, read_docx
from intake.documents.errors import DocumentError, Encrypted, LimitExceeded, Unreadable
from intake.documents.htmltext import html_to_text
from intake.documents.images import read_page
from intake.documents.limits import Budget, Deadline, Limits, MiB
from intake.documents.ocr import MAX_SIDE, OcrUnavailable, loading
from intake.documents.pages import Picture, bind_pages
from intake.documents.pdf import PdfContent, read_pdf
from intake.documents.sheets import SheetContent, read_xls, read_xlsx
from intake.documents.sniff import OLE_MAGIC, extension, is_heif, ole_encrypted, ole_streams, sniff
from intake.documents.stamps import saved_at
from intake.documents.tnef import TNEF_MAGIC, TnefError, expand_tnef
from intake.mime import Attachment, parse_message
from intake.model import Document

log = logging.getLogger(__name__)

_TEXT_EXTENSIONS = {"txt", "csv", "htm", "html"}
# the note on a picture (readable, a scan) that OCR could not read for want of memory
OCR_SHORT_OF_MEMORY = "扫描件未能识别（系统内存不足），需人工核对"
_OFFICE_OTHER = {"odt": "docx", "ott": "docx", "rtf": "docx", "ods": "xlsx"}


@dataclass
class _Item:
    name: str
    data: bytes
    container: str | None
    depth: int  # 0 for an attachment of the mail, +1 per archive or message around it
    content_type: str = ""
    expand_eml: bool = False


def open_attachments(
    attachments: Iterable[Attachment], limits: Limits = Limits(), *, include_inline: bool = False
) -> list[Document]:
    """One Document per attachment and per archive member; see the module doc."""
    opener = _Opener(limits)
    for attachment in attachments:
        if attachment.inline and not include_inline:
            continue  # logos and signatures shown in the body are not submitted documents
        opener.open(
            _Item(
                attachment.name, attachment.data, attachment.container, 0, attachment.content_type
            )
        )
    opener.finish_office()
    bind_pages(opener.documents, opener.pictures)
    return opener.documents


class _Opener:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.budget = Budget(limits)
        self.documents: list[Document] = []
        self.office: list[tuple[Document, office.Job]] = []
        self.pictures: dict[int, Picture] = {}  # image Documents by id(): size, when taken

    def open(self, item: _Item) -> None:
        data = item.data
        doc = Document(
            name=item.name,
            format=sniff(data, item.name, item.content_type),
            container=item.container,
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
        )
        self.documents.append(doc)
        # The mail's own attachments are always opened (the MIME parser bounds how
        # many); files inside archives and forwarded mail count against the call.
        if not self.budget.take_document() and item.depth > 0:
            limit = self.limits.max_documents
            _fail(doc, LimitExceeded(f"邮件中的文件（含压缩包内文件）超过 {limit} 个上限，未读取"))
            return
        try:
            self._read(doc, item, Deadline(self.limits.seconds_per_document))
            doc.modified = saved_at(data, doc.format)  # which of two versions is the later
        except DocumentError as exc:
            _fail(doc, exc)
        except (MemoryError, RecursionError) as exc:
            _fail(doc, LimitExceeded(f"文件结构过于复杂，无法读取（{type(exc).__name__}）"))
        except Exception as exc:  # the edge: one hostile file must not sink the mail
            log.exception("unexpected failure opening %r", item.name)
            _fail(doc, Unreadable(f"文件无法读取（{type(exc).__name__}）"))
        doc.text = doc.text[: self.limits.max_text_chars]

    def _read(self, doc: Document, item: _Item, deadline: Deadline) -> None:
        fmt, data = doc.format, item.data
        if not data:
            raise Unreadable("文件为空（0 字节）")
        if fmt in ("docx", "xlsx"):
            if data.startswith(OLE_MAGIC):
                raise Encrypted() if ole_encrypted(data) else Unreadable("文件已损坏，无法打开")
            archives.check_package(data, self.limits, deadline)
            if fmt == "docx":
                _fill(doc, read_docx(data, deadline))
            else:
                _fill(doc, read_xlsx(data, self.limits, deadline))
        elif fmt in ("doc", "wps"):
            if data.startswith(OLE_MAGIC):
                _check_word_ole(data, fmt)  # cheap: spares a LibreOffice start on junk
            self.office.append((doc, office.Job(data, extension(item.name) or fmt, "docx")))
        elif fmt == "xls":
            self._read_xls(doc, item, deadline)
        elif fmt == "pdf":
            pdf = read_pdf(data, self.budget, deadline)
            _fill(doc, pdf)
            doc.scanned, doc.layout = pdf.scanned, pdf.layout
        elif fmt == "image":
            self._read_image(doc, data)
        elif fmt in ("zip", "rar", "7z"):
            self._read_archive(doc, item, deadline)
        elif fmt == "eml":
            self._read_eml(doc, item)
        else:
            self._read_other(doc, item)

    def _read_xls(self, doc: Document, item: _Item, deadline: Deadline) -> None:
        try:
            _fill(doc, read_xls(item.data, self.limits, deadline))
        except Encrypted:
            raise
        except Unreadable:
            # WPS 表格 and odd BIFF writers trip xlrd; LibreOffice reads them.
            self.office.append((doc, office.Job(item.data, extension(item.name) or "xls", "xlsx")))

    def _read_image(self, doc: Document, data: bytes) -> None:
        """A photo or scan: every frame a page (a multi-page TIFF), each turned upright,
        its red seal faded and read (intake.documents.images)."""
        doc.scanned, doc.pages = True, 1
        if is_heif(data):
            _heif_opener()
        try:
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size  # from the header: nothing decoded yet
                if width * height > self.limits.max_image_pixels:
                    raise LimitExceeded("图片尺寸异常巨大，未读取")
                frames = getattr(image, "n_frames", 1) or 1
                doc.pages = frames
                taken = _taken(image)
                oriented = _orientation(image)
                texts, turn = [], 0
                for index in range(frames):
                    if index:
                        image.seek(index)
                        if image.size[0] * image.size[1] > self.limits.max_image_pixels:
                            raise LimitExceeded("图片尺寸异常巨大，未读取")
                    if not self.budget.take_ocr_page():
                        break
                    page = self._page_of(image, oriented if index == 0 else None)
                    reading = read_page(page, turn=turn)  # a TIFF's pages turned alike
                    turn = reading.turn
                    del page
                    texts.append(reading.text)
                    if reading.layout is not None:
                        doc.layout.append(reading.layout)
                doc.text = "\n".join(texts)
                self.pictures[id(doc)] = Picture(width, height, taken)
        except Image.DecompressionBombError as exc:
            raise LimitExceeded("图片尺寸异常巨大，未读取") from exc
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
            raise Unreadable("图片已损坏或格式无法识别") from exc
        except (OcrUnavailable, MemoryError) as exc:
            # within the pixel limit, memory ran short for decoding or OCR: ours, not the
            # sender's. The picture stays readable, a scan nobody read (staff look at it:
            # OCR_USED); the note says why (understand takes it as the form if there is none)
            log.warning("image %r left unread: %s", doc.name, type(exc).__name__)
            doc.text, doc.error, doc.layout = "", OCR_SHORT_OF_MEMORY, []

    @staticmethod
    def _page_of(image: Image.Image, orientation: int | None) -> Image.Image:
        """The current frame decoded, no larger than OCR reads it, shown upright."""
        width, height = image.size
        if max(width, height) > MAX_SIDE and image.format == "JPEG":
            # OCR shrinks it to MAX_SIDE anyway; a JPEG can be decoded at 1/2..1/8
            # scale right away, at a fraction of the memory
            scale = MAX_SIDE / max(width, height)
            image.draft(None, (int(width * scale) + 1, int(height * scale) + 1))
        image.load()
        page = image.convert("RGB") if image.mode not in ("RGB", "L") else image.copy()
        if max(page.size) > MAX_SIDE:
            page.thumbnail((MAX_SIDE, MAX_SIDE))
        if orientation in _TURNS:
            page = page.transpose(_TURNS[orientation])
        return page

    def _read_archive(self, doc: Document, item: _Item, deadline: Deadline) -> None:
        if item.depth >= self.limits.max_depth:
            raise LimitExceeded(f"压缩包嵌套超过 {self.limits.max_depth} 层，未解压")
        members = archives.unpack(item.data, doc.format, self.limits, self.budget, deadline)
        container = item.container or item.name
        # Each member is opened before the next is unpacked: one in memory at a time
        # (hence the del below, and in the generators of archives).
        for member in members:
            if member.error is not None:
                failed = Document(
                    name=member.name, format=sniff(b"", member.name), container=container
                )
                _fail(failed, member.error)
                self.documents.append(failed)
                self.budget.take_document()
            else:
                self.open(
                    _Item(member.name, member.data, container, item.depth + 1, expand_eml=True)
                )
            del member  # let the member's bytes go before the next one is unpacked

    def _read_eml(self, doc: Document, item: _Item) -> None:
        parsed = parse_message(item.data)
        doc.text = "\n".join(filter(None, [parsed.envelope.subject, parsed.text]))
        if not item.expand_eml:
            return
        if item.depth >= self.limits.max_depth:
            raise LimitExceeded(f"邮件嵌套超过 {self.limits.max_depth} 层，未展开")
        container = item.container or item.name
        for attachment in parsed.attachments:
            if attachment.inline:
                continue
            self.open(
                _Item(
                    attachment.name,
                    attachment.data,
                    container,
                    item.depth + 1,
                    attachment.content_type,
                )
            )

    def _read_other(self, doc: Document, item: _Item) -> None:
        ext = extension(item.name)
        if ext in _OFFICE_OTHER:
            self.office.append((doc, office.Job(item.data, ext, _OFFICE_OTHER[ext])))
        elif ext in _TEXT_EXTENSIONS:
            doc.text = self._read_text(item.data, html=ext.startswith("htm"))
        elif item.data.startswith(TNEF_MAGIC):
            self._read_tnef(item)
        else:
            raise Unreadable("无法识别的文件格式")

    def _read_text(self, data: bytes, *, html: bool) -> str:
        """Decode at most ``max_text_bytes``: charset detection and str copies of a
        40 MB file cost over a gigabyte, and no cover letter is that long."""
        cap = self.limits.max_text_bytes
        if len(data) <= cap:
            text = decode_bytes(data)
            return html_to_text(text) if html else text
        head = data[:cap]
        # Cut at a line end: never inside a UTF-8/GBK character, or the strict decoders
        # would reject the whole head and a wrong guess would be made.
        newline = head.rfind(b"\n", cap - 64 * 1024)
        head = head[: newline + 1] if newline > 0 else _utf8_boundary(head)
        text = decode_bytes(head).removesuffix("\ufffd")  # a GBK character cut in two
        text = html_to_text(text) if html else text
        note = (
            f"\n（文件共 {len(data) / MiB:.0f} MB，只读取了前 {len(head) / MiB:.0f} MB，"
            "其余部分未读取）"
        )
        return text[: self.limits.max_text_chars - len(note)] + note

    def _read_tnef(self, item: _Item) -> None:
        """A winmail.dat that reached us inside an archive (mime expands top-level ones)."""
        if item.depth >= self.limits.max_depth:
            raise LimitExceeded(f"压缩包嵌套超过 {self.limits.max_depth} 层，未解压")
        try:
            files = expand_tnef(item.data)
        except TnefError as exc:
            raise Unreadable(str(exc)) from exc
        for name, data in files:
            self.open(_Item(name, data, item.container or item.name, item.depth + 1))

    def finish_office(self) -> None:
        """Convert every queued legacy file in one LibreOffice run, then read the results."""
        if not self.office:
            return
        jobs = [job for _, job in self.office]
        results = office.convert(jobs, self.limits.office_seconds)
        for (doc, job), result in zip(self.office, results, strict=True):
            if isinstance(result, DocumentError):
                _fail(doc, result)
                continue
            deadline = Deadline(self.limits.seconds_per_document)
            try:
                # LibreOffice's output of a hostile file is as hostile as its input
                archives.check_package(result, self.limits, deadline)
                if job.target == "docx":
                    _fill(doc, read_docx(result, deadline))
                else:
                    _fill(doc, read_xlsx(result, self.limits, deadline))
            except DocumentError as exc:
                _fail(doc, exc)
            doc.text = doc.text[: self.limits.max_text_chars]
        self.office.clear()


# EXIF Orientation → the transpose that shows the picture as the camera was held
_TURNS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


_HEIF: list[bool] = []  # whether the HEIF opener is registered (tried once per process)


def _heif_opener() -> None:
    """Teach Pillow to open HEIC/HEIF photos (pillow-heif), once, on the first one met;
    libheif is mapped like OCR's libraries, inside the context a worker widens for them.
    Without it a HEIC photo is a picture Pillow cannot identify (Unreadable)."""
    if _HEIF:
        return
    _HEIF.append(False)
    try:
        with loading():
            from pillow_heif import register_heif_opener

            register_heif_opener()
        _HEIF[0] = True
    except Exception:  # not installed, or no room to map it: the photo stays unread
        log.warning("HEIC photos cannot be opened (pillow-heif)", exc_info=True)


def _orientation(image: Image.Image) -> int | None:
    """The EXIF Orientation tag (1-8), read from the header (ImageOps.exif_transpose's
    reading, done here so the turn is made on the small decoded copy, not the original)."""
    try:
        value = image.getexif().get(0x0112)
    except Exception:  # a broken EXIF block: the pixels as stored
        return None
    return value if isinstance(value, int) else None


def _taken(image: Image.Image) -> str | None:
    """EXIF DateTimeOriginal ("2025:01:10 09:31:12"), or DateTime: when the photo was taken."""
    try:
        exif = image.getexif()
        value = exif.get_ifd(0x8769).get(0x9003) or exif.get(0x0132)
    except Exception:
        return None
    return value.strip("\x00 ") if isinstance(value, str) and value.strip("\x00 ") else None


def _check_word_ole(data: bytes, fmt: str) -> None:
    if ole_encrypted(data):
        raise Encrypted()
    streams = ole_streams(data)
    # .wps may also be Microsoft Works (no WordDocument stream), which LibreOffice reads.
    if not streams or (fmt == "doc" and "worddocument" not in streams):
        raise Unreadable("Word 文件已损坏或不完整，无法打开")


def _utf8_boundary(head: bytes) -> bytes:
    """``head`` less a UTF-8 character cut in two at its end."""
    for back in range(1, min(4, len(head)) + 1):
        byte = head[-back]
        if byte & 0xC0 == 0xC0:  # the lead byte of the last character
            length = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return head[:-back] if length > back else head
        if byte & 0xC0 != 0x80:  # ASCII: nothing was cut
            return head
    return head


def _fill(doc: Document, content: WordContent | SheetContent | PdfContent) -> None:
    doc.text = content.text
    doc.tables = content.tables
    doc.pages = getattr(content, "pages", 0)


def _fail(doc: Document, exc: DocumentError) -> None:
    doc.readable = False
    doc.error = str(exc)
    doc.text, doc.tables = "", []
