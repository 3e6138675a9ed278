"""A mutational fuzzer for raw mail: seeds, mutators, and what every case must satisfy.

Shared by ``tests/intake/test_fuzz.py`` and ``benchmarks/fuzz.py``. A case is fully
determined by (seed, case number) and the seed list: its random generator is seeded with
both, so a failure found in a 10,000-case run is replayed alone with ``--case N``.

Each case takes one seed message and applies one to three mutators (byte flips, cut
headers, broken or duplicated boundaries, charset lies, deep nesting, many parts, huge
fields, folding abuse, NULs, invalid UTF-8 / GBK mixtures, line-ending chaos, splices of
two seeds, bad transfer encodings). Then ``read_envelope``, ``content_key``,
``parse_message`` and ``understand`` must return within the time bound, and the header
facts must fit the tracker's columns.
"""

from __future__ import annotations

import base64
import logging
import random
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "mails"

# What the tracker's columns and intake's promises allow (intake.envelope).
MAX_MESSAGE_ID = 998
MAX_ADDRESS = 320
MAX_SUBJECT = 64 * 1024 + 1  # the cut adds "…"
MAX_REFERENCES = 50
YEARS = range(1970, 2101)
MAX_OFFSET = timedelta(hours=14)


@dataclass(frozen=True)
class Seed:
    name: str
    raw: bytes


# Attachments that send understand() into document readers or OCR (0.1–4 s each): the
# default suite leaves such seeds out to stay fast; the mutators still reach every
# header and MIME path through the others.
_HEAVY = re.compile(
    rb"image/|application/(?:pdf|msword|vnd\.|octet-stream|zip|x-zip|x-rar|x-7z|ms-tnef|rtf)"
    rb"|\.(?:pdf|docx?|xlsx?|pptx?|wps|odt|rtf|png|jpe?g|gif|tiff?|bmp|rar|7z|zip|dat|msg)\b",
    re.I,
)


def is_light(raw: bytes) -> bool:
    return _HEAVY.search(raw) is None


def example_seeds() -> list[Seed]:
    return [Seed(f"examples/{p.name}", p.read_bytes()) for p in sorted(EXAMPLES.glob("*.eml"))]


def peer_seeds(root: Path, *, max_size: int = 64 * 1024, light: bool = True) -> list[Seed]:
    """The peer corpus' messages (MANIFEST kind "message"), smallest first."""
    manifest = root / "MANIFEST.tsv"
    if manifest.is_file():
        rows = (line.split("\t") for line in manifest.read_text("utf-8").splitlines()[1:])
        paths = [root / r[0] for r in rows if len(r) > 1 and r[1].strip() == "message"]
    else:
        paths = [p for p in root.rglob("*") if p.suffix.lower() in (".eml", ".txt", ".raw")]
    seeds = []
    for path in sorted(paths):
        if not path.is_file() or path.stat().st_size > max_size:
            continue
        raw = path.read_bytes()
        if not light or is_light(raw):
            seeds.append(Seed(str(path.relative_to(root)), raw))
    return seeds


# -- mutators ---------------------------------------------------------------------------

Mutator = Callable[[random.Random, bytes, list[Seed]], bytes]

_BOUNDARY = re.compile(rb'boundary\s*=\s*"?([^";\r\n]+)"?', re.I)
_CHARSET = re.compile(rb'(charset\s*=\s*"?)([^";\s]*)', re.I)
_WORD_LABEL = re.compile(rb"=\?([^?\s]+)\?([bBqQ])\?")
_CTE = re.compile(rb"(?im)^(content-transfer-encoding:[ \t]*)(\S*)")
LIES = [
    b"gb2312", b"gbk", b"gb18030", b"big5", b"utf-8", b"us-ascii", b"iso-8859-1",
    b"utf-16", b"utf-16le", b"utf-32", b"utf-7", b"hz", b"iso-2022-jp", b"ks_c_5601-1987",
    b"idna", b"punycode", b"undefined", b"unicode_escape", b"raw_unicode_escape", b"rot13",
    b"base64", b"zlib", b"hex", b"x-unknown", b"utf-8-purple", b"", b"utf-8*zh",
    b"windows-1252http-equivContent-Type", b"\x00", b"\xe4\xb8\xad", b"A" * 5000,
]
_GARBAGE = [
    "中文主题".encode("gbk"), "中文主题".encode(), "繁體".encode("big5"),
    b"\xe4\xb8", b"\xc0\xaf", b"\x80\x81\xfe\xff", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
    "稷镕".encode("gb18030") + b"\xe4", b"\x00", b"\x1b$B", b"=?gbk?B?", b"?=",
]


