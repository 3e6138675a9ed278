"""A picture of a page made ready for OCR, and read: upright, without its red seal.

Phone photos and scans reach us turned and stamped:

- **EXIF orientation**: a phone stores the sensor's pixels and says in a tag how to
  show them; the opener (intake.attachments) turns the decoded copy so before anything
  else (``ImageOps.exif_transpose``'s reading of the tag, applied after shrinking).
- **Turned pages**: a sheet fed sideways or upside down into a scanner, a photo taken
  sideways. The first read tells (``read_page``): RapidOCR's angle classifier turns
  each upside-down line round, and when most lines needed it the page is upside down;
  a page turned 90° comes back as tall boxes, or as little confident Chinese. Only then
  are the other turns tried, on a small copy, and the page is read again the best way
  up: an upright page is read once.
- **Red seals** (公章) stamped over the unit's name and credit code: the seal's ink is
  red, the typed text black. Where a pixel is clearly red, its red channel is what a
  sheet without the seal would show there (white paper: bright; black text under the
  ink: still dark), so the seal fades and the text under it stays (``unseal``). Only
  colour pictures have a seal to take out; grey ones are left as they are.

A page whose text looks like a table (it numbers rows: 序号) also keeps where each
piece of text stands and where the horizontal ruled lines run, straightened
(``PageLayout``): a 推荐汇总表 in a picture is read from them (intake.extract.table).
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from intake.documents.ocr import Line, Reading, ocr_lines
from intake.model import OcrBox, PageLayout

log = logging.getLogger(__name__)

_CJK = re.compile("[\u4e00-\u9fff]")
# A first read is doubted when (a) most lines are upside down, (b) most boxes stand
# taller than wide (lines running down the page), or (c) it found almost no confident
# Chinese on a page with text on it. Measured on the cases of tests/support/photos.py:
# an upright form page gives 150-600 confident characters, 0-2 % tall boxes.
_FLIPPED_SHARE = 0.5
_TALL_SHARE = 0.4
_POOR_CHARS = 40  # confident Chinese characters (score-weighted) below which a page is doubted
_MIN_LINES = 4  # fewer lines than this: too little to judge which way up a page is
_CONFIDENT = 0.8
_TRIAL_SIDE = 1100  # px: the small copy each other turn is tried on
_BETTER = 1.3  # a turn must read this much more confident Chinese than the first read
# red seal: red channel well above green and blue, and bright enough to be ink, not text
_RED_MIN = 110
_RED_OVER_GREEN = 55
_RED_OVER_BLUE = 45
_RED_SHARE = 0.0005  # fewer red pixels than this: no seal to take out
_DARK = 90  # a pixel this dark in every channel (and no ink) is black text
_SOLID = 7  # px: ink that survives shrinking by this much is a solid patch, not a stroke
_HOLE = 12  # px: black with ink this close on every side shows through the ink
_PATCH = 80  # px: how far from black showing through it a patch is see-through (a star: ~120 px)
# a table's ruled line: dark across this share of the page's width (a line of text, even
# a long one, is far below it: its strokes cover a fraction of the row)
_RULE_SHARE = 0.35
_TABLE_WORDS = re.compile(r"序\s*号")


@dataclass
class PageReading:
    """One page picture read: its text, and its layout when it may be a table."""

    text: str
    turn: int = 0  # degrees clockwise the picture was turned to read it upright
    layout: PageLayout | None = None
    lines: list[Line] = field(default_factory=list)


def unseal(image: Image.Image) -> Image.Image:
    """*image* with its red seal faded: clearly red pixels (the seal's ink) replaced by
    their red channel (paper stays light, black text under the ink stays dark). The rim
    JPEG leaves around the ink (a pixel or two of greyish red) is left: clearing it took
    the edges of the black strokes it touches too (E read as F)."""
    if image.mode != "RGB":
        return image
    pixels = np.asarray(image)
    red = pixels[..., 0].astype(np.int16)
    green = pixels[..., 1].astype(np.int16)
    blue = pixels[..., 2].astype(np.int16)
    ink = (red >= _RED_MIN) & (red - green >= _RED_OVER_GREEN) & (red - blue >= _RED_OVER_BLUE)
    if ink.mean() < _RED_SHARE:
        return image
    # A solid patch of ink (the star) with no black showing through it was stamped over
    # nothing, or hides what it covers for good: left as it is, OCR reads it as a mark (☆)
    # and a name it cut short is mended (intake.extract.fields), where a hole would read
    # as a wrong character. Ink with black inside it (text under translucent ink), and
    # every thin stroke (the ring, the seal's words), is faded.
    dark = (np.maximum(np.maximum(red, green), blue) < _DARK) & ~ink
    del green, blue
    solid = _grown(~_grown(~ink, _SOLID), _SOLID) & ink
    keep = solid & ~_grown(dark & _enclosed(ink, _HOLE), _PATCH) if solid.any() else solid
    fade = ink & ~keep
    out = pixels.copy()
    out[fade] = red[fade].astype(np.uint8)[:, None]
    return Image.fromarray(out)


def _enclosed(mask: np.ndarray, within: int) -> np.ndarray:
    """Pixels with *mask* within *within* px on each side: left, right, above and below."""
    out = np.ones(mask.shape, dtype=bool)
    for axis in (0, 1):
        before, after = _runs(mask, axis, within)
        out &= before & after
    return out


def _runs(mask: np.ndarray, axis: int, reach: int) -> tuple[np.ndarray, np.ndarray]:
    """Whether *mask* holds within *reach* px before, and after, each pixel along *axis*
    (running sums: linear in the picture, whatever the reach)."""
    lines = np.moveaxis(mask, axis, 0)
    length = lines.shape[0]
    counts = np.cumsum(lines, axis=0, dtype=np.int32)
    # padded[j + reach + 1] = counts[j]: zeros before, the last count repeated after
    padded = np.concatenate([np.zeros((reach + 1, *counts.shape[1:]), np.int32), counts,
                             np.repeat(counts[-1:], reach, axis=0)])  # fmt: skip
    before = padded[reach:reach + length] - padded[:length] > 0  # i-reach … i-1
    after = padded[2 * reach + 1:2 * reach + 1 + length] - padded[reach + 1:reach + 1 + length] > 0
    return np.moveaxis(before, 0, axis), np.moveaxis(after, 0, axis)


def _grown(mask: np.ndarray, by: int) -> np.ndarray:
    """*mask* grown by *by* pixels across and down (a square around each pixel)."""
    grown = mask.copy()
    for axis in (0, 1):
        before, after = _runs(grown, axis, by)
        grown = grown | before | after
    return grown


def read_page(image: Image.Image, *, detect_side: int | None = None, turn: int = 0) -> PageReading:
    """The text of one page picture, read the right way up (see the module doc).

    *image*: as decoded (EXIF orientation already applied by the caller). *turn*: how the
    previous page of the same document had to be turned (a scanner turns them all
    alike): tried first, so a turned document costs one read a page after its first.
    """
    image = unseal(image.convert("RGB") if image.mode not in ("RGB", "L") else image)
    if turn:
        image = image.rotate(-turn, expand=True)
    first = ocr_lines(image, detect_side=detect_side)
    extra, reading = 0, first
    doubt = _doubt(first)
    if doubt is not None:
        # the classifier turns an upside-down line round, but the lines then stand in
        # reverse order: the page is read again the right way up
        best = 180 if doubt == "flipped" else _best_turn(image, doubt)
        if best:
            again = _turned_read(image, best, detect_side)
            if _doubt(again) == "flipped":  # the small copy misled: the other way round
                best = (best + 180) % 360
                again = _turned_read(image, best, detect_side)
            if _confidence(again) > _BETTER * _confidence(first):
                extra, reading = best, again
    if extra:
        image = image.rotate(-extra, expand=True)
        turn = (turn + extra) % 360
    if extra:
        log.info("page read turned %d° (first read: %s)", turn, doubt)
    skew = _skew(reading.lines)
    # a photo tilted a degree or two: a long line's box spans the next line's height, and
    # lines would run together; they are put in order as if the page lay straight
    level = _levelled(reading, skew, image.size) if abs(skew) > 0.2 else reading
    text = level.text
    layout = _layout(image, level, skew) if _TABLE_WORDS.search(text) else None
    return PageReading(text, turn, layout, reading.lines)


def _levelled(reading: Reading, skew: float, size: tuple[int, int]) -> Reading:
    """*reading* with every line where it stands once the page is turned back by *skew*."""
    a = math.radians(skew)
    cx, cy = size[0] / 2, size[1] / 2
    cos, sin = math.cos(a), math.sin(a)
    return Reading([
        Line([(cx + (x - cx) * cos + (y - cy) * sin, cy - (x - cx) * sin + (y - cy) * cos)
              for x, y in line.quad], line.text, line.score, line.flipped)
        for line in reading.lines
    ])  # fmt: skip


def _turned_read(image: Image.Image, turn: int, detect_side: int | None) -> Reading:
    return ocr_lines(image.rotate(-turn, expand=True) if turn else image, detect_side=detect_side)


def _doubt(reading: Reading) -> str | None:
    """Why a first read may be of a page the wrong way up (None: it reads as upright)."""
    lines = [line for line in reading.lines if len(line.text.strip()) >= 2]
    if len(lines) < _MIN_LINES:
        return None  # a strip, a logo, a near-empty page: too little to tell (and to lose)
    wide = [line for line in lines if not _tall(line)]
    if len(wide) >= _MIN_LINES and sum(line.flipped for line in wide) > _FLIPPED_SHARE * len(wide):
        return "flipped"
    if sum(_tall(line) for line in lines) > _TALL_SHARE * len(lines):
        return "sideways"
    if _confidence(reading) < _POOR_CHARS:
        return "poor"
    return None


def _tall(line: Line) -> bool:
    (x0, y0), (x1, y1), (_, _), (x3, y3) = line.quad[:4]
    width = math.hypot(x1 - x0, y1 - y0)
    height = math.hypot(x3 - x0, y3 - y0)
    return height >= 1.5 * width


def _confidence(reading: Reading) -> float:
    """Confident Chinese read the right way up: characters of the well-read lines that
    ran left to right as the picture stood, weighted by score (a line the classifier had
    to turn round reads well, but says the page is upside down)."""
    return sum(
        len(_CJK.findall(line.text)) * line.score
        for line in reading.lines
        if line.score >= _CONFIDENT and not _tall(line) and not line.flipped
    )


def _best_turn(image: Image.Image, doubt: str) -> int:
    """The clockwise turn (90, 180 or 270; 0: none) under which a small copy of *image*
    reads the most confident Chinese, tried only for a doubted first read."""
    small = image.copy()
    small.thumbnail((_TRIAL_SIDE, _TRIAL_SIDE))
    turns = (90, 270) if doubt == "sideways" else (90, 180, 270)
    scores = {0: _confidence(ocr_lines(small))} if doubt == "poor" else {0: 0.0}
    for turn in turns:
        scores[turn] = _confidence(ocr_lines(small.rotate(-turn, expand=True)))
    best = max(scores, key=lambda t: scores[t])
    log.debug("turns tried on a %s page: %s", doubt, scores)
    return best if scores[best] > _BETTER * scores[0] and scores[best] >= _MIN_LINES else 0


# -- the layout of a table --------------------------------------------------------------------


def _layout(image: Image.Image, level: Reading, skew: float) -> PageLayout:
    """Where the text (already levelled) and the ruled lines of *image* stand, straightened:
    a photo is tilted a degree or two, which over a table's width moves a row by a row's
    height."""
    width, height = image.size
    boxes: list[OcrBox] = [(*line.box, line.text, line.score) for line in level.lines]
    try:
        rules = _rules(image, skew)
    except MemoryError:
        rules = []
    return PageLayout(width=width, height=height, boxes=boxes, rules=rules)


def _skew(lines: list[Line]) -> float:
    """The page's tilt in degrees (image coordinates: positive turns right ends down),
    the median slope of the long lines of text."""
    angles = []
    for line in lines:
        (x0, y0), (x1, y1) = line.quad[0], line.quad[1]
        if x1 - x0 > 3 * abs(y1 - y0) and x1 - x0 > 60:
            angles.append(math.degrees(math.atan2(y1 - y0, x1 - x0)))
    if len(angles) < 3:
        return 0.0
    return float(np.median(angles))


def _rules(image: Image.Image, skew: float) -> list[float]:
    """Heights of the horizontal ruled lines of *image* straightened by *skew*."""
    gray = image.convert("L")
    if gray.width > 2000:
        gray = gray.resize((2000, round(gray.height * 2000 / gray.width)))
    factor = image.width / gray.width
    if abs(skew) > 0.05:
        gray = gray.rotate(skew, resample=Image.Resampling.BILINEAR, fillcolor=255)
    pixels = np.asarray(gray)
    paper = float(np.percentile(pixels, 90))
    dark = pixels < 0.6 * paper
    # a rule one pixel thick, a little off level, runs over two or three rows
    dark[1:] |= dark[:-1].copy()
    dark[:-1] |= dark[1:].copy()
    found = np.flatnonzero(_longest_runs(dark) >= _RULE_SHARE * pixels.shape[1])
    rules: list[float] = []
    start = previous = None
    for y in found.tolist():
        if previous is not None and y - previous > 2:
            rules.append((start + previous) / 2 * factor)  # type: ignore[operator]
            start = None
        start = y if start is None else start
        previous = y
    if start is not None and previous is not None:
        rules.append((start + previous) / 2 * factor)
    return rules


def _longest_runs(dark: np.ndarray) -> np.ndarray:
    """The longest run of True in each row of *dark*: a ruled line is one run across the
    table, a row of text many short ones (and a desk around a photo is cut off by paper)."""
    rows = dark.shape[0]
    padded = np.zeros((rows, dark.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = dark
    steps = np.diff(padded, axis=1)
    start_rows, starts = np.nonzero(steps == 1)
    _, ends = np.nonzero(steps == -1)  # the same count per row, in the same order
    longest = np.zeros(rows, dtype=np.int64)
    np.maximum.at(longest, start_rows, ends - starts)
    return longest
