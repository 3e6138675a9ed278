"""Measure what a PDF's streams decode to, before pdfium or pdfminer decodes them.

Both libraries inflate a whole stream into memory when they need it (pdfium at
document open for object/xref streams, at page load for contents, forms and
fonts), and a 1 MB file can hold a stream that inflates to gigabytes. Here every
stream is found in the raw bytes and run through a decoder that counts and stops
at a budget, so a bomb is refused having cost at most that budget.

Images are not measured: pdfium decodes them row by row to their declared size,
and only for the few pages rendered for OCR.
"""

from __future__ import annotations

import io
import itertools
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pdfminer.ascii85 import ascii85decode
from pdfminer.lzw import LZWDecoder
from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser
from pdfminer.pdftypes import PDFStream, resolve1
from pdfminer.psparser import PSException

from intake.documents import bounded
from intake.documents.errors import DocumentError, Encrypted, LimitExceeded
from intake.documents.limits import Deadline, Limits, MiB

# "stream" as a keyword (not the tail of "endstream"), then its EOL, which pdfium does
# not insist on. Found as a plain literal first: a look-behind makes re crawl (~20 MB/s).
_STREAM = re.compile(rb"stream")
_EOL = re.compile(rb"\r\n|\n|\r")
_OBJ_HEAD = re.compile(rb"(\d{1,10})\s+(\d{1,5})\s+obj\b")
_DICT_WINDOW = 64 * 1024  # how far before "stream" its dictionary may start
_FILTER = re.compile(rb"/Filter\s*(\[[^\]]*\]|/[^\s/\[\]<>()%]+|\d+\s+\d+\s+R)")
_HEX_RUN = re.compile(rb"[0-9A-Fa-f\s]*")
_NAME = re.compile(rb"/([^\s/\[\]<>()%]+)")
_LENGTH = re.compile(rb"/Length\s+(\d+)(?:\s+(\d+)\s+R)?")
_INT_OBJECT = re.compile(rb"(?<!\d)(\d{1,10})\s+(\d{1,5})\s+obj\s*(\d{1,12})\s*endobj")
_IMAGE = re.compile(rb"/Subtype\s*/Image\b")
_XREF = re.compile(rb"/Type\s*/XRef\b")
_OBJSTM = re.compile(rb"/Type\s*/ObjStm\b")
_ENCRYPT = re.compile(rb"/Encrypt\s*(?:\d+\s+\d+\s+R|<<)")
# a name written with #xx escapes may spell /Encrypt too: worth asking pdfminer
_ESCAPED_NAME = re.compile(rb"/[^\s/<>\[\]()]*#[0-9A-Fa-f]{2}")
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_SHORT = {b"Fl": b"FlateDecode", b"AHx": b"ASCIIHexDecode", b"A85": b"ASCII85Decode",
          b"LZW": b"LZWDecode", b"RL": b"RunLengthDecode", b"DCT": b"DCTDecode",
          b"CCF": b"CCITTFaxDecode"}  # fmt: skip
# the last filter of an image is decoded row by row to the declared size, never whole
_IMAGE_CODECS = {b"FlateDecode", b"DCTDecode", b"JPXDecode", b"JBIG2Decode", b"CCITTFaxDecode",
                 b"RunLengthDecode"}  # fmt: skip
# pdfminer parses a whole object stream in Python to fetch one page dictionary from it
_PDFMINER_OBJSTM = 8 * MiB
_ERRORS = (zlib.error, ValueError, TypeError, IndexError, KeyError, EOFError, PSException)


@dataclass
class _Stream:
    start: int  # first byte of the stream's data
    objid: int | None
    genno: int
    head: bytes  # the dictionary text before "stream"


