"""Optical character recognition with RapidOCR (models ship inside the wheel)."""

from __future__ import annotations

import ctypes
import logging
import math
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

log = logging.getLogger(__name__)

_ENGINE: Any = None
_LOCK = threading.Lock()  # one engine per process; onnxruntime sessions are heavy

MAX_SIDE = 2400
MIN_SIDE = 32  # the detector cannot resize anything thinner
MAX_ASPECT = 50  # larger photos are scaled down first: detail beyond this only costs time
_ENGINE_SIDE = 2000  # RapidOCR's max_side_len: it shrinks a larger image to this first
# Text detection scales a picture up to no more pixels than a 4:3 photo has at that size,
# 2000×1500. Its memory grows with them: RapidOCR scales a picture's shorter side up to
# 736 px, and a strip of 1600×200 (a signature, a one-line banner) was detected at
# 5888×736, 4.3 MP, adding ~900 MB at the peak (~520 MB at 3 MP, the same text), against
# ~550-810 MB for a photo of a form at 2000 px, which is detected as it always was.
DETECT_PIXELS = 2000 * 1500
# A page the engine could not find memory for is read once more at this fraction of its
# size (detection too): the working set of detection grows with the pixels, ~0.45×.
RETRY_SCALE = 2 / 3
# What an allocation failure looks like once onnxruntime, OpenCV or numpy report it:
# onnxruntime's RuntimeException "… std::bad_alloc" or "Failed to allocate memory …",
# OpenCV's "(-4:Insufficient memory) Failed to allocate …", numpy's MemoryError.
_OUT_OF_MEMORY = ("bad_alloc", "failed to allocate", "insufficient memory", "out of memory",
                  "cannot allocate memory")


class OcrUnavailable(Exception):
    """OCR could not run on a page for want of memory, also at a smaller size.

    Not the sender's fault and not a broken file: the caller treats the page as a scan
    OCR could not read (staff check it: OCR_USED), never as an unreadable document.
    """


_THREADS = [2]  # processing.ocr_threads, set by configure() before the first OCR
# the context the engine is loaded in (set by configure())
_LOADING: list[Callable[[], AbstractContextManager[object]]] = [nullcontext]


def configure(*, threads: int, loading: Callable[[], AbstractContextManager[object]] | None = None) -> None:
    """How many threads one OCR engine may use (config: processing.ocr_threads).

    *loading*: a context the engine is imported and loaded in, on the first page that
    needs OCR (a worker widens its address-space cap around it: OpenCV, onnxruntime and
    the sessions map ~550-700 MB of address space, ~160 MB of it resident).
    """
    _THREADS[0] = max(1, threads)
    if loading is not None:
        _LOADING[0] = loading


def loading() -> AbstractContextManager[object]:
    """The context native libraries are loaded in (see ``configure``)."""
    return _LOADING[0]()


def _engine() -> Any:
    global _ENGINE
    if _ENGINE is None:
        with _LOADING[0]():
            # Imported lazily (most mail never needs OCR), and inside the loading context:
            # the import maps OpenCV's and onnxruntime's libraries, ~440 MB of address space
            # (cv2 ~380 MB, onnxruntime ~50 MB; ~30 MB resident), the sessions another ~110
            # to ~260 MB (~130 MB resident). Imported outside it, the 440 MB were taken from
            # the room a worker keeps for the message, and inference then ran out of it.
            from rapidocr_onnxruntime import RapidOCR

            _ENGINE = RapidOCR(intra_op_num_threads=_THREADS[0], inter_op_num_threads=1)
    return _ENGINE


@dataclass
class Line:
    """One line of text OCR found: its corner points in the image read, text and score,
    and whether the angle classifier found it upside down."""

    quad: list[tuple[float, float]]
    text: str
    score: float
    flipped: bool = False

    @property
    def box(self) -> tuple[float, float, float, float]:
        xs, ys = [p[0] for p in self.quad], [p[1] for p in self.quad]
        return min(xs), min(ys), max(xs), max(ys)


@dataclass
class Reading:
    """What OCR read on one image: its lines (coordinates of the image given)."""

    lines: list[Line] = field(default_factory=list)

    @property
    def text(self) -> str:
        return _lines([[line.quad, line.text, line.score] for line in self.lines])


