"""Making values from mail safe for headers and file names.

Unit names, task names and file names come from applicants' documents; anything that
ends up in a header loses control characters (so a CR/LF can never start a new header)
and is capped in length. Message-IDs from incoming mail are kept only if well formed.
"""

from __future__ import annotations

import re
import unicodedata

SUBJECT_LIMIT = 200
FILENAME_LIMIT = 120
MAX_REFERENCES = 10

# bidi overrides/isolates can make a file name read differently from what it is
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
_MSGID = re.compile(r"<[!-;=?A-~]{1,250}@[!-;=?A-~]{1,250}>")  # printable ASCII but < > @ space
_DOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$")


def _is_control(ch: str) -> bool:
    return ch in _BIDI or unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp")


def strip_controls(value: str) -> str:
    """Every control / line-separator character becomes a space (text keeps its shape)."""
    return "".join(" " if _is_control(ch) else ch for ch in value)


def truncate(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def clean_header(value: str, limit: int = SUBJECT_LIMIT) -> str:
    """One line, no controls, collapsed whitespace, at most *limit* characters."""
    return truncate(" ".join(strip_controls(value).split()), limit)


def clean_filename(name: str, limit: int = FILENAME_LIMIT) -> str:
    """A display file name: no controls, no directory part, never empty."""
    base = re.split(r"[\\/]", strip_controls(name))[-1]
    base = " ".join(base.split()).strip(". ")
    if len(base) > limit:  # keep the extension: it tells the reader what opens the file
        stem, dot, ext = base.rpartition(".")
        ext = ext if dot and len(ext) <= 10 else ""
        base = truncate(stem if ext else base, limit - len(ext) - 1) + (f".{ext}" if ext else "")
    return base or "attachment"


def clean_msgid(value: str | None) -> str | None:
    """The first well-formed ``<left@right>`` in *value*, else None."""
    if not value:
        return None
    found = _MSGID.search(value)
    return found.group(0) if found else None


def clean_references(values: list[str] | tuple[str, ...]) -> list[str]:
    """Well-formed Message-IDs, de-duplicated, the most recent MAX_REFERENCES kept."""
    out: list[str] = []
    for value in values:
        for found in _MSGID.findall(value or ""):
            if found not in out:
                out.append(found)
    return out[-MAX_REFERENCES:]


def address_domain(address: str) -> str:
    """The domain of an address, for our Message-IDs; ``localhost`` if unusable."""
    domain = address.rpartition("@")[2].strip().lower().rstrip(">")
    return domain if _DOMAIN.match(domain) else "localhost"