@dataclass
class StreamSizes:
    """What the scan learnt: decoded size per object number, and per page."""

    by_object: dict[int, int] = field(default_factory=dict)
    pages: list[int] | None = None  # content (+ forms) each page parses; None: unknown
    total: int = 0  # all streams measured: no page parses more than this
    largest_objstm: int = 0

    def page_at_most(self, index: int, bound: int) -> bool:
        """Whether page ``index`` is known to parse no more than ``bound`` bytes."""
        if self.total <= bound:
            return True
        return self.pages is not None and index < len(self.pages) and self.pages[index] <= bound


def measure(data: bytes, limits: Limits, deadline: Deadline) -> StreamSizes:
    """Raise :class:`LimitExceeded` if any stream, all streams together or one page's
    content decode beyond ``limits``; otherwise the sizes found."""
    scan = _Scan(data, limits, deadline)
    streams = _find_streams(data, deadline)
    # Plain first: this bounds the xref streams pdfminer inflates whole to find the
    # encryption dictionary (they are never encrypted), and streams left in the clear
    # inside an encrypted file (the Identity crypt filter).
    for stream in streams:
        scan.measure(stream, None)
    encrypted = _ENCRYPT.search(data) is not None
    # pdfminer decrypts, and knows the pages; it is skipped when no page can be big,
    # since rebuilding a broken xref of a 30 MB scan costs it a second
    document = None
    if encrypted or scan.total > limits.pdf_table_page_bytes or _ESCAPED_NAME.search(data):
        document = _pdfminer(data, encrypted)
    if document is not None and document.decipher is not None:
        for stream in streams:
            if stream.objid is not None and not _XREF.search(stream.head):
                scan.measure(stream, document.decipher)
    sizes = scan.sizes
    sizes.total = scan.total
    if document is not None and sizes.largest_objstm <= _PDFMINER_OBJSTM:
        sizes.pages = _page_sizes(document, sizes.by_object, limits.max_pdf_pages + 1, deadline)
    if sizes.pages is None and sizes.total > limits.max_pdf_page_bytes:
        # Pages unknown (pdfminer cannot read them): any one page might parse it all.
        raise LimitExceeded(
            f"PDF 结构无法核对，且内容解压后超过 {limits.max_pdf_page_bytes // MiB} MB，未读取"
        )
    for number, size in enumerate(sizes.pages or [], start=1):
        if size > limits.max_pdf_page_bytes:
            raise LimitExceeded(
                f"PDF 第 {number} 页内容解压后超过 {limits.max_pdf_page_bytes // MiB} MB，"
                "疑似压缩炸弹，未读取"
            )
    return sizes


def _find_streams(data: bytes, deadline: Deadline) -> list[_Stream]:
    streams: list[_Stream] = []
    previous = 0  # a dictionary does not reach back past the stream before it
    for count, match in enumerate(_STREAM.finditer(data)):
        if count % 1024 == 0:
            deadline.check()
        if match.start() and data[match.start() - 1 : match.start()].isalpha():
            continue  # "endstream"
        eol = _EOL.match(data, match.end())
        start = eol.end() if eol else match.end()
        begin = max(previous, match.start() - _DICT_WINDOW)
        previous = start
        window = data[begin : match.start()]
        heads = list(_OBJ_HEAD.finditer(window, max(0, window.rfind(b"obj") - 40)))
        if heads:  # "endobj" does not match: a stream after it has no header of its own
            head = heads[-1]
            streams.append(
                _Stream(start, int(head.group(1)), int(head.group(2)), _plain(window[head.end() :]))
            )
        else:  # no object header in reach: still measured, just not tied to a page
            streams.append(_Stream(start, None, 0, _plain(window[-4096:])))
    return streams


def _plain(head: bytes) -> bytes:
    """``head`` with names' #xx escapes undone: pdfium reads /Fl#61teDecode as FlateDecode."""
    if b"#" not in head:
        return head
    return _NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), head)


