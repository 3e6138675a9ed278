"""Hostile attachments, built at test time and never checked in.

Big ones are streamed to a file (``path``) so that making a 1 GiB bomb never holds
1 GiB in the test's own memory; :func:`open_in_fresh_process` then opens one beside
normal documents in a spawned process, so that process's peak RSS is that call's.
"""

from __future__ import annotations

import functools
import hashlib
import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from support.factory import archives as arc
from support.factory import mails as m
from support.factory import pdfs, word

MiB = 1024 * 1024
_CHUNK = 4 * MiB


def deflated(size: int, fill: bytes = b" ") -> Iterator[bytes]:
    """zlib-compressed ``size`` bytes of ``fill``, a chunk at a time (~1000:1 for spaces)."""
    packer = zlib.compressobj(9)
    block = fill * (_CHUNK // len(fill))
    left = size
    while left > 0:
        out = packer.compress(block[: min(left, len(block))])
        left -= min(left, len(block))
        if out:
            yield out
    yield packer.flush()


def deflate_bytes(size: int, fill: bytes = b" ", layers: int = 1) -> bytes:
    """``size`` bytes of ``fill`` deflated ``layers`` times (a second layer shrinks a
    1 GiB bomb from ~1 MB to ~3 KB)."""
    data = _deflated_once(size, fill)
    for _ in range(layers - 1):
        data = zlib.compress(data, 9)
    return data


@functools.lru_cache(maxsize=8)
def _deflated_once(size: int, fill: bytes) -> bytes:
    """Made once per session: deflating 1 GiB takes ~3 s, its result is ~1 MB (immutable)."""
    return b"".join(deflated(size, fill))


# -- PDF ---------------------------------------------------------------------------------


def pdf(objects: list[bytes], *, trailer: bytes = b"") -> bytes:
    """A PDF whose object n is ``objects[n - 1]``; object 1 is the catalog."""
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
    out.write(b"trailer\n<< /Size %d /Root 1 0 R%s >>\n" % (len(objects) + 1, trailer))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def stream(entries: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (entries, len(data), data)


_CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
_PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
_PAGE = (
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
    b"/Resources << /Font << /F1 5 0 R >> /XObject << /Fm0 6 0 R >> >> >>"
)
_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
_TEXT = b"BT /F1 14 Tf 72 740 Td (Sealed application form, page one) Tj ET"


def pdf_content_bomb(
    unpacked: int = 1 << 30, *, where: str = "contents", layers: int = 1, fill: bytes = b" "
) -> bytes:
    """One page whose content stream (``where="contents"``) or the form XObject it
    draws (``"form"``) inflates to ``unpacked`` bytes of ``fill``, behind ``layers``
    FlateDecode filters. 1 GiB of spaces is a ~1 MB file (~3 KB with two layers)."""
    bomb = deflate_bytes(unpacked, fill, layers)
    filters = b"/Filter [%s]" % b" ".join([b"/FlateDecode"] * layers)
    if where == "contents":
        contents, form = stream(filters, bomb), stream(b"/Subtype /Form /BBox [0 0 1 1]", b"")
    else:
        contents = stream(b"", _TEXT + b" /Fm0 Do")
        form = stream(b"/Subtype /Form /BBox [0 0 612 792] " + filters, bomb)
    return pdf([_CATALOG, _PAGES, _PAGE, contents, _FONT, form])


def encrypted_pdf_bomb(unpacked: int = 300 * MiB) -> bytes:
    """The content bomb in a PDF "protected" by an owner password only (RC4 40-bit,
    empty user password, as many office tools make them): every reader opens it,
    and its streams are ciphertext to anyone who does not decrypt them first."""
    from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4
    from cryptography.hazmat.primitives.ciphers import Cipher

    def rc4(key: bytes, data: bytes) -> bytes:
        return Cipher(ARC4(key), mode=None).encryptor().update(data)

    # PDF 32000-1 7.6.3.3, algorithms 2 and 4 (revision 2)
    pad = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")
    owner, ident, permissions = bytes(range(32)), b"0123456789abcdef", -4
    key = hashlib.md5(pad + owner + struct.pack("<i", permissions) + ident).digest()[:5]
    object_key = hashlib.md5(key + struct.pack("<i", 4)[:3] + b"\0\0").digest()[:10]
    encrypt = b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P %d >>" % (
        owner.hex().encode(), rc4(key, pad).hex().encode(), permissions,
    )  # fmt: skip
    page = _PAGE.replace(b" /XObject << /Fm0 6 0 R >>", b"")
    contents = stream(b"/Filter /FlateDecode", rc4(object_key, deflate_bytes(unpacked)))
    ids = b"<%s> <%s>" % (ident.hex().encode(), ident.hex().encode())
    return pdf(
        [_CATALOG, _PAGES, page, contents, _FONT, encrypt],
        trailer=b" /Encrypt 6 0 R /ID [%s]" % ids,
    )


# -- archives and Office packages --------------------------------------------------------


def _text_block(size: int = 4 * MiB) -> bytes:
    """Numbered Chinese lines: deflate gets ~10:1 from them, not 1000:1, so an archive
    of them passes a compression-ratio check like real (if huge) text files."""
    lines = (
        f"第{n}行 申报单位 山东某某研究院 项目编号 {n * 7919 % 1000003:07d}\n" for n in range(10**7)
    )
    out = io.BytesIO()
    for line in lines:
        if out.tell() >= size:
            break
        out.write(line.encode())
    return out.getvalue()[:size]


def zip_of_texts(path: Path, members: int = 5, each: int = 100 * MiB) -> Path:
    """``members`` text files of ``each`` bytes, with honest headers."""
    block = _text_block()  # repeated past deflate's 32 KB window: it packs no better
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for index in range(members):
            with archive.open(f"说明{index}.txt", "w", force_zip64=True) as member:
                for start in range(0, each, len(block)):
                    member.write(block[: each - start])
    return path


def understate(data: bytes, name: str, declared: bytes) -> bytes:
    """``data`` (a zip) with member ``name``'s headers claiming it holds ``declared``:
    its size and CRC. The compressed stream still runs on to the real size, so a
    reader that trusts the header inflates it all, and finds the CRC right."""
    out = bytearray(data)
    encoded, crc = name.encode(), zlib.crc32(declared)
    # (signature, offset of the CRC (the size is 8 bytes on), of the name length, of the name)
    for signature, crc_at, length_at, name_at in (
        (b"PK\x03\x04", 14, 26, 30),
        (b"PK\x01\x02", 16, 28, 46),
    ):
        pos = out.find(signature)
        while pos >= 0:
            length = struct.unpack_from("<H", out, pos + length_at)[0]
            if out[pos + name_at : pos + name_at + length] == encoded:
                struct.pack_into("<L", out, pos + crc_at, crc)
                struct.pack_into("<L", out, pos + crc_at + 8, len(declared))
            pos = out.find(signature, pos + 4)
    return bytes(out)


def zip_understating_size(
    path: Path, unpacked: int = 1 << 30, method: int = zipfile.ZIP_DEFLATED
) -> Path:
    """One member that claims 1,000 spaces but inflates to ``unpacked`` of them."""
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", method) as archive:
        with archive.open("说明.txt", "w") as member:
            for start in range(0, unpacked, _CHUNK):
                member.write(b" " * min(_CHUNK, unpacked - start))
    path.write_bytes(understate(packed.getvalue(), "说明.txt", b" " * 1000))
    return path


def _docx_parts() -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(word.make_docx(["揭榜挂帅申报书"]))) as base:
        return {info.filename: base.read(info) for info in base.infolist()}


