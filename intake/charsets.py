"""Turn bytes from Chinese mail into text without ever raising.

Real mail lies about its charset: ``gb2312`` labels carry GBK/GB18030-only
characters, ``iso-8859-1`` or ``us-ascii`` labels carry raw GBK, headers arrive
as raw 8-bit bytes, and encoded words are split in the middle of a character.
Everything here decodes strictly first and falls back step by step, so the
result is the best reading available and never an exception.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re

from charset_normalizer import from_bytes

# Labels whose real-world content is a superset: decode with the superset so
# characters outside the label (e.g. 镕 in a "gb2312" part) survive.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "windows-936": "gb18030",
    "euc-cn": "gb18030",
    "euccn": "gb18030",
    "x-euc-cn": "gb18030",
    "csgb2312": "gb18030",
    "chinese": "gb18030",
    "gb_2312-80": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "cn-big5": "big5hkscs",
    "cp950": "big5hkscs",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "ascii",
    "ansi_x3.4-1968": "ascii",
    "utf8": "utf-8",
}

# Labels that say nothing reliable about 8-bit content: when such a part has
# bytes above 0x7F we try the encodings Chinese senders actually use first.
_WEAK_LABELS = {"ascii", "cp1252", "iso8859-1", "latin-1"}

# What we try, in order, when there is no usable label.
_GUESSES = ("utf-8", "gb18030", "big5hkscs")
_PRIVATE_USE = re.compile("[\ue000-\uf8ff\ud800-\udfff]")


# Python codecs a sender may name that are no mail charset: they raise whatever error
# handler is asked for (idna, undefined) or turn text escapes into lone surrogates.
_NOT_CHARSETS = frozenset({"idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape"})


def codec_for(label: str | None) -> str | None:
    """The Python codec to use for a MIME charset label, or None if unknown."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()[:64]
    name = name.split("*", 1)[0]  # RFC 2231 language suffix: utf-8*zh
    name = _SUPERSETS.get(name, name)
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None
    except Exception:  # a label no codec search function expected (NUL, …)
        return None
    # base64, rot13, zlib … are bytes-to-bytes codecs: .decode() refuses them
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        return None
    # codecs.lookup normalises e.g. "gb2312" itself; map once more.
    return _SUPERSETS.get(info.name, info.name)


def decode_bytes(data: bytes, label: str | None = None) -> str:
    """Decode ``data`` declared as ``label`` (possibly wrong or missing)."""
    if not data:
        return ""
    codec = codec_for(label)
    high = max(data) > 0x7F
    if codec and not (high and codec in _WEAK_LABELS):
        text = _strict(data, codec)
        if text is not None:
            return text
    text = strict_guess(data)
    if text is not None:
        return text
    detected = _detect(data)
    if detected is not None:
        return detected
    try:
        return data.decode(codec or "gb18030", "replace")
    except (LookupError, UnicodeError):
        return data.decode("gb18030", "replace")


def strict_guess(data: bytes) -> str | None:
    """UTF-8, else GB18030 or Big5 when the result reads as Chinese; else None.

    For short strings (file names) where statistical detection is unreliable.
    """
    for guess in _GUESSES:
        text = _strict(data, guess)
        if text is not None and (guess == "utf-8" or _mostly_cjk(text)):
            return text
    return None


def _strict(data: bytes, codec: str) -> str | None:
    try:
        text = data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None
    except UnicodeError:  # some codecs raise the base class
        return None
    # gb18030 maps junk byte pairs to private-use code points: a wrong guess.
    if _PRIVATE_USE.search(text):
        return None
    return text


def _mostly_cjk(text: str) -> bool:
    """True when the non-ASCII characters are mostly common CJK text."""
    wide = [c for c in text if ord(c) > 0x7F]
    if not wide:
        return True
    good = sum(1 for c in wide if _is_common_cjk(c))
    return good / len(wide) >= 0.7


def _is_common_cjk(char: str) -> bool:
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF  # unified ideographs
        or 0x3000 <= code <= 0x303F  # CJK punctuation 、。《》【】
        or 0xFF00 <= code <= 0xFFEF  # full-width forms （），：
        or 0x2010 <= code <= 0x2027  # dashes, quotes, ellipsis
        or 0x2460 <= code <= 0x25FF  # ①, ■ □ box drawing
        or 0x2610 <= code <= 0x2613  # ☐ ☑ ☒
        or 0x2713 <= code <= 0x2714  # ✓ ✔
        or code == 0x221A  # √
        or code == 0x00B7  # ·
    )


def _detect(data: bytes) -> str | None:
    best = from_bytes(data[:65536]).best()
    if best is None or best.encoding is None:
        return None
    try:
        return data.decode(codec_for(best.encoding) or best.encoding, "replace")
    except (LookupError, UnicodeError):
        return None


# -- headers ---------------------------------------------------------------

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
# Each word may cost a charset detection (~0.4 ms); real headers have a dozen words.
# Past this many the rest of the value is left as it was written.
MAX_ENCODED_WORDS = 256
_FOLD = re.compile(r"\r?\n[ \t]*")


def decode_header(value: str | bytes | None) -> str:
    """Decode an RFC 2047 header value leniently.

    Handles encoded words that split a character across words, bad base64
    padding, encoded words inside quoted strings (Outlook file names), raw
    8-bit bytes (kept by the stdlib parser as surrogate escapes) and folding.
    """
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("ascii", "surrogateescape")
    value = _raw_8bit(_FOLD.sub(" ", value))
    return _decode_words(value).strip()