class _Scan:
    def __init__(self, data: bytes, limits: Limits, deadline: Deadline) -> None:
        self.data, self.view = data, memoryview(data)
        self.limits, self.deadline = limits, deadline
        self.sizes = StreamSizes()
        self.total = 0
        self._lengths: dict[bytes, int] | None = None

    def measure(self, stream: _Stream, decipher: Callable[..., bytes] | None) -> None:
        self.deadline.check()
        filters = _filters(stream.head)
        if _IMAGE.search(stream.head) and filters and filters[-1] in _IMAGE_CODECS:
            filters = filters[:-1]
        if not filters:
            return
        raw: bytes | memoryview
        if decipher is not None:
            assert stream.objid is not None
            try:
                raw = decipher(stream.objid, stream.genno, bytes(self._extent(stream)), None)
            except Exception:  # pdfminer's cipher on hostile bytes: not decryptable, not read
                return
        elif filters[0] == b"FlateDecode":
            # zlib stops at the end of its own data, so reading on to the end of the file
            # cannot be fooled by a /Length kept in an object stream or a fake "endstream"
            raw = self.view[stream.start :]
        else:
            raw = self._extent(stream)
        size = self._decode(raw, filters)
        if stream.objid is not None:
            previous = self.sizes.by_object.get(stream.objid, 0)
            self.sizes.by_object[stream.objid] = max(previous, size)
            if _OBJSTM.search(stream.head):
                self.sizes.largest_objstm = max(self.sizes.largest_objstm, size)

    def _extent(self, stream: _Stream) -> memoryview:
        """The stream's raw bytes: by /Length where it can be read, else to "endstream"."""
        length = self._length(stream.head)
        if length is not None and stream.start + length <= len(self.data):
            return self.view[stream.start : stream.start + length]
        end = self.data.find(b"endstream", stream.start)
        end = end if end >= 0 else len(self.data)
        if self.data[end - 2 : end] == b"\r\n":  # the EOL before "endstream" is not data
            end -= 2
        elif self.data[end - 1 : end] in (b"\n", b"\r"):
            end -= 1
        return self.view[stream.start : max(stream.start, end)]

    def _decode(self, raw: bytes | memoryview, filters: list[bytes]) -> int:
        limits = self.limits
        data: bytes | memoryview = raw
        for index, name in enumerate(filters):
            out = io.BytesIO() if index < len(filters) - 1 else None
            produced = 0
            try:
                chunks = _decoder(name, data)
                if chunks is None:
                    return 0  # an image codec or an unknown filter: pdfium treats it as data
                for chunk in chunks:
                    self.deadline.check()
                    produced += len(chunk)
                    self.total += len(chunk)
                    if produced > limits.max_pdf_stream_bytes:
                        raise LimitExceeded(
                            f"PDF 中有内容解压后超过 {limits.max_pdf_stream_bytes // MiB} MB，"
                            "疑似压缩炸弹，未读取"
                        )
                    if self.total > limits.max_pdf_decoded_bytes:
                        raise LimitExceeded(
                            f"PDF 内容解压后超过 {limits.max_pdf_decoded_bytes // MiB} MB，"
                            "疑似压缩炸弹，未读取"
                        )
                    if out is not None:
                        out.write(chunk)
            except _ERRORS:
                pass  # damaged data: pdfium, too, keeps what decoded before the damage
            if out is None:
                return produced
            data = out.getvalue()
        return len(data)

    def _length(self, head: bytes) -> int | None:
        found = _LENGTH.search(head)
        if found is None:
            return None
        if found.group(2) is None:
            return int(found.group(1))
        if self._lengths is None:  # one pass over the file, not one per stream
            self._lengths = {
                m.group(1) + b" " + m.group(2): int(m.group(3))
                for m in _INT_OBJECT.finditer(self.data)
            }
        return self._lengths.get(found.group(1) + b" " + found.group(2))


