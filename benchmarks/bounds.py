"""The clock side of the bounded-work tests: what the unit tests count, timed here.

    .venv/bin/python benchmarks/bounds.py [--repeat 3] [--bombs] [--no-dovecot]

The unit tests assert bounded work by counting (values handed to the stdlib's quadratic
parameter reader, multiparts its parser opens, PDF pages loaded, bytes inflated, soffice
starts, anvil penalties; see tests/support/counting.py) and never by the clock. The
seconds, and the limits those tests used to assert, are here:

- hostile headers (tests/intake/test_hostile_headers.py): each attack through the call
  the test makes;
- documents (tests/intake/test_documents.py): a 900-page PDF and a 50 MiB zip bomb
  refused, the typical docx + PDF sample mail opened, a .doc and a .wps in one
  LibreOffice batch;
- PDF tables (tests/intake/test_pdf_tables.py): graph paper, the five sample PDFs;
- MIME (tests/intake/test_mime.py): the slowest file of the peer corpus;
- Dovecot (tests/support/test_servers.py): three failed logins and the next good one;
- ``--bombs``: every case of tests/intake/test_bombs.py in a fresh spawned process.

Each row is the best of ``--repeat`` runs (after one warm-up); "goal" is the old test's
limit. Rows that need ``../shared`` or LibreOffice are left out without them. Figures
also go to benchmarks/results/bounds.json. Exit status 1 if a row is over its goal.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import multiprocessing
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from support import SHARED  # noqa: E402
from support.factory import archives, bombs, pdfs, word  # noqa: E402
from support.factory import office as factory_office  # noqa: E402

from campaign import RoundPolicy  # noqa: E402
from intake.attachments import open_attachments  # noqa: E402
from intake.classify import cloud_links  # noqa: E402
from intake.documents.limits import Budget, Deadline, Limits  # noqa: E402
from intake.documents.pdf import read_pdf  # noqa: E402
from intake.mime import Attachment, parse_message  # noqa: E402
from intake.understand import understand  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "bounds.json"


def _test_module(relative: str) -> ModuleType:
    """A test module loaded by path, for its builders (tests are not a package)."""
    path = REPO / "tests" / relative
    spec = importlib.util.spec_from_file_location(f"_bounds_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _best(call: Callable[[], object], repeat: int) -> float:
    call()  # warm-up: lazy imports, caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def _header_rows() -> list[tuple[Any, ...]]:
    hh = _test_module("intake/test_hostile_headers.py")
    mail, mp, parts, nested, readers = hh.mail, hh.MULTI, hh.PARTS, hh.nested, hh.all_readers
    ids = b" ".join(b"<%d@x.cn>" % i for i in range(100_000))
    words = b" ".join(b"=?x-cs%d?B?gIGCg4SF?=" % (i % 2) for i in range(20_000))
    received = b"Received: from " + b"x " * 500_000 + b"by us; Mon, 13 Jan 2025 10:00:00 +0800\r\n"
    pieces = b"".join(b"filename*%d*=%%E7%%94%%B3; " % i for i in range(20_000))
    disposition = b"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; " + pieces
    many = b"".join(b'--b\r\nContent-Type: application/octet-stream; name="f%d.bin"\r\n\r\nx\r\n' % i
                    for i in range(10_000))  # fmt: skip
    empty = b'--b\r\nContent-Type: multipart/mixed; boundary="e"\r\n\r\n--e--\r\n' * 10_000
    deep = nested(400, b"Content-Type: text/plain\r\n\r\n" + b"x\r\n" * 100_000)
    rows: list[tuple[Any, ...]] = []
    for label, sender in (("From: 600 '('", b"(" * 600 + b"zhang@example.cn"),
                          ("From: 5,000 'a:' groups", b"a:" * 5000 + b"zhang@example.cn")):  # fmt: skip
        raw = mail(From=sender, Date=b"Mon, 13 Jan 2025 +9999")
        rows.append((f"headers: {label}, all readers", lambda raw=raw: readers(raw), 2))
    rows += [
        ("headers: References of 100,000 ids, all readers",
         lambda: readers(mail(References=ids, In_Reply_To=ids)), 2),
        ("headers: 1 MB Subject, all readers", lambda: readers(mail(Subject=b"A" * 1_000_000)), 2),
        ("headers: 20,000 encoded words, all readers", lambda: readers(mail(Subject=words)), 2),
        ("headers: 1 MB Received, all readers", lambda: readers(received + mail()), 2),
        ("MIME: 200,000 ';' in a Content-Type value",
         lambda: parse_message(mail(Content_Type=mp + b'; x="' + b";" * 200_000 + b'"', body=parts)), 2),
        ("MIME: 20,000 RFC 2231 parameters",
         lambda: parse_message(mail(Content_Type=mp + b"; " + b"".join(
             b"x*%d*=y; " % i for i in range(20_000)), body=parts)), 2),
        ("MIME: 20,000 file name continuations",
         lambda: parse_message(mail(Content_Type=mp, body=disposition + b"\r\n\r\nx\r\n--b--\r\n")), 2),
        ("MIME: 10,000 parts", lambda: parse_message(mail(Content_Type=mp, body=many + b"--b--\r\n")), 5),
        ("MIME: 10,000 empty multiparts",
         lambda: parse_message(mail(Content_Type=mp, body=empty + b"--b--\r\n")), 5),
        ("MIME: 400 nested multiparts, 100,000 lines", lambda: parse_message(deep), 3),
        ("cloud_links on 1 MB runs",
         lambda: cloud_links("x" * 1_000_000, "见" * 500_000, "a." * 500_000), 2),
        ("understand: 200 KB run of letters before a link",
         lambda: understand(mail(body=b"a" * 200_000 + b" https://pan.baidu.com/s/1abc \r\n"),
                            RoundPolicy()), 5),
    ]  # fmt: skip
    return rows


def _document_rows() -> list[tuple[Any, ...]]:
    long_pdf = pdfs.text_pdf(["page"] * 900)
    bomb = archives.zip_bomb(50)
    rows: list[tuple[Any, ...]] = [
        ("documents: 900-page PDF refused",
         lambda: open_attachments([Attachment("附件.pdf", long_pdf, "")]), 2),
        ("documents: 50 MiB zip bomb refused",
         lambda: open_attachments([Attachment("材料.zip", bomb, "")]), 1),
    ]  # fmt: skip
    typical = SHARED / "samples" / "mails" / "002-direct-docx-and-pdf.eml"
    if typical.is_file():
        raw = typical.read_bytes()
        rows.append(("documents: typical sample mail, .docx + PDF",
                     lambda: open_attachments(parse_message(raw).attachments), 0.6))  # fmt: skip
    if factory_office.soffice_available():
        form = word.make_docx(["揭榜挂帅申报书", "单位名称：山东某某研究院"])
        doc = factory_office.convert({"申报书.docx": form}, "doc")["申报书.doc"]
        pair = [Attachment("申报书.doc", doc, ""), Attachment("申报书.wps", doc, "")]
        rows.append(("documents: .doc + .wps in one LibreOffice batch",
                     lambda: open_attachments(pair), 20))  # fmt: skip
    return rows


def _table_rows() -> list[tuple[Any, ...]]:
    tables = _test_module("intake/test_pdf_tables.py")
    steps = range(50, 800, 5)
    grid = b"0.2 w " + b"".join([b"50 %d m 795 %d l S " % (y, y) for y in steps]
                                + [b"%d 50 m %d 795 l S " % (x, x) for x in steps])  # fmt: skip
    content = grid + tables._text_ops()
    paper = pdfs._assemble([
        b"<< /Type /Catalog /Pages 3 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Pages /Kids [5 0 R] /Count 1 >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 800 800] /Contents 4 0 R "
        b"/Resources << /Font << /F1 2 0 R >> >> >>",
    ], 1, b"")  # fmt: skip
    rows: list[tuple[Any, ...]] = [
        ("PDF tables: graph paper of 150 × 150 lines",
         lambda: read_pdf(paper, Budget(Limits()), Deadline(60)), 5),
    ]  # fmt: skip
    samples = tables._sample_pdfs() if (SHARED / "samples").is_dir() else []
    if samples:
        def each() -> None:
            for data in samples:
                read_pdf(data, Budget(Limits()), Deadline(60))

        rows.append((f"PDF tables: the {len(samples)} sample PDFs, seconds per PDF",
                     each, 0.2, len(samples)))  # fmt: skip
    return rows


def _peer_corpus_row() -> tuple[str, float, float] | None:
    corpus = SHARED / "corpus" / "peers"
    if not corpus.is_dir():
        return None
    files = [p for p in corpus.rglob("*")
             if p.is_file() and p.suffix.lower() in (".eml", ".msg", ".txt", ".raw", "")]  # fmt: skip
    slowest = 0.0
    for path in files:
        data = path.read_bytes()
        start = time.perf_counter()
        parse_message(data)
        slowest = max(slowest, time.perf_counter() - start)
    return (f"MIME: slowest of the {len(files)} peer-corpus files", slowest, 5)


def _dovecot_rows() -> list[tuple[str, float, float]]:
    from imapclient.exceptions import LoginError
    from support.servers.dovecot import Dovecot

    with tempfile.TemporaryDirectory() as tmp, Dovecot(Path(tmp)) as dovecot:
        start = time.perf_counter()
        for _ in range(3):
            try:
                dovecot.client(password="wrong")
            except LoginError:
                pass
        failed = time.perf_counter() - start
        start = time.perf_counter()
        dovecot.client().logout()
        good = time.perf_counter() - start
    return [("Dovecot: 3 failed logins (~0.5 s each: its flush timer)", failed, 4.5),
            ("Dovecot: the good login after them (no per-IP penalty)", good, 1.5)]  # fmt: skip


def _bomb_rows() -> list[tuple[str, float, float]]:
    cases = _test_module("intake/test_bombs.py").CASES
    context = multiprocessing.get_context("spawn")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for case_id, case in cases.items():
            path = Path(tmp) / "bomb"
            case.build(path)
            results = context.Queue()
            child = context.Process(target=bombs.open_in_fresh_process,
                                    args=(str(path), case.name, False, results))  # fmt: skip
            child.start()
            out: dict[str, Any] = results.get(timeout=600)
            child.join(30)
            rows.append((f"bomb: {case_id} (peak RSS +{out['grown_mb']:.0f} MB)", out["seconds"], 10))
            path.unlink()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per row, best kept (default 3)")
    parser.add_argument("--bombs", action="store_true", help="also every test_bombs.py case")
    parser.add_argument("--no-dovecot", action="store_true", help="leave out the Dovecot rows")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)  # every attack logs the limit it met

    measured: list[tuple[str, float, float]] = []
    for label, call, goal, *per in _header_rows() + _document_rows() + _table_rows():
        measured.append((label, _best(call, args.repeat) / (per[0] if per else 1), goal))
    peer = _peer_corpus_row()
    if peer:
        measured.append(peer)
    if not args.no_dovecot:
        measured += _dovecot_rows()
    if args.bombs:
        measured += _bomb_rows()

    print("| check | seconds | goal | |\n|---|---:|---:|---|")
    for label, seconds, goal in measured:
        print(f"| {label} | {seconds:.3f} | {goal:g} | {'ok' if seconds < goal else 'OVER'} |")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps([{"check": c, "seconds": s, "goal": g} for c, s, g in measured],
                                  ensure_ascii=False, indent=1))  # fmt: skip
    return 1 if any(seconds >= goal for _, seconds, goal in measured) else 0


if __name__ == "__main__":
    sys.exit(main())
