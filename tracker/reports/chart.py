"""The digest's chart: cumulative submissions per day against the deadlines (PNG).

matplotlib's default font has no Chinese glyphs and would silently draw boxes, so a
CJK font is looked up explicitly (Debian ``fonts-noto-cjk``) and its absence is an
error, not a warning.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

import matplotlib

matplotlib.use("Agg")  # no display on a server; must precede pyplot

import matplotlib.dates as mdates  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from tracker.reports.views import DailyPoint, DeadlineItem  # noqa: E402

# preferred first; all cover Simplified Chinese
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Noto Serif CJK SC",
                "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Droid Sans Fallback")
_GLYPH_WARNING = "missing from font"


class ChartFontMissing(RuntimeError):
    """No font with Chinese glyphs is installed (install Debian fonts-noto-cjk)."""


class MissingGlyphs(RuntimeError):
    """matplotlib drew a character its font lacks (it would show as a box)."""


@dataclass(frozen=True)
class Chart:
    png: bytes
    font_family: str  # the family the Chinese labels were drawn with
    font_file: str  # the file matplotlib resolved for a Chinese label


def cjk_font() -> font_manager.FontProperties:
    """A FontProperties whose family has Chinese glyphs; ChartFontMissing if none is installed."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in installed:
            return font_manager.FontProperties(family=family)
    raise ChartFontMissing(
        "no CJK font found for the digest chart (tried " + ", ".join(CJK_FAMILIES)
        + "); install the Debian package fonts-noto-cjk"
    )


def _span(points: Sequence[DailyPoint], deadlines: Sequence[DeadlineItem], today: date) -> tuple[date, date]:
    days = [p.day for p in points] + [d.day for d in deadlines]
    start = min(days, default=today) - timedelta(days=1)
    end = max(days, default=today) + timedelta(days=2)
    if start <= today <= end + timedelta(days=30):  # today only when it is near the round
        end = max(end, today + timedelta(days=1))
    return start, end


def render_chart(points: Sequence[DailyPoint], deadlines: Sequence[DeadlineItem], *, today: date,
                 title: str = "累计申报数量") -> Chart:
    """The PNG; raises ChartFontMissing or MissingGlyphs rather than draw boxes."""
    font = cjk_font()
    fig = Figure(figsize=(8, 3.6), dpi=110)
    ax = fig.add_subplot()
    start, end = _span(points, deadlines, today)
    steps = [start, *[p.day for p in points], end]  # a step line from zero to "now"

    def series(get: Callable[[DailyPoint], int]) -> list[int]:
        values = [0, *[get(p) for p in points]]
        return [*values, values[-1]]

    # x values are dates: matplotlib's units machinery (matplotlib.dates) takes them as they
    # are and picks date ticks for them, but its stubs type x as float (hence the ignores)
    ax.step(steps, series(lambda p: p.total), where="post", color="#1f4e9c", linewidth=2, label="合计")  # type: ignore[arg-type]
    ax.step(steps, series(lambda p: p.direct), where="post", color="#2e8b57", linewidth=1.2,  # type: ignore[arg-type]
            linestyle="--", label="直报")
    ax.step(steps, series(lambda p: p.via_city), where="post", color="#d2691e", linewidth=1.2,  # type: ignore[arg-type]
            linestyle=":", label="设区市推荐")
    top = max([p.total for p in points] + [1])
    for day in sorted({d.day for d in deadlines}):  # two deadlines on one day: one line
        ax.axvline(day, color="#c0392b", linewidth=1, alpha=0.8)  # type: ignore[arg-type]
        ax.text(day, top * 1.02, f"{day.month}月{day.day}日截止", fontproperties=font, fontsize=8,  # type: ignore[arg-type]
                color="#c0392b", ha="center", va="bottom")
    if start <= today <= end:
        ax.axvline(today, color="#888888", linewidth=1, linestyle="--")  # type: ignore[arg-type]
        ax.text(today, top * 1.1, "今天", fontproperties=font, fontsize=8, color="#555555", ha="center")  # type: ignore[arg-type]
    ax.set_xlim(start, end)  # type: ignore[arg-type]
    ax.set_ylim(0, top * 1.18 + 0.5)
    # the default y locator is an AutoLocator, a MaxNLocator (Locator's stub knows no parameters)
    cast(MaxNLocator, ax.yaxis.get_major_locator()).set_params(integer=True)
    # matplotlib.dates has no type hints
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))  # type: ignore[no-untyped-call]
    ax.set_title(title, fontproperties=font, fontsize=12)
    ax.set_ylabel("申报项数", fontproperties=font)
    ax.legend(prop=font, loc="upper left", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    buf = io.BytesIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(buf, format="png")
    missing = [str(w.message) for w in caught if _GLYPH_WARNING in str(w.message)]
    if missing:
        raise MissingGlyphs("; ".join(missing[:3]))
    resolved = font_manager.findfont(ax.title.get_fontproperties(), fallback_to_default=False)
    return Chart(png=buf.getvalue(), font_family=font.get_family()[0], font_file=resolved)