def _filters(head: bytes) -> list[bytes]:
    found = _FILTER.search(head)
    if found is None:
        return []
    value = found.group(1)
    if value.endswith(b"R"):
        return [b"FlateDecode"]  # an indirect filter: assume the one that can explode
    names = [_SHORT.get(n, n) for n in _NAME.findall(value)]
    return [n for n in names if n != b"Crypt"]


def _decoder(name: bytes, data: bytes | memoryview) -> Iterator[bytes] | None:
    if name == b"FlateDecode":
        return bounded.inflate(data)
    if name == b"LZWDecode":
        return LZWDecoder(io.BytesIO(bytes(data))).run()
    if name == b"ASCIIHexDecode":
        return iter([_hex(bytes(data))])  # never longer than its input
    if name == b"ASCII85Decode":
        return iter([ascii85decode(bytes(data))])
    if name == b"RunLengthDecode":
        return _run_length(data)
    return None


def _hex(data: bytes) -> bytes:
    """ASCIIHexDecode as pdfium reads it: up to ">" or the first other non-hex byte."""
    digits = re.sub(rb"\s+", b"", _HEX_RUN.match(data).group())  # type: ignore[union-attr]
    return bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode())


def _run_length(data: bytes | memoryview) -> Iterator[bytes]:
    """PDF RunLengthDecode, a chunk at a time: it expands up to 64 times."""
    out, pos, view = bytearray(), 0, memoryview(data)
    while pos < len(view):
        code = view[pos]
        if code == 128:
            break
        if code < 128:
            out += view[pos + 1 : pos + 2 + code]
            pos += 2 + code
        else:
            out += bytes(view[pos + 1 : pos + 2]) * (257 - code)
            pos += 2
        if len(out) >= bounded.OUT:
            yield bytes(out)
            out.clear()
    if out:
        yield bytes(out)


def _pdfminer(data: bytes, encrypted: bool) -> PDFDocument | None:
    try:
        return PDFDocument(PDFParser(io.BytesIO(data)))
    except PDFEncryptionError as exc:  # a password, or a handler neither library knows
        raise Encrypted("PDF 已加密（设置了打开密码），无法读取") from exc
    except Exception as exc:  # any of pdfminer's many ways to fail on a damaged file
        if encrypted:
            # Without pdfminer's decryption the streams cannot be measured, and pdfium
            # would inflate them blind.
            raise LimitExceeded("PDF 加密方式异常，无法安全读取") from exc
        return None


def _page_sizes(
    document: PDFDocument, sizes: dict[int, int], most: int, deadline: Deadline
) -> list[int] | None:
    pages = []
    try:
        # beyond the page limit pdfium's count refuses the file anyway
        for page in itertools.islice(PDFPage.create_pages(document), most):
            deadline.check()
            total = 0
            for ref in page.contents:
                stream = resolve1(ref)
                if isinstance(stream, PDFStream) and stream.objid is not None:
                    total += sizes.get(stream.objid, 0)
            total += _forms(page.resources, sizes, set(), 0)
            pages.append(total)
    except DocumentError:
        raise  # the deadline
    except Exception:  # any of pdfminer's many ways to fail on a damaged file
        return None
    return pages


def _forms(resources: Any, sizes: dict[int, int], seen: set[int], depth: int) -> int:
    """Decoded size of the form XObjects a page may draw (pdfium parses them with it)."""
    resources = resolve1(resources)
    if depth > 8 or not isinstance(resources, dict):
        return 0
    xobjects = resolve1(resources.get("XObject"))
    if not isinstance(xobjects, dict):
        return 0
    total = 0
    for ref in xobjects.values():
        form = resolve1(ref)
        if not isinstance(form, PDFStream) or form.objid is None or form.objid in seen:
            continue
        subtype = resolve1(form.attrs.get("Subtype"))
        if getattr(subtype, "name", None) != "Form":
            continue
        seen.add(form.objid)
        total += sizes.get(form.objid, 0)
        total += _forms(form.attrs.get("Resources"), sizes, seen, depth + 1)
    return total
