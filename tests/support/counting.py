"""Spies that count work instead of timing it.

Unit tests never assert on the clock (a loaded CI machine is slow, a fast one hides a
regression; the seconds live in ``benchmarks/``). Where a test is about bounded work —
"refused without unpacking", "no LibreOffice for a .docx", "the 900 pages are not read"
— it counts the expensive step at a library boundary the product cannot route around:

    processes_started(monkeypatch)   argv of every subprocess started (LibreOffice, OCR, ...)
    pdf_pages_loaded(monkeypatch)    page indexes pdfium was asked to load
    pdf_pages_rendered(monkeypatch)  pages rendered to pixels (what OCR needs first)
    bytes_inflated(monkeypatch)      bytes out of zlib decompressors (zip, docx, PDF streams)

Each returns a list the spy appends to while the test runs; ``monkeypatch`` undoes it.
"""

from __future__ import annotations

import subprocess
import zlib
from typing import Any

import pypdfium2 as pdfium
import pytest


def processes_started(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The argv of each ``subprocess.Popen`` (``subprocess.run`` included)."""
    started: list[list[str]] = []
    real = subprocess.Popen

    class Counting(real):  # type: ignore[misc, valid-type]
        def __init__(self, args: Any, *rest: Any, **kwargs: Any) -> None:
            started.append([str(a) for a in args] if isinstance(args, list | tuple) else [str(args)])
            super().__init__(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", Counting)
    return started


def soffice_runs(started: list[list[str]]) -> int:
    """How many of ``processes_started``'s commands were LibreOffice conversions."""
    return sum(1 for argv in started if "--convert-to" in argv)


def pdf_pages_loaded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    loaded: list[int] = []
    real = pdfium.PdfDocument.get_page

    def get_page(self: pdfium.PdfDocument, index: int) -> pdfium.PdfPage:
        loaded.append(index)
        return real(self, index)

    monkeypatch.setattr(pdfium.PdfDocument, "get_page", get_page)
    return loaded


def pdf_pages_rendered(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The scale of each page pdfium rendered (OCR renders a page before reading it)."""
    rendered: list[float] = []
    real = pdfium.PdfPage.render

    def render(self: pdfium.PdfPage, *args: Any, **kwargs: Any) -> Any:
        rendered.append(kwargs.get("scale", args[0] if args else 1))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pdfium.PdfPage, "render", render)
    return rendered


def bytes_inflated(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of each chunk a ``zlib.decompressobj`` or ``zlib.decompress`` gave back."""
    chunks: list[int] = []
    real_obj, real_decompress = zlib.decompressobj, zlib.decompress

    class Counting:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self._inner = real_obj(*args, **kwargs)

        def decompress(self, data: bytes, *args: Any) -> bytes:
            out = self._inner.decompress(data, *args)
            chunks.append(len(out))
            return out

        def flush(self, *args: Any) -> bytes:
            out = self._inner.flush(*args)
            chunks.append(len(out))
            return out

        def __getattr__(self, name: str) -> Any:  # eof, unconsumed_tail, unused_data, copy
            return getattr(self._inner, name)

    def decompress(data: bytes, *args: Any, **kwargs: Any) -> bytes:
        out = real_decompress(data, *args, **kwargs)
        chunks.append(len(out))
        return out

    monkeypatch.setattr(zlib, "decompressobj", Counting)
    monkeypatch.setattr(zlib, "decompress", decompress)
    return chunks
