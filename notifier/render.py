"""Templates → (subject, text, html), in one place.

StrictUndefined makes a missing context key an error (tests render every template).
Every ``{{ value }}`` passes through ``_finalize`` (control characters removed) and, in
``.html`` templates, through autoescaping, so applicant-supplied names stay inert.

Anyone can write to the mailbox, and what they write comes back in official mail: every
applicant-controlled value is written ``{{ unit|data }}`` in the bodies (see :func:`data`)
and never appears in a subject, so a government reply cannot relay a phishing link.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from campaign import current
from campaign.clock import NaiveDatetime, cn_date, cn_datetime, day_end, zone
from notifier.headers import clean_header, strip_controls, truncate

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates" / "zh_CN"
_CN_DIGITS = "零一二三四五六七八九十"


# a context value of the wrong shape (a naive datetime: which moment?); raised by the clock
TemplateContextError = NaiveDatetime


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def open_at(deadline: date, at: datetime) -> bool:
    """*deadline* (a day, through its end in the round's zone) had not passed at *at*.

    ``{% if deadline|open_at(received_at) %}``: a notice names a deadline as one still to
    meet only when it had not passed when the mail it answers arrived."""
    if at.tzinfo is None:
        raise NaiveDatetime(f"naive datetime {at!r}: pass an aware one")
    if isinstance(deadline, datetime):
        deadline = deadline.astimezone(zone()).date() if deadline.tzinfo else deadline.date()
    return at < day_end(deadline)


def situation(context: Mapping[str, Any]) -> str:
    """What a notice is about, read from its context: ``late`` (a LATE item: the material came
    after the deadline), ``wrong_channel`` (a WRONG_CHANNEL item: it belongs to the city
    bureau), ``closed`` (its deadline had passed when the mail arrived), else ``open``.

    Every template may read it as ``situation``: a subject says which notice it is without
    reading the items (their messages are applicant data, never in a subject).
    """
    codes = {item.get("code") for item in context.get("items") or () if isinstance(item, Mapping)}
    for row in context.get("rows") or ():
        if isinstance(row, Mapping):
            codes |= {item.get("code") for item in row.get("problems") or () if isinstance(item, Mapping)}
    if "LATE" in codes:
        return "late"
    if "WRONG_CHANNEL" in codes:
        return "wrong_channel"
    deadline, received = context.get("deadline"), context.get("received_at")
    if isinstance(deadline, date) and isinstance(received, datetime) and not open_at(deadline, received):
        return "closed"
    return "open"


def cn_num(value: int) -> str:
    """1..10 as Chinese numerals (the notice numbers directions 一 … 八)."""
    return _CN_DIGITS[value] if 0 <= value <= 10 else str(value)


DATA_LIMIT = 200

# Detection runs on a "folded" copy of the text in which look-alikes count as their ASCII
# twin (ｈｔｔｐ：／／evil．com is a link to a browser); the output keeps the original
# characters except the parts that are defanged.
_FOLD_EXTRA = {"\u2024": ".", "\ufe52": ".", "\uff61": ".", "\u2044": "/", "\u2215": "/",
               "\u29f8": "/", "\u29f9": "\\", "\ufe68": "\\", "\ua789": ":"}
_IDEOGRAPHIC_STOP = "\u3002"  # a label separator in IDNA, but also the Chinese full stop
_SCHEME_NAMES = {"http": "hxxp", "https": "hxxps", "ftp": "fxp", "ftps": "fxps", "sftp": "sfxp"}
_SCHEME_NAMES.update({v: v for v in list(_SCHEME_NAMES.values())})  # already defanged: kept
# TLDs a mail client may link without a scheme; file extensions that are also TLDs
# (.zip .mov .ai .py .md ...) are left out so that file names stay readable
_TLDS = ("com|net|org|cn|top|xyz|info|biz|io|co|cc|me|tv|vip|shop|site|online|club|live|icu|"
         "work|link|click|ltd|wang|fun|store|tech|space|website|pro|mobi|asia|app|dev|ru|tk|ml|"
         "ga|cf|gq|pw|ly|gov|edu|hk|tw|uk|us|jp|kr|de|fr")
_URL_CHAR = r"""(?:[!#-&(-;=?-_a-~]|[^\x00-\x7f\W])"""  # printable ASCII but space " ' < > `, or a non-ASCII word char
_SCHEME = re.compile(
    r"(?P<known>https?|ftps?|sftp|hxxps?|fxps?|sfxp)(?P<ksep>\s*:\s*[/\\]+|:)"  # http:evil, http : // evil
    r"|(?<![A-Za-z0-9+.\-])(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]{0,30}):(?P<sep>[/\\]{2})",
    re.IGNORECASE,
)
_LINKISH = re.compile(
    rf"""(?:https?|ftps?|sftp)(?:\s*:\s*[/\\]+|:){_URL_CHAR}*
    |(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{{0,30}}:[/\\]{{2}}{_URL_CHAR}*
    |(?<![A-Za-z0-9/\\])[/\\]{{2}}(?=[\w\-]+(?:\.[\w\-]+)+){_URL_CHAR}*
    |(?<![A-Za-z0-9_.@\-])www\d{{0,3}}\.(?=[\w\-]){_URL_CHAR}*
    |(?P<email>(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@(?:[A-Za-z0-9\-]+\.)+[A-Za-z]{{2,}}(?![A-Za-z0-9\-]))
    |(?<![A-Za-z0-9_.@\-])(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{{0,61}}[A-Za-z0-9])?\.)+(?:{_TLDS})(?![A-Za-z0-9\-])
        (?:[/:?#]{_URL_CHAR}*)?""",
    re.IGNORECASE | re.VERBOSE,
)
_TRAILING = ".,;:!?)]}*'\""  # what linkifiers leave out at the end of a link


def _fold(text: str) -> str:
    """*text* with each look-alike replaced by its ASCII twin; same length, same indices."""
    out = []
    for ch in text:
        if not ch.isascii():
            folded = _FOLD_EXTRA.get(ch) or unicodedata.normalize("NFKC", ch)
            ch = folded if len(folded) == 1 and folded.isascii() else ch
        out.append(ch)
    for i, ch in enumerate(out):  # evil。example is a host name, 登录。请 is a sentence
        if ch == _IDEOGRAPHIC_STOP and i + 1 < len(out) and out[i + 1].isascii() and out[i + 1].isalnum():
            out[i] = "."
    return "".join(out)


def _defang_span(original: str, folded: str) -> str:
    out: list[str] = []
    done = 0
    for m in _SCHEME.finditer(folded):
        out.append(_bracket_dots(original[done:m.start()], folded[done:m.start()]))
        if m.group("known"):
            name = m.group("known").lower()
            slashes = "".join(c for c in m.group("ksep") if c in "/\\").replace("\\", "/")
            out.append(f"{_SCHEME_NAMES[name]}:{slashes}")
        else:
            name = m.group("scheme").lower()
            out.append(f"{_SCHEME_NAMES[name]}://" if name in _SCHEME_NAMES else f"{name}[:]//")
        done = m.end()
    out.append(_bracket_dots(original[done:], folded[done:]))
    return "".join(out)


def _bracket_dots(original: str, folded: str) -> str:
    out = []
    for i, (ch, f) in enumerate(zip(original, folded, strict=True)):
        already = 0 < i < len(folded) - 1 and folded[i - 1] == "[" and folded[i + 1] == "]"
        out.append("[.]" if f == "." and not already else ch)
    return "".join(out)


def defang(text: str) -> str:
    """URLs, ``//host`` and ``www.`` hosts (and bare domains under common TLDs) made inert:
    ``http://evil.example/x`` → ``hxxp://evil[.]example/x``; an e-mail address in text keeps
    its local part and loses its link: ``evil@phish[.]example`` (a "unit name" that is an
    address, echoed in an official answer, must not become a mailto link). A value that is
    one address and nothing else (a sender shown to staff) stays as it is."""
    folded = _fold(text)
    out: list[str] = []
    done = 0
    for m in _LINKISH.finditer(folded):
        start, end = m.start(), m.end()
        if m.group("email") and not folded[:start].strip() and not folded[end:].strip():
            continue  # the value is an address and nothing else (a sender, for staff): as it is
        if m.group("email"):
            at = folded.find("@", start, end) + 1
            out.append(text[done:at])
            out.append(_defang_span(text[at:end], folded[at:end]))
            done = end
            continue
        while end > start and folded[end - 1] in _TRAILING:
            end -= 1
        out.append(text[done:start])
        out.append(_defang_span(text[start:end], folded[start:end]))
        done = end
    out.append(text[done:])
    return "".join(out)


def _invisible(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category in ("Cf", "Cs") or (category == "Cc" and not ch.isspace())


def data(value: object, limit: int = DATA_LIMIT) -> str:
    """An applicant-controlled value as inert data: one line, no control or bidi characters,
    links defanged, at most *limit* characters.

    Returns a plain ``str`` (never Markup), so autoescaping still applies in ``.html``.
    """
    if value is None:
        return ""
    # invisible characters go first: removing them may join ``ht\u200btp://`` into a link
    text = "".join(ch for ch in str(value) if not _invisible(ch))
    # at most *limit* characters are shown and defanging does not shorten text (but for the
    # spaces of ``http : //``), so cutting at twice the limit first changes nothing shown and
    # bounds the work a megabyte "unit name" can cause
    text = " ".join(text.split())[: 2 * limit]
    return truncate(defang(text), limit)


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
    env.filters.update(cst=cn_datetime, cn_date=cn_date, cn_num=cn_num, data=data, open_at=open_at)
    return env


def template_names(directory: Path = TEMPLATES_DIR) -> list[str]:
    """Names that have all three twins (subject, text, html)."""
    names = {p.name.removesuffix(".subject.txt") for p in directory.glob("*.subject.txt")}
    return sorted(n for n in names if (directory / f"{n}.txt").is_file() and (directory / f"{n}.html").is_file())


def render(name: str, context: Mapping[str, Any], *, directory: Path = TEMPLATES_DIR) -> Rendered:
    """Render the three twins of template *name*; jinja2 errors propagate."""
    env = environment(directory)
    # every template may name the round's facts (title, quota, ...) as ``campaign``, and
    # what the notice is about as ``situation``
    data = {"campaign": current(), "situation": situation(context), **dict(context)}
    subject = env.get_template(f"{name}.subject.txt").render(data)
    text = env.get_template(f"{name}.txt").render(data)
    html = env.get_template(f"{name}.html").render(data)
    return Rendered(subject=clean_header(subject), text=text, html=html)
