"""Optical character recognition with RapidOCR (models ship inside the wheel)."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from PIL import Image

_ENGINE: Any = None
_LOCK = threading.Lock()  # one engine per process; onnxruntime sessions are heavy

MAX_SIDE = 2400
MIN_SIDE = 32  # the detector cannot resize anything thinner
MAX_ASPECT = 50  # larger photos are scaled down first: detail beyond this only costs time


_THREADS = [2]  # processing.ocr_threads, set by configure() before the first OCR


def configure(*, threads: int) -> None:
    """How many threads one OCR engine may use (config: processing.ocr_threads)."""
    _THREADS[0] = max(1, threads)


def _engine() -> Any:
    global _ENGINE
    if _ENGINE is None:
        # Imported lazily: loading onnxruntime and the models takes ~0.4 s and
        # most mail never needs OCR.
        from rapidocr_onnxruntime import RapidOCR

        _ENGINE = RapidOCR(intra_op_num_threads=_THREADS[0], inter_op_num_threads=1)
    return _ENGINE


def ocr_image(image: Image.Image) -> str:
    """Text of one page image, lines in reading order (top to bottom, left to right)."""
    image = image.convert("RGB")
    width, height = image.size
    if min(width, height) < MIN_SIDE or max(width, height) > MAX_ASPECT * min(width, height):
        return ""  # a rule, a banner or a spacer: no text the detector could read
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE))
    with _LOCK:
        result, _ = _engine()(np.asarray(image))
    return _lines(result or [])


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
    """Load the OCR engine now (a worker does this before it caps its own memory)."""
    _engine()