def ocr_image(image: Image.Image, *, detect_side: int | None = None) -> str:
    """Text of one page image, lines in reading order (top to bottom, left to right)."""
    return ocr_lines(image, detect_side=detect_side).text


def ocr_lines(image: Image.Image, *, detect_side: int | None = None) -> Reading:
    """The lines of one page image, each with its place, text and score.

    ``detect_side``: the longer side (pixels) of the copy that text *detection* looks
    at; recognition still reads every line from the full image. RapidOCR otherwise
    detects on a page at 2000 px, about half of all OCR time (1000 px: 5× faster). A
    PDF page is rendered at a known resolution, so its caller can choose a smaller copy
    that still finds every line; a photo's text may be any size: it keeps the default.
    """
    width, height = image.size
    if min(width, height) < MIN_SIDE or max(width, height) > MAX_ASPECT * min(width, height):
        return Reading()  # a rule, a banner or a spacer: no text the detector could read
    try:
        return _reading(_read(image, MAX_SIDE, detect_side), image)
    except Exception as exc:
        if not out_of_memory(exc):
            raise
    finally:
        _release()
    # out of memory: read again, smaller (once out of the handler, whose exception's frames
    # hold the failed attempt's arrays)
    side = max(MIN_SIDE, round(min(MAX_SIDE, _ENGINE_SIDE, max(width, height)) * RETRY_SCALE))
    detect = None if detect_side is None else max(MIN_SIDE, round(detect_side * RETRY_SCALE))
    log.info("OCR ran out of memory on a %d×%d image; reading it again at %d px", width, height, side)
    try:
        return _reading(_read(image, side, detect), image)
    except Exception as exc:
        if not out_of_memory(exc):
            raise
        log.warning("OCR ran out of memory on a %d×%d image, also at %d px: left unread", width, height, side)
        raise OcrUnavailable(f"{type(exc).__name__}: {exc}".splitlines()[0][:200]) from None
    finally:
        _release()


def _reading(result: tuple[list[Line], float] | str, image: Image.Image) -> Reading:
    """``_read``'s lines in the coordinates of *image* (it may have read a smaller copy).
    A stand-in for ``_read`` that gives plain text (the tests of memory shortage) gives
    one line of it."""
    if isinstance(result, str):
        return Reading([Line([(0, 0), (1, 0), (1, 1), (0, 1)], result, 1.0)] if result else [])
    lines, scale = result
    if scale != 1.0:
        for line in lines:
            line.quad = [(x * scale, y * scale) for x, y in line.quad]
    return Reading(lines)


def _read(image: Image.Image, side: int, detect_side: int | None) -> tuple[list[Line], float]:
    """The lines of *image* read at *side* px at most, and the factor back to its size."""
    original = image.size
    image = image.convert("RGB")
    if max(image.size) > side:
        image.thumbnail((side, side))
    scale = original[0] / image.size[0]
    with _LOCK:
        engine = _engine()
        _detect_at(engine, detect_side)
        lines = _infer(engine, np.asarray(image))
    return lines, scale


def _infer(engine: Any, array: np.ndarray) -> list[Line]:
    """RapidOCR's own steps (1.4: detect, crop, classify the angle, recognise), keeping
    what its ``__call__`` drops: which lines the angle classifier turned round."""
    steps = ("load_img", "preprocess", "maybe_add_letterbox", "auto_text_det", "get_crop_img_list",
             "text_cls", "text_rec", "_get_origin_points", "filter_result")  # fmt: skip
    if not all(hasattr(engine, step) for step in steps):  # another RapidOCR: its own call
        result, _ = engine(array)
        return [Line([(float(x), float(y)) for x, y in box], text, float(score))
                for box, text, score in result or []]  # fmt: skip
    img = engine.load_img(array)
    raw_h, raw_w = img.shape[:2]
    record: dict[str, Any] = {}
    img, ratio_h, ratio_w = engine.preprocess(img)
    record["preprocess"] = {"ratio_h": ratio_h, "ratio_w": ratio_w}
    img, record = engine.maybe_add_letterbox(img, record)
    boxes, _ = engine.auto_text_det(img)
    if boxes is None:
        return []
    crops = engine.get_crop_img_list(img, boxes)
    del img
    crops, angles, _ = engine.text_cls(crops)
    recognised, _ = engine.text_rec(crops, False)
    del crops
    boxes = engine._get_origin_points(boxes, record, raw_h, raw_w)
    lines = []
    for box, (label, angle_score), found in zip(boxes, angles, recognised, strict=True):
        text, score = found[0], float(found[1])
        if score < engine.text_score:
            continue  # RapidOCR's filter_result
        flipped = "180" in str(label) and float(angle_score) > engine.text_cls.cls_thresh
        lines.append(Line([(float(x), float(y)) for x, y in box], text, score, flipped))
    return lines