def _split(raw: bytes) -> tuple[bytes, bytes, bytes]:
    """(head, separator, body); the separator is empty when there is no body."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        i = raw.find(sep)
        if i >= 0:
            return raw[:i], sep, raw[i + len(sep):]
    return raw, b"", b""


def _eol(raw: bytes) -> bytes:
    return b"\r\n" if b"\r\n" in raw[:4096] else b"\n"


def _spot(r: random.Random, raw: bytes) -> int:
    """A position, more often in the headers than in the body."""
    head, _, _ = _split(raw)
    if r.random() < 0.6 and head:
        return r.randrange(len(head) + 1)
    return r.randrange(len(raw) + 1)


def flip_bytes(r: random.Random, raw: bytes, seeds: list[Seed]) -> bytes:
    data = bytearray(raw)
    for _ in range(r.randint(1, 24)):
        if not data:
            break
        i = min(_spot(r, raw), len(data) - 1)
        data[i] = r.randrange(256) if r.random() < 0.5 else data[i] ^ (1 << r.randrange(8))
    return bytes(data)


def truncate(r: random.Random, raw: bytes, seeds: list[Seed]) -> bytes:
    return raw[: _spot(r, raw)]


def cut_header_line(r: random.Random, raw: bytes, seeds: list[Seed]) -> bytes:
    head, sep, body = _split(raw)
    lines = head.split(b"\n")
    i = r.randrange(len(lines))
    choice = r.random()
    if choice < 0.4:  # a line cut in half, glued to the next one
        line = lines[i]
        lines[i] = line[: r.randrange(len(line) + 1)]
        if i + 1 < len(lines):
            lines[i : i + 2] = [lines[i] + lines[i + 1]]
    elif choice < 0.7:  # no blank line: the body runs into the headers
        sep = _eol(raw)
    else:  # a header with no colon, or a bare continuation on top
        lines.insert(i, r.choice([b"no colon here", b" continuation first", b":", b"\t"]))
    return b"\n".join(lines) + sep + body


def break_boundary(r: random.Random, raw: bytes, seeds: list[Seed]) -> bytes:
    found = _BOUNDARY.findall(raw)
    if not found:
        return raw
    b = r.choice(found)
    choice = r.randrange(7)
    if choice == 0:  # closing delimiter gone
        return raw.replace(b"--" + b + b"--", b"")
    if choice == 1:  # every delimiter gone: one long part
        return raw.replace(b"--" + b, b"")
    if choice == 2:  # a delimiter line repeated
        i = raw.find(b"--" + b)
        return raw[:i] + (b"--" + b + _eol(raw)) * r.randint(2, 50) + raw[i:]
    if choice == 3:  # an empty boundary
        return raw.replace(b"boundary=\"" + b + b"\"", b'boundary=""', 1)
    if choice == 4:  # the declared boundary no longer matches its delimiters
        return raw.replace(b, b + b"x", 1)
    if choice == 5:  # one boundary a prefix of the next
        return raw.replace(b"--" + b, b"--" + b + b"-" + b[:3], r.randint(1, 3))
    return raw.replace(b, b"=_" + b"x" * r.choice([70, 998, 20000]), 1)


def reuse_boundary(r: random.Random, raw: bytes, seeds: list[Seed]) -> bytes:
    found = list(dict.fromkeys(_BOUNDARY.findall(raw)))
    if len(found) < 2:
        return break_boundary(r, raw, seeds)
    keep = found[0]
    for other in found[1:]:  # nested multiparts sharing their parent's boundary
        raw = raw.replace(other, keep)
    return raw


def lie_charset(r: random.Random, raw: bytes, seeds: list[Seed]) -> bytes:
    raw = _CHARSET.sub(lambda m: m.group(1) + r.choice(LIES) if r.random() < 0.7 else m.group(0), raw)
    raw = _WORD_LABEL.sub(lambda m: b"=?" + (r.choice(LIES) or b"x") + b"?" + m.group(2) + b"?", raw)
    if r.random() < 0.5:  # a subject in one charset labelled as another
        text = r.choice(["揭榜挂帅申报材料", "稷镕公司申报书", "山东省大数据局"])
        enc = r.choice(["gbk", "utf-8", "big5", "utf-16"])
        data = text.encode(enc, "replace")
        word = b"=?" + r.choice(LIES) + b"?B?" + base64.b64encode(data) + b"?="
        raw = _with_header(raw, b"Subject", word * r.randint(1, 3))
    return raw


def _with_header(raw: bytes, name: bytes, value: bytes, *, replace: bool = True) -> bytes:
    """``raw`` with header ``name`` set to ``value`` (the first one replaced, else added)."""
    head, sep, body = _split(raw)
    eol = _eol(raw)
    lines = head.split(b"\n")
    prefix = name.lower() + b":"
    for i, line in enumerate(lines):
        if replace and line.lower().startswith(prefix):
            end = i + 1
            while end < len(lines) and lines[end][:1] in (b" ", b"\t"):
                end += 1
            lines[i:end] = [name + b": " + value + (b"\r" if eol == b"\r\n" else b"")]
            return b"\n".join(lines) + (sep or eol + eol) + body
    return name + b": " + value + eol + raw


def _huge_values(r: random.Random) -> list[Callable[[], tuple[bytes, bytes]]]:
    addr = b"sender@example.cn"
    return [
        lambda: (b"Subject", b"A" * r.choice([70_000, 1_000_000])),
        lambda: (b"Subject", b" ".join([b"=?utf-8?B?5Lit5paH?="] * r.choice([300, 70_000]))),
        lambda: (b"Subject", b" ".join(b"=?x-cs%d?B?gIGCg4SF?=" % (i % 2) for i in range(20_000))),
        lambda: (b"Subject", b"".join(r.choice(_GARBAGE) for _ in range(20_000))),
        lambda: (b"References", b" ".join(b"<%d@example.cn>" % i for i in range(100_000))),
        lambda: (b"References", b"<" + b"x" * 5000 + b"@a> <ok@b>"),
        lambda: (b"In-Reply-To", b" ".join([b"<a@b>"] * 50_000)),
        lambda: (b"From", b"(" * r.choice([600, 5000]) + addr),
        lambda: (b"From", b"a:" * r.choice([1000, 5000]) + addr),
        lambda: (b"From", b", ".join([addr] * 20_000)),
        lambda: (b"From", b"x" * 5000 + b"@example.cn"),
        lambda: (b"From", b'"' + b"\\" * 3000 + b'" <' + addr + b">"),
        lambda: (b"From", b"<" + b"a" * 60 + b"@" + b".".join([b"b" * 60] * 6) + b">"),
        lambda: (b"Date", b"Mon, 1 Jan 2024 10:00:00 +9999"),
        lambda: (b"Date", b"Mon, 1 Jan 99999999999 10:00:00 +0800"),
        lambda: (b"Date", b"Mon, 1 Jan " + b"9" * 5000 + b" 10:00:00 +0800"),
        lambda: (b"Date", b"Fri, 30 Feb 2024 25:61:61 -2400"),
        lambda: (b"Date", b"(" * 3000 + b"Mon, 1 Jan 2024 10:00:00 +0800"),
        lambda: (b"Date", b"1 Jan 1900 00:00:00 +0000"),
        lambda: (b"Date", b"9999-12-31T23:59:59+23:59"),
        lambda: (b"Message-ID", b"<" + b"m" * 2000 + b"@example.cn>"),
        lambda: (b"Message-ID", b"<a\x00b@example.cn>"),
        lambda: (b"Message-ID", b"no-brackets-" + b"z" * 3000),
        lambda: (b"Message-ID", b" ".join([b"<x@y>"] * 10_000)),
        lambda: (b"Received", b"from x by y; " + b"Mon, 1 Jan 2024 10:00:00 +0800 " * 40_000),
        lambda: (b"Received", b"from x by y; Mon, 1 Jan 2024 10:00:00 +9999"),
        lambda: (b"Content-Type", b'multipart/mixed; x="' + b";" * 200_000 + b'"'),
        lambda: (b"Content-Type", b"text/plain; " + b"".join(b"name*%d*=x; " % i for i in range(20_000))),
        lambda: (b"Content-Type", b"text/plain; name*" + b"9" * 5000 + b"*=utf-8''a.pdf"),
        lambda: (b"Content-Type", b"multipart/mixed; boundary*=undefined''b; boundary*0=c"),
        lambda: (b"Content-Type", b"text/plain; charset*=idna''x; name*=rot13''y"),
        lambda: (b"Content-Disposition", b'attachment; filename="' + b"n" * 20_000 + b'.pdf"'),
        lambda: (b"Content-Disposition", b'attachment; filename="a.pdf\x00.exe"'),
        lambda: (b"Content-Disposition", b"attachment; filename*=gbk''" + b"%D6%D0" * 3000),
        lambda: (b"Content-Disposition", b'attachment; filename="..\\..\\..\\etc\\passwd"'),
    ]


def huge_field(r: random.Random, raw: bytes, seeds: list[Seed]) -> bytes:
    name, value = r.choice(_huge_values(r))()
    if name == b"Content-Type" and r.random() < 0.5:  # in a nested part rather than on top
        i = raw.lower().find(b"\ncontent-type:", len(_split(raw)[0]))
        if i >= 0:
            end = raw.find(b"\n", i + 1)
            return raw[: i + 1] + name + b": " + value + raw[end if end >= 0 else len(raw):]
    return _with_header(raw, name, value, replace=r.random() < 0.8)


def fold_abuse(r: random.Random, raw: bytes, seeds: list[Seed]) -> bytes:
    name = r.choice([b"Subject", b"From", b"Date", b"Content-Type", b"References", b"X-Long"])
    eol = _eol(raw)
    choice = r.randrange(4)
    if choice == 0:  # folded between every character
        value = (eol + b" ").join(bytes([c]) for c in b"=?utf-8?B?5Lit5paH?= sender@example.cn")
    elif choice == 1:  # thousands of blank continuation lines
        value = b"start" + (eol + b" ") * r.choice([100, 20_000]) + b"end"
    elif choice == 2:  # bare CRs and tabs as folds
        value = b"a\r b\r\tc\rd" * 200
    else:  # one 1 MB physical line
        value = b"x" * 1_000_000
    return _with_header(raw, name, value, replace=r.random() < 0.5)


def insert_nuls(r: random.Random, raw: bytes, seeds: list[Seed]) -> bytes:
    data = bytearray(raw)
    for _ in range(r.randint(1, 20)):
        data.insert(min(_spot(r, raw), len(data)), 0)
    return bytes(data)


def mojibake(r: random.Random, raw: bytes, seeds: list[Seed]) -> bytes:
    data = bytearray(raw)
    for _ in range(r.randint(1, 12)):
        junk = b"".join(r.choice(_GARBAGE) for _ in range(r.randint(1, 8)))
        i = min(_spot(r, raw), len(data))
        data[i:i] = junk
    if r.random() < 0.4:
        name = r.choice([b"Subject", b"From", b"Content-Disposition"])
        junk = b"".join(r.choice(_GARBAGE) for _ in range(r.randint(1, 30)))
        if name == b"Content-Disposition":
            junk = b'attachment; filename="' + junk + b'.docx"'
        return _with_header(bytes(data), name, junk)
    return bytes(data)


def line_endings(r: random.Random, raw: bytes, seeds: list[Seed]) -> bytes:
    lines = raw.replace(b"\r\n", b"\n").split(b"\n")
    choice = r.randrange(4)
    if choice == 3:
        return b"".join(line + r.choice([b"\n", b"\r\n", b"\r", b"\n\r"]) for line in lines)
    return [b"\n", b"\r\n", b"\r"][choice].join(lines)


def splice(r: random.Random, raw: bytes, seeds: list[Seed]) -> bytes:
    other = r.choice(seeds).raw
    return raw[: r.randrange(len(raw) + 1)] + other[r.randrange(len(other) + 1):]


def bad_transfer_encoding(r: random.Random, raw: bytes, seeds: list[Seed]) -> bytes:
    values = [b"base64", b"quoted-printable", b"x-uuencode", b"uuencode", b"7-bit", b"binary",
              b"8bit", b"", b"x-gzip64", b"BASE64 junk", b"\xff\xfe"]
    raw = _CTE.sub(lambda m: m.group(1) + r.choice(values), raw)
    if r.random() < 0.3:  # broken base64 / QP in the body
        head, sep, body = _split(raw)
        body = body.replace(b"=", b"=Z", r.randint(1, 20)).replace(b"A", b"*", r.randint(1, 20))
        raw = head + sep + body
    return raw


def nest_deep(r: random.Random, raw: bytes, seeds: list[Seed]) -> bytes:
    eol = _eol(raw)
    depth = r.choice([11, 20, 50, 150, 400])
    if r.random() < 0.3:  # forwards of forwards
        for level in range(min(depth, 60)):
            raw = (b"From: f%d@example.cn" % level + eol + b"Subject: Fwd" + eol
                   + b"Content-Type: message/rfc822" + eol + eol + raw)
        return raw
    out = [b"From: deep@example.cn", b'Content-Type: multipart/mixed; boundary="n0"', b""]
    for level in range(1, depth):
        out += [b"--n%d" % (level - 1), b'Content-Type: multipart/mixed; boundary="n%d"' % level, b""]
    out += [b"--n%d" % (depth - 1), b"Content-Type: message/rfc822", b"", raw]
    if r.random() < 0.5:
        out += [b"--n%d--" % level for level in reversed(range(depth))]
    return eol.join(out)


def many_parts(r: random.Random, raw: bytes, seeds: list[Seed]) -> bytes:
    eol = _eol(raw)
    count = r.choice([600, 1200, 10_000])
    kind = r.choice([b"text/plain", b"application/octet-stream", b"multipart/mixed"])
    part = b"--p" + eol + b"Content-Type: " + kind + b'; name="f.txt"' + eol + eol + b"x" + eol
    return (b"From: many@example.cn" + eol + b'Content-Type: multipart/mixed; boundary="p"' + eol
            + eol + b"--p" + eol + b"Content-Type: message/rfc822" + eol + eol + raw + eol
            + part * count + b"--p--" + eol)


def utf16_whole(r: random.Random, raw: bytes, seeds: list[Seed]) -> bytes:
    text = raw.decode("utf-8", "replace")
    return (text.encode("utf-16") if r.random() < 0.7 else b"\xff\xfe" + raw)


MUTATORS: dict[str, Mutator] = {
    "flip_bytes": flip_bytes,
    "truncate": truncate,
    "cut_header_line": cut_header_line,
    "break_boundary": break_boundary,
    "reuse_boundary": reuse_boundary,
    "lie_charset": lie_charset,
    "huge_field": huge_field,
    "fold_abuse": fold_abuse,
    "insert_nuls": insert_nuls,
    "mojibake": mojibake,
    "line_endings": line_endings,
    "splice": splice,
    "bad_transfer_encoding": bad_transfer_encoding,
    "nest_deep": nest_deep,
    "many_parts": many_parts,
    "utf16_whole": utf16_whole,
}
# The cheap, local ones are picked more often; the big rewrites are rarer.
_WEIGHTS = {"nest_deep": 0.5, "many_parts": 0.3, "utf16_whole": 0.2, "splice": 0.5}


@dataclass
class Case:
    number: int
    seed: str
    mutators: list[str]
    raw: bytes

    def __str__(self) -> str:
        return f"case {self.number} ({self.seed} + {', '.join(self.mutators)}, {len(self.raw)} bytes)"


def make_case(seeds: list[Seed], seed: int, number: int) -> Case:
    r = random.Random(f"{seed}:{number}")
    base = r.choice(seeds)
    names = list(MUTATORS)
    weights = [_WEIGHTS.get(n, 1.0) for n in names]
    chosen = r.choices(names, weights, k=r.choice([1, 1, 2, 2, 3]))
    raw = base.raw
    for name in chosen:
        raw = MUTATORS[name](r, raw, seeds)
    return Case(number, base.name, chosen, raw)


# -- running one case -------------------------------------------------------------------


class CaseTimeout(BaseException):
    """Raised by the alarm; a BaseException, so intake's own ``except Exception`` lets it by."""


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        yield  # measured afterwards only
        return

    def expire(signum: int, frame: object) -> None:
        raise CaseTimeout(f"over {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class _Errors(logging.Handler):
    """ERROR records from intake: a stage that raised and was caught by understand()."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Outcome:
    case: Case
    seconds: float
    failures: list[str] = field(default_factory=list)
    caught: list[str] = field(default_factory=list)  # errors understand() logged and survived


def run_case(case: Case, policy: object, time_bound: float = 5.0) -> Outcome:
    from intake.envelope import content_key, read_envelope
    from intake.mime import parse_message
    from intake.understand import understand

    outcome = Outcome(case, 0.0)
    errors = _Errors()
    logger = logging.getLogger("jiebang.intake")
    logger.addHandler(errors)
    start = time.perf_counter()
    try:
        with _deadline(time_bound):
            for step, call in (
                ("read_envelope", lambda: read_envelope(case.raw)),
                ("content_key", lambda: content_key(case.raw)),
                ("parse_message", lambda: parse_message(case.raw)),
                ("understand", lambda: understand(case.raw, policy)),  # type: ignore[arg-type]
            ):
                try:
                    result = call()
                except CaseTimeout:
                    raise
                except BaseException as exc:  # noqa: B036 - RecursionError, MemoryError too
                    outcome.failures.append(f"{step} raised {type(exc).__name__}: {str(exc)[:200]}")
                    continue
                outcome.failures += [f"{step}: {p}" for p in result_problems(step, result)]
    except CaseTimeout as exc:
        outcome.failures.append(f"timeout: {exc}")
    finally:
        outcome.seconds = time.perf_counter() - start
        logger.removeHandler(errors)
    if outcome.seconds > time_bound and not any(f.startswith("timeout") for f in outcome.failures):
        outcome.failures.append(f"slow: {outcome.seconds:.2f} s")
    outcome.caught = [r.getMessage()[:200] for r in errors.records]
    return outcome


def result_problems(step: str, result: object) -> list[str]:
    if step == "read_envelope":
        return envelope_problems(result)
    if step == "content_key":
        return [] if isinstance(result, str) and result.startswith("c1:") else [f"key {result!r}"]
    if step == "parse_message":
        problems = envelope_problems(getattr(result, "envelope", None))
        for attachment in getattr(result, "attachments", []):
            problems += _text_problems("attachment name", attachment.name, 1000, nullable=False)
        return problems
    return understanding_problems(result)


def _text_problems(label: str, value: object, limit: int, *, nullable: bool = True) -> list[str]:
    if value is None:
        return [] if nullable else [f"{label} is None"]
    if not isinstance(value, str):
        return [f"{label} is {type(value).__name__}"]
    problems = []
    if len(value) > limit:
        problems.append(f"{label} has {len(value)} chars (> {limit})")
    if "\x00" in value:
        problems.append(f"{label} holds NUL")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        problems.append(f"{label} is not valid Unicode (lone surrogates)")
    return problems


def _id_problems(label: str, value: object) -> list[str]:
    problems = _text_problems(label, value, MAX_MESSAGE_ID)
    if isinstance(value, str) and (not value or re.search(r"[\x00-\x1f\x7f]", value)):
        problems.append(f"{label} empty or holds control characters")
    return problems


def _date_problems(label: str, value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, datetime) or value.tzinfo is None:
        return [f"{label} is not an aware datetime: {value!r}"]
    offset = value.utcoffset()
    if value.year not in YEARS or offset is None or abs(offset) > MAX_OFFSET:
        return [f"{label} out of range: {value.isoformat()}"]
    return []


def envelope_problems(env: object) -> list[str]:
    from intake.model import Envelope

    if not isinstance(env, Envelope):
        return [f"not an Envelope: {type(env).__name__}"]
    problems = _id_problems("message_id", env.message_id)
    problems += _text_problems("from_addr", env.from_addr, MAX_ADDRESS)
    if env.from_addr is not None and "@" not in env.from_addr:
        problems.append(f"from_addr without @: {env.from_addr[:80]!r}")
    problems += _text_problems("subject", env.subject, MAX_SUBJECT, nullable=False)
    problems += _date_problems("date", env.date)
    problems += _date_problems("received_at", env.received_at)
    problems += _id_problems("in_reply_to", env.in_reply_to)
    if not isinstance(env.references, list) or len(env.references) > MAX_REFERENCES:
        problems.append(f"references: {len(env.references)} kept (> {MAX_REFERENCES})")
    for ref in env.references[:MAX_REFERENCES + 1]:
        problems += _id_problems("reference", ref)
    return problems


def understanding_problems(result: object) -> list[str]:
    from intake.model import Understanding

    if not isinstance(result, Understanding):
        return [f"not an Understanding: {type(result).__name__}"]
    problems = _id_problems("message_id", result.message_id)
    problems += _text_problems("from_addr", result.from_addr, MAX_ADDRESS)
    problems += _text_problems("subject", result.subject, MAX_SUBJECT, nullable=False)
    problems += _date_problems("received_at", result.received_at)
    if len(result.thread_ids) > MAX_REFERENCES + 1:
        problems.append(f"{len(result.thread_ids)} thread ids")
    return problems
