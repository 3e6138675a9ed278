"""When a document says it was last saved: which of two versions of one form is the later.

Word keeps it in ``docProps/core.xml`` (``dcterms:modified``, W3CDTF); a PDF in its Info
dictionary (``/ModDate``, else ``/CreationDate``: ``D:YYYYMMDDHHmmSS+08'00'``) or its XMP
packet (``xmp:ModifyDate``). Read from the raw bytes, bounded, never raising. A time
without a zone is taken as China's (UTC+8). The answer is UTC, ``YYYY-MM-DDTHH:MM:SSZ``
(strings of one form compare as times do), or None.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8))
_CORE_BYTES = 256 * 1024  # a core.xml is a few hundred bytes
_W3CDTF = re.compile(r"<dcterms:modified\b[^>]{0,200}>\s*([0-9T:.+\-Zz ]{4,40}?)\s*<")
_PDF_DATE = rb"\(\s*(?:D:)?(\d{4})(\d\d)?(\d\d)?(\d\d)?(\d\d)?(\d\d)?\s*(?:([Zz])|([+\-])(\d\d)'?(\d\d)?'?)?"
_MOD_DATE = re.compile(rb"/ModDate\s*" + _PDF_DATE)
_CREATION_DATE = re.compile(rb"/CreationDate\s*" + _PDF_DATE)
_XMP_DATE = re.compile(
    rb"xmp:ModifyDate(?:>|\s*=\s*[\"'])\s*(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d))?(?:\.\d{1,9})?"
    rb"(?:([Zz])|([+\-])(\d\d):(\d\d))?"
)


def saved_at(data: bytes, fmt: str) -> str | None:
    """When the file says it was last saved (UTC), for a .docx or a PDF; else None."""
    try:
        if fmt == "docx":
            return _docx(data)
        if fmt == "pdf":
            return _pdf(data)
    except Exception:  # a stamp is a hint: a damaged one is no stamp
        return None
    return None


def _utc(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=CHINA)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _docx(data: bytes) -> str | None:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        name = next((n for n in package.namelist() if n.lower() == "docprops/core.xml"), None)
        if name is None:
            return None
        with package.open(name) as part:
            xml = part.read(_CORE_BYTES).decode("utf-8", "replace")
    found = _W3CDTF.search(xml)
    if found is None:
        return None
    text = found.group(1).strip().replace("z", "Z").replace(" ", "T")
    return _utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


def _pdf(data: bytes) -> str | None:
    # an incrementally updated PDF (signed, stamped) carries one Info per revision: the latest counts
    for pattern in (_MOD_DATE, _XMP_DATE, _CREATION_DATE):
        times = [t for m in pattern.finditer(data) if (t := _pdf_time(m)) is not None]
        if times:
            return max(times)
    return None


def _pdf_time(m: re.Match[bytes]) -> str | None:
    year, month, day, hour, minute, second, zulu, sign, zh, zm = m.groups()
    try:
        zone: timezone | None = None
        if zulu:
            zone = UTC
        elif sign:
            offset = timedelta(hours=int(zh), minutes=int(zm or 0))
            zone = timezone(-offset if sign == b"-" else offset)
        when = datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
                        int(second or 0), tzinfo=zone)
    except (ValueError, OverflowError):
        return None
    return _utc(when)