def out_of_memory(exc: BaseException) -> bool:
    """*exc* (or what caused it) is an allocation that failed, not a broken input."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, MemoryError):
            return True
        if any(words in str(current).lower() for words in _OUT_OF_MEMORY):
            return True
        current = current.__cause__ or current.__context__
    return False


def _release() -> None:
    """Hand the memory inference freed back to the system (glibc's malloc_trim).

    onnxruntime runs without its own arena here (RapidOCR's choice) and allocates every
    tensor with malloc; freed, most of a page's 300-810 MB stays in the C heap, split by
    what is still held, and the next page's larger tensors do not fit the holes.
    Measured over 16 pages in one process (A4 scans and phone photos, two malloc
    arenas): untrimmed, the heap kept ~620 MB resident after the last page and the
    address space peaked ~1100 MB above the loaded engine; trimmed after each page,
    ~180 MB and ~950 MB. It costs 25-50 ms a page (OCR of one takes 1-3 s).
    """
    trim = _MALLOC_TRIM[0]
    if trim is not None:
        trim(0)


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim  # glibc only
    except (OSError, AttributeError):
        return None
    return trim


_MALLOC_TRIM = [_malloc_trim()]


def _detect_at(engine: Any, side: int | None) -> None:
    """Make the engine's detector scale images down to ``side`` (None: its own choice),
    and never scale one up beyond ``DETECT_PIXELS``.

    RapidOCR 1.4 picks the detector's input size per image in ``get_preprocess`` and,
    with limit_type "max", ignores a configured limit below 2000 for a page-sized image;
    so the detector gets a preprocessor of that size for this call.
    """
    detector = getattr(engine, "text_det", None)
    if detector is None or not hasattr(detector, "get_preprocess"):
        return  # another RapidOCR: it detects at its own size
    vars(detector).pop("get_preprocess", None)  # back to the class's own choice
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

    def make(limit: int, kind: str) -> Any:
        return DetPreProcess(limit, kind, detector.mean, detector.std)

    default = detector.get_preprocess

    def preprocess(max_wh: int) -> Any:
        chosen = make(side, "max") if side is not None and max_wh > side else default(max_wh)
        return _Bounded(chosen, make)

    detector.get_preprocess = preprocess


class _Bounded:
    """The detector's preprocessor, scaling a picture up to ``DETECT_PIXELS`` at most."""

    def __init__(self, chosen: Any, make: Callable[[int, str], Any]) -> None:
        self.chosen, self.make = chosen, make

    def __call__(self, image: np.ndarray) -> Any:
        height, width = image.shape[:2]
        ratio = _ratio(self.chosen.limit_type, self.chosen.limit_side_len, height, width)
        if ratio <= 1 or height * width * ratio * ratio <= DETECT_PIXELS:
            return self.chosen(image)
        # a strip scaled up: its shorter side only as far as gives DETECT_PIXELS
        ratio = max(1.0, math.sqrt(DETECT_PIXELS / (height * width)))
        return self.make(max(1, int(min(height, width) * ratio)), "min")(image)


def _ratio(kind: str, limit: int, height: int, width: int) -> float:
    """How RapidOCR's DetPreProcess scales an image (before rounding to 32 px)."""
    if kind == "max":
        return limit / max(height, width) if max(height, width) > limit else 1.0
    return limit / min(height, width) if min(height, width) < limit else 1.0


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