def docx_with_huge_xml(path: Path, xml_bytes: int = 80 * MiB) -> Path:
    """A real .docx whose word/document.xml is ``xml_bytes`` of numbered paragraphs."""
    head = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body>"
    )
    tail = b"</w:body></w:document>"
    block = b"".join(
        f"<w:p><w:r><w:t>第{n}段 单位名称 {n * 7919 % 1000003}</w:t></w:r></w:p>".encode()
        for n in range(60_000)
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for name, data in _docx_parts().items():
            if name != "word/document.xml":
                out.writestr(name, data)
                continue
            with out.open(name, "w", force_zip64=True) as xml:
                xml.write(head)
                for _ in range(max(1, (xml_bytes - len(head) - len(tail)) // len(block))):
                    xml.write(block)
                xml.write(tail)
    return path


def docx_with_lying_part(path: Path, unpacked: int = 300 * MiB) -> Path:
    """A real .docx whose word/document.xml is followed, inside the same deflate stream,
    by ``unpacked`` spaces its header does not declare."""
    parts = _docx_parts()
    xml = parts["word/document.xml"]
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            if name != "word/document.xml":
                out.writestr(name, data)
                continue
            with out.open(name, "w") as member:
                member.write(xml)
                for start in range(0, unpacked, _CHUNK):
                    member.write(b" " * min(_CHUNK, unpacked - start))
    path.write_bytes(understate(packed.getvalue(), "word/document.xml", xml))
    return path


def nested_zip(depth: int = 20, core: bytes = b"x") -> bytes:
    """A zip inside a zip ... ``depth`` times, a text file at the bottom."""
    data = arc.make_zip({"底层.txt": core})
    for level in range(depth - 1, 0, -1):
        data = arc.make_zip({f"第{level}层.zip": data})
    return data


def zip_of_zips(outer: int = 400, inner: int = 400) -> bytes:
    """``outer`` archives of ``inner`` tiny files each: few bytes, very many documents."""
    small = arc.make_zip({f"{i}.txt": b"x" for i in range(inner)})
    return arc.make_zip({f"{i}.zip": small for i in range(outer)})


def png_header_bomb(width: int = 10_000, height: int = 8_000) -> bytes:
    """A 1-bit PNG of ``width`` × ``height`` white pixels: ~10 KB that decodes to
    ``width * height`` pixels (80 M: above our bound, below Pillow's own)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    row = b"\0" + b"\xff" * ((width + 7) // 8)
    packer = zlib.compressobj(9)
    pixels = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def mail_with_parts(count: int = 10_000) -> bytes:
    """One message with ``count`` small attachments."""
    parts = [m.attachment(f'filename="{i}.txt"', b"x") for i in range(count)]
    return m.mail_with([m.text_part("见附件"), *parts])


# -- measuring one call ------------------------------------------------------------------

NORMAL_TEXT = ("揭榜挂帅申报书", "Sealed application form, page one")


def open_in_fresh_process(path: str, name: str, as_mail: bool, results: Any) -> None:
    """(Run in a spawned process.) Open the file at ``path`` as attachment ``name`` (or
    as a whole mail) between a normal .docx and a normal .pdf, and put on ``results``
    what came out, with this call's peak memory growth and time."""
    import resource
    import time

    from intake.attachments import open_attachments
    from intake.mime import Attachment, parse_message

    form = Attachment("申报书.docx", word.make_docx([NORMAL_TEXT[0]]), "")
    sealed = Attachment("盖章版.pdf", pdfs.text_pdf([NORMAL_TEXT[1]]), "")
    open_attachments([form, sealed])  # lazy imports now, so only the bomb is measured
    data = Path(path).read_bytes()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    hostile = parse_message(data).attachments if as_mail else [Attachment(name, data, "")]
    docs = open_attachments([form, *hostile, sealed])
    elapsed = time.perf_counter() - start
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before  # KiB on Linux
    results.put(
        {
            "docs": [(d.name, d.container, d.readable, d.error, d.text[-300:]) for d in docs],
            "text_chars": [len(d.text) for d in docs],
            "grown_mb": grown / 1024,
            "seconds": elapsed,
        }
    )