def _raw_8bit(value: str) -> str:
    """Re-read raw 8-bit header bytes (surrogate escapes) with a real charset."""
    if not any("\udc80" <= c <= "\udcff" for c in value):
        return value
    try:
        data = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # lone surrogates that are no escaped bytes
        data = value.encode("utf-8", "surrogatepass")
    return decode_bytes(data)


def _decode_words(value: str) -> str:
    out: list[str] = []
    pending: list[tuple[str, bytes]] = []  # adjacent words not yet decoded
    pos = 0
    for count, match in enumerate(_ENCODED_WORD.finditer(value)):
        if count == MAX_ENCODED_WORDS:
            break
        gap = value[pos : match.start()]
        if gap and not (pending and gap.isspace()):
            _flush(pending, out)
            out.append(gap)
        label, kind, payload = match.groups()
        data = _word_bytes(kind.lower(), payload)
        if pending and pending[-1][0].lower() == label.lower():
            # Same charset as the previous word: join the bytes first, because
            # senders split multi-byte characters across encoded words.
            pending[-1] = (pending[-1][0], pending[-1][1] + data)
        else:
            pending.append((label, data))
        pos = match.end()
    _flush(pending, out)
    out.append(value[pos:])
    return "".join(out)


def _flush(pending: list[tuple[str, bytes]], out: list[str]) -> None:
    for label, data in pending:
        out.append(decode_bytes(data, label))
    pending.clear()


def _word_bytes(kind: str, payload: str) -> bytes:
    if kind == "q":
        raw = payload.replace("_", " ").encode("ascii", "replace")
        return _unquote_q(raw)
    return lenient_b64decode(payload)


def _unquote_q(raw: bytes) -> bytes:
    return re.sub(rb"=([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)


def lenient_b64decode(text: str | bytes) -> bytes:
    """Base64 that tolerates junk characters and missing or extra padding."""
    if isinstance(text, str):
        text = text.encode("ascii", "ignore")
    clean = re.sub(rb"[^A-Za-z0-9+/]", b"", text)
    clean = clean[: len(clean) - len(clean) % 4] if len(clean) % 4 == 1 else clean
    clean += b"=" * (-len(clean) % 4)
    try:
        return base64.b64decode(clean)
    except binascii.Error:
        return b""


# -- MIME parameters (RFC 2045 / RFC 2231) -----------------------------------

# A 5,000-digit continuation index would not even convert to int: four digits are plenty.
_PARAM_NAME = re.compile(r"^([^*=\s]+)(?:\*(\d{1,4}))?(\*)?$")
MAX_PARAM_TEXT = 16 * 1024  # of one Content-Type / Content-Disposition value
MAX_CONTINUATIONS = 64  # pieces of one RFC 2231 parameter
MAX_PARAMS = 100  # parameters read from one value (each may hold encoded words)


def header_params(value: str | None) -> dict[str, str]:
    """Decoded parameters of a Content-Type / Content-Disposition value.

    Understands RFC 2231 ``name*=charset'lang'%XX`` with ``*0*``/``*1``
    continuations, RFC 2047 encoded words inside quoted values (Outlook,
    Foxmail) and raw 8-bit bytes. Keys are lower-case.
    """
    if not value:
        return {}
    # Raw 8-bit bytes arrive as surrogate escapes; as latin-1 characters they
    # survive the splitting below and become the original bytes again.
    text = _FOLD.sub(" ", value[:MAX_PARAM_TEXT])
    text = text.encode("ascii", "surrogateescape").decode("latin-1")
    plain: dict[str, str] = {}
    pieces: dict[str, list[tuple[int, bool, str]]] = {}
    for item in split_params(text)[1 : MAX_PARAMS + 1]:
        key, _, raw = item.partition("=")
        match = _PARAM_NAME.match(key.strip().lower())
        if not match or not _:
            continue
        name, index, star = match.groups()
        raw = _unquote(raw.strip())
        if index is None and not star:
            plain.setdefault(name, raw)
        else:
            pieces.setdefault(name, []).append((int(index or 0), bool(star), raw))
    params = {k: decode_header(v.encode("latin-1")) for k, v in plain.items()}
    for name, parts in pieces.items():
        decoded = _join_continuations(sorted(parts)[:MAX_CONTINUATIONS])
        if decoded:
            params[name] = decoded  # RFC 2231 wins over a plain duplicate
    return params


def split_params(text: str) -> list[str]:
    """``text`` split at the semicolons outside quoted strings, in one pass."""
    items: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\" and quoted:
            current.append(char)
            escaped = True
        elif char == '"':
            quoted = not quoted
            current.append(char)
        elif char == ";" and not quoted:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return items


def _unquote(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return re.sub(r"\\(.)", r"\1", raw[1:-1])
    if raw.startswith('"'):  # missing closing quote: keep what is there
        return raw[1:]
    return raw


def _join_continuations(parts: list[tuple[int, bool, str]]) -> str:
    charset = None
    data = bytearray()
    for position, (_, extended, raw) in enumerate(parts):
        if extended:
            if position == 0 and raw.count("'") >= 2:
                charset, _lang, raw = raw.split("'", 2)
            data += re.sub(r"%([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), raw).encode(
                "latin-1", "replace"
            )
        else:
            data += raw.encode("latin-1", "replace")
    text = decode_bytes(bytes(data), charset or None)
    # Some senders put encoded words inside the RFC 2231 value as well.
    return decode_header(text) if "=?" in text else text
