"""Decide a file's format from its bytes first and its name second."""

from __future__ import annotations

import io
import re
import struct
import zipfile

from xlrd.compdoc import CompDoc, CompDocError

from intake.model import Format

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_IMAGE_MAGICS = (b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"BM", b"GIF8")

_BY_EXTENSION: dict[str, Format] = {
    "docx": "docx", "docm": "docx", "dotx": "docx",
    "doc": "doc", "dot": "doc", "wps": "wps", "wpt": "wps",
    "pdf": "pdf",
    "xlsx": "xlsx", "xlsm": "xlsx", "xls": "xls", "et": "xls",
    "zip": "zip", "rar": "rar", "7z": "7z", "eml": "eml",
    "png": "image", "jpg": "image", "jpeg": "image", "tif": "image", "tiff": "image",
    "bmp": "image", "gif": "image", "heic": "image", "heif": "image",
}  # fmt: skip
# ISO base media files whose brand is a HEIF picture (an iPhone's photos: .heic)
HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})
_WORD_LIKE = {"doc", "wps", "docx"}  # names under which RTF/HTML "Word" files travel

_HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]{1,40}:")
_MAIL_HEADERS = {
    b"from", b"to", b"subject", b"date", b"received", b"message-id",
    b"mime-version", b"return-path", b"content-type", b"delivered-to",
}  # fmt: skip


def extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def sniff(data: bytes, name: str = "", content_type: str = "") -> Format:
    """The contract format of a file (docs/contracts.md, "jiebang inspect": ``documents[].format``)."""
    ext = extension(name)
    by_name = _BY_EXTENSION.get(ext)
    head = data[:16]
    if head.startswith(_ZIP_MAGICS):
        return _zip_kind(data, by_name)
    if head.startswith(OLE_MAGIC):
        return _ole_kind(data, ext, by_name)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"Rar!\x1a\x07"):
        return "rar"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if head.startswith(_IMAGE_MAGICS) or is_heif(data):
        return "image"
    if b"%PDF-" in data[:1024]:  # readers accept junk before the header; so do we
        return "pdf"
    if by_name in _WORD_LIKE and _is_word_text(data):
        return "doc" if by_name == "docx" else by_name  # RTF/HTML saved as .doc
    if content_type in ("message/rfc822", "message/global") or looks_like_message(data):
        return "eml"
    return by_name or "other"


def is_heif(data: bytes) -> bool:
    """A HEIF/HEIC picture: an ``ftyp`` box naming a HEIF brand first."""
    return data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS


def _zip_kind(data: bytes, by_name: Format | None) -> Format:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        # Truncated: no central directory to look into, so trust the name.
        return by_name if by_name in ("docx", "xlsx") else "zip"
    if "word/document.xml" in names or any(n.startswith("word/") for n in names):
        return "docx"
    if "xl/workbook.xml" in names or any(n.startswith("xl/") for n in names):
        return "xlsx"
    if "mimetype" in names or "[Content_Types].xml" in names:
        return "other"  # OpenDocument, pptx and other packages are not archives
    return "zip"


_OLE_ERRORS = (CompDocError, struct.error, IndexError, ValueError, KeyError, AssertionError)


def ole_streams(data: bytes) -> set[str]:
    """Lower-case names of the streams in an OLE2 compound file (empty if unreadable)."""
    try:
        doc = CompDoc(data, logfile=_NullLog())
    except _OLE_ERRORS:
        return set()
    return {d.name.lower() for d in doc.dirlist if d.name}


def ole_encrypted(data: bytes) -> bool:
    """True for a password-protected Word/WPS file or an encrypted OOXML package."""
    try:
        doc = CompDoc(data, logfile=_NullLog())
        names = {d.name.lower() for d in doc.dirlist if d.name}
        if "encryptedpackage" in names:
            return True
        if "worddocument" not in names:
            return False
        fib = doc.get_named_stream("WordDocument") or b""
    except _OLE_ERRORS:
        return False
    # FIB base, offset 0x0A: bit 8 is fEncrypted (MS-DOC 2.5.2).
    return len(fib) >= 12 and bool(struct.unpack_from("<H", fib, 0x0A)[0] & 0x0100)


def _ole_kind(data: bytes, ext: str, by_name: Format | None) -> Format:
    streams = ole_streams(data)
    if "encryptedpackage" in streams:  # password-protected docx/xlsx
        return by_name if by_name in ("docx", "xlsx") else "docx"
    if "worddocument" in streams:
        return "wps" if ext in ("wps", "wpt") else "doc"
    if streams & {"workbook", "book"}:
        return "xls"
    if by_name in ("doc", "wps", "xls"):
        return by_name
    return "other"


def _is_word_text(data: bytes) -> bool:
    head = data[:2048].lstrip().lower()
    return head.startswith((b"{\\rtf", b"<html", b"<!doctype html", b"mime-version", b"<?xml"))


def looks_like_message(data: bytes) -> bool:
    """True when ``data`` starts with an RFC 5322 header block naming mail headers."""
    head = data[:4096].lstrip(b"\r\n")
    if not _HEADER_LINE.match(head):
        return False
    block = re.split(rb"\r?\n\r?\n", head, maxsplit=1)[0]
    names = {
        line.split(b":", 1)[0].strip().lower()
        for line in block.splitlines()
        if _HEADER_LINE.match(line)
    }
    return len(names & _MAIL_HEADERS) >= 2


class _NullLog:
    def write(self, _text: str) -> None:
        pass
