"""Templates → (subject, text, html), in one place.

StrictUndefined makes a missing context key an error (tests render every template).
Every ``{{ value }}`` passes through ``_finalize`` (control characters removed) and, in
``.html`` templates, through autoescaping, so applicant-supplied names stay inert.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from campaign import current
from notifier.clock import local_zone
from notifier.headers import clean_header, strip_controls

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates" / "zh_CN"
_CN_DIGITS = "零一二三四五六七八九十"


class TemplateContextError(ValueError):
    """A context value has the wrong shape (e.g. a naive datetime)."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def cst(value: datetime) -> str:
    """``2025年1月14日 10:02`` in Asia/Shanghai; naive datetimes are refused."""
    if value.tzinfo is None:
        raise TemplateContextError(f"naive datetime {value!r}: pass an aware one")
    local = value.astimezone(local_zone())
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def cn_date(value: date) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(local_zone()).date() if value.tzinfo else value.date()
    return f"{value.year}年{value.month}月{value.day}日"


def cn_num(value: int) -> str:
    """1..10 as Chinese numerals (the notice numbers directions 一 … 八)."""
    return _CN_DIGITS[value] if 0 <= value <= 10 else str(value)


def _finalize(value: Any) -> Any:
    if isinstance(value, str) and not isinstance(value, Markup):
        return strip_controls(value)
    return value


@lru_cache(maxsize=4)
def environment(directory: Path = TEMPLATES_DIR) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(directory)),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(cst=cst, cn_date=cn_date, cn_num=cn_num)
    return env


def template_names(directory: Path = TEMPLATES_DIR) -> list[str]:
    """Names that have all three twins (subject, text, html)."""
    names = {p.name.removesuffix(".subject.txt") for p in directory.glob("*.subject.txt")}
    return sorted(n for n in names if (directory / f"{n}.txt").is_file() and (directory / f"{n}.html").is_file())


def render(name: str, context: Mapping[str, Any], *, directory: Path = TEMPLATES_DIR) -> Rendered:
    """Render the three twins of template *name*; jinja2 errors propagate."""
    env = environment(directory)
    # every template may name the round's facts (title, quota, ...) as ``campaign``
    data = {"campaign": current(), **dict(context)}
    subject = env.get_template(f"{name}.subject.txt").render(data)
    text = env.get_template(f"{name}.txt").render(data)
    html = env.get_template(f"{name}.html").render(data)
    return Rendered(subject=clean_header(subject), text=text, html=html)
