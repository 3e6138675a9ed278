"""Optical character recognition with RapidOCR (models ship inside the wheel)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np
from PIL import Image

_ENGINE: Any = None
_LOCK = threading.Lock()  # one engine per process; onnxruntime sessions are heavy

MAX_SIDE = 2400
MIN_SIDE = 32  # the detector cannot resize anything thinner
MAX_ASPECT = 50  # larger photos are scaled down first: detail beyond this only costs time


_THREADS = [2]  # processing.ocr_threads, set by configure() before the first OCR
# the context the engine is loaded in (set by configure())
_LOADING: list[Callable[[], AbstractContextManager[object]]] = [nullcontext]


def configure(*, threads: int, loading: Callable[[], AbstractContextManager[object]] | None = None) -> None:
    """How many threads one OCR engine may use (config: processing.ocr_threads).

    *loading*: a context the engine is loaded in, on the first page that needs OCR (a
    worker widens its address-space cap around it: onnxruntime reserves ~650 MB of
    address space it never touches).
    """
    _THREADS[0] = max(1, threads)
    if loading is not None:
        _LOADING[0] = loading


def _engine() -> Any:
    global _ENGINE
    if _ENGINE is None:
        # Imported lazily: loading onnxruntime and the models takes ~0.4 s and
        # most mail never needs OCR.
        from rapidocr_onnxruntime import RapidOCR

        with _LOADING[0]():
            _ENGINE = RapidOCR(intra_op_num_threads=_THREADS[0], inter_op_num_threads=1)
    return _ENGINE


def ocr_image(image: Image.Image, *, detect_side: int | None = None) -> str:
    """Text of one page image, lines in reading order (top to bottom, left to right).

    ``detect_side``: the longer side (pixels) of the copy that text *detection* looks
    at; recognition still reads every line from the full image. RapidOCR otherwise
    detects on a page at 2000 px, about half of all OCR time (1000 px: 5× faster). A
    PDF page is rendered at a known resolution, so its caller can choose a smaller copy
    that still finds every line; a photo's text may be any size: it keeps the default.
    """
    image = image.convert("RGB")
    width, height = image.size
    if min(width, height) < MIN_SIDE or max(width, height) > MAX_ASPECT * min(width, height):
        return ""  # a rule, a banner or a spacer: no text the detector could read
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE))
    with _LOCK:
        engine = _engine()
        _detect_at(engine, detect_side)
        result, _ = engine(np.asarray(image))
    return _lines(result or [])


def _detect_at(engine: Any, side: int | None) -> None:
    """Make the engine's detector scale images down to ``side`` (None: its own choice).

    RapidOCR 1.4 picks the detector's input size per image in ``get_preprocess`` and,
    with limit_type "max", ignores a configured limit below 2000 for a page-sized image;
    so the detector gets a preprocessor of that size for this call.
    """
    detector = getattr(engine, "text_det", None)
    if detector is None or not hasattr(detector, "get_preprocess"):
        return  # another RapidOCR: it detects at its own size
    vars(detector).pop("get_preprocess", None)  # back to the class's own choice
    if side is None:
        return
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

    chosen = DetPreProcess(side, "max", detector.mean, detector.std)
    default = detector.get_preprocess

    def preprocess(max_wh: int) -> Any:
        return chosen if max_wh > side else default(max_wh)

    detector.get_preprocess = preprocess


def _lines(result: list[list[Any]]) -> str:  # RapidOCR's [box, text, score] per detection
    boxes = []
    for box, text, _score in result:
        ys = [point[1] for point in box]
        boxes.append((min(ys), max(ys), min(point[0] for point in box), text))
    boxes.sort()
    lines: list[list[tuple[float, str]]] = []
    line_bottom = None
    for top, bottom, left, text in boxes:
        # Same line when the box starts above the middle of the current line.
        if lines and line_bottom is not None and top < line_bottom - (bottom - top) / 2:
            lines[-1].append((left, text))
            line_bottom = max(line_bottom, bottom)
        else:
            lines.append([(left, text)])
            line_bottom = bottom
    return "\n".join(" ".join(t for _, t in sorted(line)) for line in lines)


def warm_up() -> None:
    """Load the OCR engine now (a benchmark's warm start; workers load it when needed)."""
    _engine()
