"""Hostile attachments: decompression bombs, lying headers, endless nesting.

Anyone can mail the public mailbox, so every document is an attack until read.
Each bomb is built at test time (support.factory.bombs, nothing checked in) and
opened in a fresh *spawned* process between a normal .docx and a normal .pdf, so
that process's peak RSS is this one call's. Every case must return without
raising, report the bomb unreadable with a plain reason, still read the normal
documents around it, and stay under MEMORY_MB of peak memory growth. The seconds each
takes are measured, not asserted: benchmarks/bounds.py --bombs (a loaded machine is slow).
"""

from __future__ import annotations

import io
import multiprocessing
import queue
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from support.factory import archives as arc
from support.factory import bombs, pdfs

from intake.attachments import open_attachments
from intake.documents import Limits
from intake.mime import Attachment

MiB = 1024 * 1024
MEMORY_MB = 400  # growth of the process's peak RSS during the one call


@dataclass(frozen=True)
class Case:
    name: str  # the hostile attachment's file name
    build: Callable[[Path], object]  # writes it to the path given
    reason: str  # found in the error of the document refused


def _bytes(make: Callable[[], bytes]) -> Callable[[Path], object]:
    return lambda path: path.write_bytes(make())


CASES = {
    "pdf-content-stream-1GiB": Case(
        "申报书.pdf", _bytes(lambda: bombs.pdf_content_bomb(1 << 30)), "解压后超过"
    ),
    "pdf-form-xobject-two-flate-layers-1GiB": Case(
        "附件.pdf",
        _bytes(lambda: bombs.pdf_content_bomb(1 << 30, where="form", layers=2)),
        "解压后超过",
    ),
    "pdf-owner-password-rc4-300MiB": Case(
        "加密.pdf", _bytes(bombs.encrypted_pdf_bomb), "解压后超过"
    ),
    "zip-5-texts-of-100MiB": Case("材料.zip", bombs.zip_of_texts, "超过 200 MB"),
    "zip-member-understating-1GiB": Case("材料.zip", bombs.zip_understating_size, "超过其声明"),
    "zip-bzip2-member-understating-300MiB": Case(
        "材料.zip",
        lambda path: bombs.zip_understating_size(path, 300 * MiB, zipfile.ZIP_BZIP2),
        "超过其声明",
    ),
    "docx-80MiB-document-xml": Case("申报书.docx", bombs.docx_with_huge_xml, "超过 20 MB"),
    "docx-part-understating-300MiB": Case("申报书.docx", bombs.docx_with_lying_part, "超过其声明"),
    "png-80-megapixels": Case("营业执照.png", _bytes(bombs.png_header_bomb), "图片尺寸"),
    "zip-nested-20-deep": Case("材料.zip", _bytes(bombs.nested_zip), "嵌套"),
    "zip-10000-members": Case(
        "材料.zip", _bytes(lambda: arc.make_zip({f"{i}.txt": b"x" for i in range(10_000)})), "上限"
    ),
    "zip-of-400-zips-of-400-files": Case("材料.zip", _bytes(bombs.zip_of_zips), "个上限"),
}


