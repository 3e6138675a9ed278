"""The whole service against a plain-Python floor, on the same mail, in one run.

    .venv/bin/python benchmarks/throughput.py [--copies 600] [--repeat 1] [--pools 1,default]

1. **corpus** — ``--copies`` messages (default 600), the public samples
   (``/work/shared/samples/mails``, or ``--samples DIR``) round-robin, else the
   project's ``examples/mails``; each copy gets a unique Message-ID (nothing else
   changes, so every copy is stored and understood as a new message).
2. **pipeline** — for each pool size: a fresh temp dir with a Maildir holding the
   corpus, a SQLite database and a config (the samples' ``config.yaml`` or the
   project's, with paths, ``processing.workers`` and a per-run limit above the corpus
   size), then ``jiebang run --once`` as a subprocess until no message is left
   ``stored``. Wall time includes interpreter start-up, migration, fetch, store,
   understanding, recording and queueing answers (the whole cycle an operator runs).
   Peak RSS: psutil polls the process tree every 50 ms — the service process, the
   largest worker, and the tree's sum at its peak.
3. **floor** — in this process, single-threaded, over the same files: read, write the
   raw bytes content-addressed and insert a row in SQLite (committed every 25), parse
   with the stdlib ``email`` package, and take the text of every .docx (python-docx),
   .pdf (pypdfium2, every page) and .xlsx (openpyxl), zip members included.

Best of ``--repeat`` runs for each line. Figures go to stdout and to
``benchmarks/results/throughput.json``.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import hashlib
import io
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil
import yaml

REPO = Path(__file__).resolve().parents[1]
SAMPLES = Path("/work/shared/samples")
MiB = 1024 * 1024
_MSGID = re.compile(rb"^Message-ID:[ \t]*<([^>\r\n]*)>", re.I | re.M)


# -- corpus ------------------------------------------------------------------------------------
def sources(samples: Path | None) -> tuple[list[Path], Path]:
    """The .eml files to copy and the config they go with."""
    base = samples or SAMPLES
    if (base / "mails").is_dir():
        mails = sorted((base / "mails").glob("*.eml"))
        config = base / "config.yaml" if (base / "config.yaml").exists() else REPO / "config.yaml"
        if mails:
            return mails, config
    return sorted((REPO / "examples" / "mails").glob("*.eml")), REPO / "config.yaml"


def unique(raw: bytes, n: int) -> bytes:
    """The message with Message-ID ``<bench-n.…>`` (only the top header block is touched)."""
    end = raw.find(b"\r\n\r\n")
    end = raw.find(b"\n\n") if end < 0 else end
    head, body = (raw, b"") if end < 0 else (raw[:end], raw[end:])
    head, count = _MSGID.subn(
        lambda m: b"Message-ID: <bench-%d.%s>" % (n, m.group(1)), head, count=1
    )
    if not count:
        head = b"Message-ID: <bench-%d@throughput.example>\r\n" % n + head
    return head + body


def build_corpus(mails: list[Path], copies: int, folder: Path) -> list[Path]:
    raws = [p.read_bytes() for p in mails]
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for n in range(copies):
        path = folder / f"{n:06d}.eml"
        path.write_bytes(unique(raws[n % len(raws)], n))
        out.append(path)
    return out


# -- peak memory ------------------------------------------------------------------------------
@dataclass
class Peaks:
    service: int = 0  # the `jiebang run` process
    worker: int = 0  # the largest single worker (children of the fork server)
    tree: int = 0  # the whole tree at its largest sampled moment
    service_cpu: float = 0.0  # CPU seconds of the service process (last sample, summed over runs)
    worker_cpu: float = 0.0  # CPU seconds of the workers (the pool's closing log line)


def _poll_tree(pid: int, peaks: Peaks, done: threading.Event) -> None:
    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    base = peaks.service_cpu  # earlier runs of the same line
    while not done.is_set():
        try:
            service = root.memory_info().rss
            children = root.children(recursive=True)
            times = root.cpu_times()
            peaks.service_cpu = base + times.user + times.system
        except psutil.NoSuchProcess:
            return
        total, largest = service, 0
        for child in children:
            try:
                rss = child.memory_info().rss
                # workers are forked by the fork server (the service's direct child);
                # the fork server itself and LibreOffice count in the tree only
                if child.ppid() != pid and "python" in child.name():
                    largest = max(largest, rss)
            except psutil.NoSuchProcess:
                continue
            total += rss
        peaks.service = max(peaks.service, service)
        peaks.worker = max(peaks.worker, largest)
        peaks.tree = max(peaks.tree, total)
        done.wait(0.05)


# -- pipeline ---------------------------------------------------------------------------------
@dataclass
class Run:
    label: str
    messages: int
    seconds: float
    peaks: Peaks
    runs: int  # `run --once` invocations needed
    quarantined: int
    deaths: int  # workers that ended while understanding (a respawn costs ~1 s)

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


def _config(template: Path, root: Path, workers: int | None, copies: int) -> Path:
    data = yaml.safe_load(template.read_text(encoding="utf-8"))
    data.setdefault("mailbox", {}).update(
        url=f"maildir:{root / 'inbox'}", max_messages_per_run=copies + 10
    )
    data.setdefault("smtp", {}).update(url=f"maildir:{root / 'outbox'}")
    data["database"] = {"url": f"sqlite:///{root / 'jiebang.db'}"}
    data["storage"] = {"path": str(root / "store")}
    data.setdefault("receiver", {})["enabled"] = False
    processing = data.setdefault("processing", {})
    processing.pop("workers", None)
    if workers is not None:
        processing["workers"] = workers
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _states(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("select state, count(*) from message group by state").fetchall())


def run_pipeline(
    corpus: list[Path], template: Path, workers: int | None, label: str, code: Path | None = None
) -> Run:
    command = [str(REPO / ".venv" / "bin" / "jiebang")]
    env = dict(os.environ)
    if code is not None:  # another checkout ahead of the editable install on sys.path
        command = [
            sys.executable,
            "-c",
            "import sys; from tracker.cli import main; sys.exit(main())",
        ]
        env["PYTHONPATH"] = str(code)
    with tempfile.TemporaryDirectory(prefix="jiebang-bench-") as tmp:
        root = Path(tmp)
        new = root / "inbox" / "new"
        for sub in ("new", "cur", "tmp"):
            (root / "inbox" / sub).mkdir(parents=True)
        for path in corpus:
            shutil.copyfile(path, new / f"{path.stem}.bench:2,")
        config = _config(template, root, workers, len(corpus))
        peaks, runs, seconds, deaths = Peaks(), 0, 0.0, 0
        states: dict[str, int] = {}
        while runs < 10:
            runs += 1
            done = threading.Event()
            start = time.perf_counter()
            proc = subprocess.Popen(
                [*command, "run", "--once", "--config", str(config)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=root,
                env=env,
            )
            watcher = threading.Thread(target=_poll_tree, args=(proc.pid, peaks, done), daemon=True)
            watcher.start()
            stdout, stderr = proc.communicate()
            seconds += time.perf_counter() - start
            done.set()
            watcher.join()
            if proc.returncode != 0:
                raise SystemExit(
                    f"jiebang run --once failed ({proc.returncode}):\n{stderr.decode()[-3000:]}"
                )
            deaths += len(re.findall(rb"jiebang.workers: worker \d+ ended", stderr))
            peaks.worker_cpu += sum(float(x) for x in re.findall(rb"CPU ([0-9.]+) s \(live workers\)", stderr))
            states = _states(root / "jiebang.db")
            if not states.get("stored") and sum(states.values()) >= len(corpus):
                break
        return Run(
            label, sum(states.values()), seconds, peaks, runs, states.get("quarantined", 0), deaths
        )


# -- floor ------------------------------------------------------------------------------------
def _docx_text(data: bytes) -> str:
    import docx

    doc = docx.Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts += [c.text for c in row.cells]
    return "\n".join(parts)


def _pdf_text(data: bytes) -> str:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        return "\n".join(pdf[i].get_textpage().get_text_bounded() for i in range(len(pdf)))
    finally:
        pdf.close()


def _xlsx_text(data: bytes) -> str:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return "\n".join(
            "\t".join("" if v is None else str(v) for v in row)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
        )
    finally:
        book.close()


def _text(name: str, data: bytes) -> int:
    suffix = name.lower().rsplit(".", 1)[-1]
    if suffix == "docx":
        return len(_docx_text(data))
    if suffix == "pdf":
        return len(_pdf_text(data))
    if suffix == "xlsx":
        return len(_xlsx_text(data))
    if suffix == "zip":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return sum(
                _text(i.filename, archive.read(i)) for i in archive.infolist() if not i.is_dir()
            )
    return 0


def run_floor(corpus: list[Path]) -> float:
    with tempfile.TemporaryDirectory(prefix="jiebang-floor-") as tmp:
        root = Path(tmp)
        db = sqlite3.connect(root / "floor.db")
        db.execute("create table message (id integer primary key, sha text unique, subject text)")
        start = time.perf_counter()
        for n, path in enumerate(corpus):
            raw = path.read_bytes()
            sha = hashlib.sha256(raw).hexdigest()
            (root / sha).write_bytes(raw)
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            db.execute(
                "insert into message (sha, subject) values (?, ?)", (sha, str(msg["subject"] or ""))
            )
            if n % 25 == 24:
                db.commit()
            for part in msg.walk():
                name = part.get_filename()
                if name and not part.is_multipart():
                    _text(name, part.get_payload(decode=True) or b"")
        db.commit()
        seconds = time.perf_counter() - start
        db.close()
    return seconds


# -- report -----------------------------------------------------------------------------------
def _mb(n: int) -> str:
    return f"{n / MiB:.0f} MB" if n else "—"


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--copies", type=int, default=600)
    ap.add_argument(
        "--samples", type=Path, default=None, help="a folder with mails/*.eml (and config.yaml)"
    )
    ap.add_argument("--repeat", type=int, default=1, help="best of this many runs for each line")
    ap.add_argument(
        "--pools",
        default="1,default",
        help="pool sizes to run, comma-separated: N workers, 0 (in process) or default",
    )
    ap.add_argument("--no-floor", action="store_true")
    ap.add_argument(
        "--code",
        type=Path,
        default=None,
        help="run the service from this checkout instead (before/after comparisons)",
    )
    args = ap.parse_args()

    mails, template = sources(args.samples)
    with tempfile.TemporaryDirectory(prefix="jiebang-corpus-") as tmp:
        corpus = build_corpus(mails, args.copies, Path(tmp))
        size = sum(p.stat().st_size for p in corpus)
        print(
            f"corpus: {len(corpus)} messages ({size / MiB:.1f} MB) from {len(mails)} files in "
            f"{mails[0].parent}; config {template}",
            flush=True,
        )
        floor = None
        if not args.no_floor:
            floor = min(run_floor(corpus) for _ in range(args.repeat))
            print(f"floor: {floor:.2f} s", flush=True)
        runs = []
        for spec in args.pools.split(","):
            workers = None if spec == "default" else int(spec)
            label = (
                f"pool of {os.cpu_count()} (default)"
                if workers is None
                else (
                    "in process (workers: 0)"
                    if workers == 0
                    else f"{workers} worker" + ("s" if workers > 1 else "")
                )
            )
            best = None
            for _ in range(args.repeat):
                result = run_pipeline(corpus, template, workers, label, args.code)
                print(
                    f"{label}: {result.messages} messages in {result.seconds:.2f} s "
                    f"({result.rate:.1f}/s, {result.runs} run(s), {result.deaths} worker deaths)",
                    flush=True,
                )
                best = result if best is None or result.seconds < best.seconds else best
            assert best is not None
            runs.append(best)

    floor_rate = len(corpus) / floor if floor else None
    print()
    print(
        "| path | seconds | msgs/s | × floor | CPU ms/msg: service / workers "
        "| peak RSS service | peak RSS worker | peak RSS tree |"
    )
    print("|---|---:|---:|---:|---|---:|---:|---:|")
    if floor is not None and floor_rate:
        print(
            f"| floor (stdlib email + pypdfium2 + python-docx + openpyxl, 1 process) | {floor:.2f} | "
            f"{floor_rate:.1f} | 1.00 | {floor / len(corpus) * 1000:.1f} | — | — | — |"
        )
    for r in runs:
        ratio = f"{r.rate / floor_rate:.2f}" if floor_rate else "—"
        print(
            f"| `jiebang run --once`, {r.label} | {r.seconds:.2f} | {r.rate:.1f} | {ratio} | "
            f"{r.peaks.service_cpu / r.messages * 1000:.1f} / "
            f"{(r.peaks.worker_cpu / r.messages * 1000) if r.peaks.worker_cpu else 0:.1f} | "
            f"{_mb(r.peaks.service)} | {_mb(r.peaks.worker)} | {_mb(r.peaks.tree)} |"
        )
        if r.quarantined or r.deaths:
            print(
                f"  ({r.label}: {r.quarantined} quarantined, {r.deaths} workers died while understanding)"
            )

    results = REPO / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / "throughput.json").write_text(
        json.dumps(
            {
                "when": time.strftime("%Y-%m-%d %H:%M"),
                "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
                "copies": len(corpus),
                "corpus_mb": size / MiB,
                "floor_seconds": floor,
                "floor_rate": floor_rate,
                "runs": [{**asdict(r), "rate": r.rate} for r in runs],
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