def _open_apart(path: Path, name: str = "", *, as_mail: bool = False) -> dict[str, Any]:
    """What :func:`bombs.open_in_fresh_process` reports from a spawned process."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    child = context.Process(
        target=bombs.open_in_fresh_process, args=(str(path), name, as_mail, results)
    )
    child.start()
    give_up = time.monotonic() + 120
    try:
        while True:
            try:
                out: dict[str, Any] = results.get(timeout=0.5)
                return out
            except queue.Empty:
                if not child.is_alive():
                    pytest.fail(f"the process opening {name or path.name} died ({child.exitcode})")
                if time.monotonic() > give_up:
                    pytest.fail(f"opening {name or path.name} took over 120 s")
    finally:
        child.join(10)
        if child.is_alive():
            child.kill()


def _check_the_rest_was_read(out: dict[str, Any]) -> None:
    docs = out["docs"]
    first, last = docs[0], docs[-1]
    assert (first[0], first[2]) == ("申报书.docx", True) and bombs.NORMAL_TEXT[0] in first[4]
    assert (last[0], last[2]) == ("盖章版.pdf", True) and bombs.NORMAL_TEXT[1] in last[4]
    assert all(readable or error for _, _, readable, error, _ in docs)
    assert out["grown_mb"] < MEMORY_MB, f"{out['grown_mb']:.0f} MB"


@pytest.mark.parametrize("case_id", list(CASES))
def test_bomb_is_refused_cheaply_and_the_rest_of_the_mail_is_read(case_id, tmp_path):
    case = CASES[case_id]
    path = tmp_path / "bomb"
    case.build(path)
    out = _open_apart(path, case.name)
    _check_the_rest_was_read(out)
    hostile = out["docs"][1:-1]
    refused = [d for d in hostile if not d[2] and case.reason in d[3]]
    assert refused, [(n, readable, error) for n, _, readable, error, _ in hostile[:5]]
    assert len(hostile) <= Limits().max_documents + Limits().max_members


def test_huge_text_attachment_is_read_in_part(tmp_path):
    path = tmp_path / "说明.txt"
    text = "第一行申报材料说明文字 abc 123\n" * 2_000_000
    path.write_bytes(text.encode("gbk")[:40_000_000])  # GBK: charset detection's worst case
    out = _open_apart(path, "说明.txt")
    _check_the_rest_was_read(out)
    name, _, readable, error, tail = out["docs"][1]
    assert (name, readable, error) == ("说明.txt", True, None)
    assert tail.endswith("其余部分未读取）") and "文件共 38 MB，只读取了前 2 MB" in tail
    assert out["text_chars"][1] <= Limits().max_text_chars


def test_mail_with_10000_parts(tmp_path):
    path = tmp_path / "mail.eml"
    path.write_bytes(bombs.mail_with_parts(10_000))
    out = _open_apart(path, as_mail=True)
    _check_the_rest_was_read(out)
    assert len(out["docs"]) <= Limits().max_documents + 2


# -- disguises: cheap enough to open in this process --------------------------------------


def _one_page(contents: list[bytes]) -> bytes:
    """A page drawing ``contents`` (stream objects 4, 5, ...) in order."""
    refs = b" ".join(b"%d 0 R" % (4 + i) for i in range(len(contents)))
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents [%s] >>" % refs
    return bombs.pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                      b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page, *contents])  # fmt: skip


def _stored_endstream_then(bomb: int) -> bytes:
    """A zlib stream whose first (stored) block holds the bytes "endstream": a scanner
    that stops there sees nothing, zlib and pdfium read on to the bomb behind it."""
    decoy = b"\nendstream\nendobj\n"
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = b"".join(packer.compress(b" " * MiB) for _ in range(bomb // MiB)) + packer.flush()
    stored = (
        b"\x00" + len(decoy).to_bytes(2, "little") + (len(decoy) ^ 0xFFFF).to_bytes(2, "little")
    )
    return b"\x78\x01" + stored + decoy + body


# name -> (what builds it, the reason it is refused with); each test builds only its own
# (building every disguise for each of them, and once more to collect their names, was
# seven times 200 MiB of deflating)
PDF_DISGUISES: dict[str, tuple[Callable[[], bytes], str]] = {
    "escaped-names": (
        lambda: _one_page([bombs.stream(b"/Fil#74er /Fl#61teDecode", bombs.deflate_bytes(64 * MiB))]),
        "超过 32 MB",
    ),
    "hex-wrapped": (
        lambda: _one_page(
            [bombs.stream(b"/Filter [/AHx /Fl]", bombs.deflate_bytes(64 * MiB).hex().encode() + b">")]
        ),
        "超过 32 MB",
    ),
    "run-length": (
        lambda: _one_page([bombs.stream(b"/Filter /RunLengthDecode", b"\x81 " * (MiB // 2))]),
        "超过 32 MB",
    ),
    "stored-endstream-decoy": (
        lambda: _one_page(
            [
                bombs.stream(b"/Filter /FlateDecode", _stored_endstream_then(64 * MiB)).replace(
                    b"/Length", b"/Length 99 0 R /Old"
                )
            ]
        ),  # fmt: skip
        "超过 32 MB",
    ),
    "eight-30MiB-streams": (
        lambda: _one_page([bombs.stream(b"/Filter /FlateDecode", bombs.deflate_bytes(30 * MiB))] * 8),
        "超过 200 MB",
    ),
    "one-page-of-two-10MiB-streams": (
        lambda: _one_page([bombs.stream(b"/Filter /FlateDecode", bombs.deflate_bytes(10 * MiB))] * 2),
        "第 1 页内容解压后超过 16 MB",
    ),
}


@pytest.mark.parametrize("disguise", list(PDF_DISGUISES))
def test_pdf_scan_sees_through_disguises(disguise):
    build, reason = PDF_DISGUISES[disguise]
    data = build()
    docs = open_attachments([Attachment("附件.pdf", data, "")], Limits(ocr_total_pages=0))
    assert docs[0].readable is False and reason in docs[0].error, docs[0].error


def test_7z_members_are_bounded_one_by_one():
    data = arc.make_7z({"大.txt": b"a" * 300_000, "申报书.txt": "申报书".encode(), "c.txt": b"c"})
    docs = open_attachments([Attachment("材料.7z", data, "")], Limits(max_member_bytes=200_000))
    assert [(d.name, d.readable) for d in docs] == [
        ("材料.7z", True), ("大.txt", False), ("申报书.txt", True), ("c.txt", True),
    ]  # fmt: skip
    assert "上限" in docs[1].error and docs[2].text == "申报书"


# -- what the bounds must still let through ----------------------------------------------


def test_60_page_30mb_scanned_application_is_read():
    page = pdfs.page_image(["揭榜挂帅申报书", "单位名称：山东某某研究院"])
    noise = np.random.default_rng(0).integers(-20, 20, (page.height, page.width), dtype=np.int16)
    page = Image.fromarray(np.clip(np.asarray(page, np.int16) + noise, 0, 255).astype(np.uint8))
    out = io.BytesIO()
    page.save(out, "PDF", resolution=200, save_all=True, append_images=[page] * 59, quality=80)
    assert 25 * MiB < len(out.getvalue()) < 45 * MiB
    zipped = arc.make_zip({"申报书（扫描件）.pdf": out.getvalue()})
    docs = open_attachments(
        [Attachment("申报书.pdf", out.getvalue(), ""), Attachment("材料.zip", zipped, "")],
        Limits(ocr_total_pages=0),  # reading it is the point here, not OCR
    )
    assert [(d.name, d.readable, d.pages, d.scanned) for d in docs] == [
        ("申报书.pdf", True, 60, True),
        ("材料.zip", True, 0, False),
        ("申报书（扫描件）.pdf", True, 60, True),
    ]


def test_parts_within_bounds_are_read_whole():
    """A zip member, a PDF content stream and a docx part just under their bounds."""
    text = "申报单位：山东某某研究院\n" * 1000
    content = b"BT /F1 14 Tf 72 740 Td (Sealed application form, page one) Tj ET" + b" " * (
        15 * MiB
    )
    pdf = bombs.pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            bombs.stream(b"/Filter /FlateDecode", zlib.compress(content)),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )
    docs = open_attachments(
        [
            Attachment("说明.zip", arc.make_zip({"说明.txt": text.encode()}), ""),
            Attachment("盖章版.pdf", pdf, ""),
        ],
        Limits(ocr_total_pages=0),
    )
    assert [(d.name, d.readable) for d in docs] == [
        ("说明.zip", True), ("说明.txt", True), ("盖章版.pdf", True),
    ]  # fmt: skip
    assert docs[1].text == text and "Sealed application form" in docs[2].text
