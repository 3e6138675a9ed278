"""Deadline day: a few hundred mails from new senders within minutes, ``jiebang run`` serving.

    .venv/bin/python benchmarks/deadline_day.py [--mails 300] [--scans N] [--pages 3] [--minutes 3] [--trusted N]
        [--wait 3600] [--set SECTION.KEY=VALUE …] [--json PATH]

A private Dovecot and a recording SMTP server (aiosmtpd); ``jiebang run`` (serving, IMAP
IDLE) on SQLite with the **shipped defaults** — the public samples' config (or the repo's
``config.yaml``) with only what the harness needs set: mailbox URL and IDLE, SMTP URL,
database, storage, receiver off and ``schedule.poll_seconds``. Nothing else is
overridden: ``notify.new_address_hourly_cap`` (200), ``notify.receipt_after_seconds``
(60), ``processing.*`` (workers = the CPU count) are as shipped. ``--set`` overrides one
key for a comparison run (e.g. ``--set processing.worker_memory_mb=4096``); the figures
record what was overridden.

The mails (``deployment.py``'s burst corpus): the public samples, ``--scans`` scanned
applications of ``--pages`` image-only pages (OCR; default a third of the mails), eight
.doc applications (LibreOffice) and Word applications, shuffled (fixed seed). Every mail
comes from a **new sender**: the domain of its From / Return-Path / Sender / Reply-To is
rewritten to one of its own (``sNNNN.deadline-day.example.cn``, the local part kept, so an
auto-reply or a MAILER-DAEMON bounce still looks like one), and has a unique Message-ID.
With ``--trusted N``, N of them (spread evenly) carry ``Authentication-Results:
mx.shandong.cn; spf=pass …; dkim=pass …; dmarc=pass …`` for their own domain and the
config says ``mailbox.trusted_authserv_ids: [mx.shandong.cn]``.

Once the service is up the mails are APPENDed at a steady rate over ``--minutes``. Every
mail the SMTP server accepts is timed and matched to the mail it answers by In-Reply-To;
an outgoing mail is a *receipt on arrival* when its outbox row's dedupe key ends in
``:arrival`` (template ``arrival``, subject 正在核验). Measured per mail, from its APPEND:

- **first answer** — the receipt or the full answer, whichever reached the SMTP server first;
- **full answer** — the first answer that is not a receipt on arrival;
- **all full answers out** — from the first APPEND to the last full answer;

and after the run, from the service's database: receipts sent, outbox rows ``held``
(first-contact budget), the mails without any answer by intent / state; and peak RSS of
the service's process tree (psutil every 0.5 s: the tree's sum, the service process,
the largest single worker). The service log's ERROR / Traceback lines are counted.

The run ends when every mail has its full answer, or when nothing is left to do (no
message ``stored``, no outbox row pending, nothing sent for 30 s), or after ``--wait``
seconds past the last APPEND. Figures go to stdout and ``--json`` (default
``benchmarks/results/deadline-day.json``; the service log beside it, ``*-run.log``), with
the load average before and after (other work sharing the cores shows there).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from email import message_from_bytes
from email.policy import default as default_policy
from email.utils import make_msgid
from pathlib import Path

import psutil
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from deployment import JIEBANG, REPO, RESULTS, _burst_mails, _config, _with_id, wait_started  # noqa: E402
from throughput import sources  # noqa: E402

AUTHSERV = "mx.shandong.cn"
MiB = 1024 * 1024

# -- the mails ---------------------------------------------------------------------------------
_SENDER_HEADERS = re.compile(rb"^(?:From|Return-Path|Sender|Reply-To):[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*", re.I | re.M)
_DOMAIN = re.compile(rb"@[A-Za-z0-9.-]+")


def _split(raw: bytes) -> tuple[bytes, bytes]:
    end = raw.find(b"\r\n\r\n")
    end = raw.find(b"\n\n") if end < 0 else end
    return (raw, b"") if end < 0 else (raw[:end], raw[end:])


def new_sender(raw: bytes, n: int, trusted: bool) -> tuple[bytes, str]:
    """*raw* from a never-seen domain of its own (top header block only); the domain."""
    domain = f"s{n:04d}.deadline-day.example.cn"
    head, body = _split(raw)
    head = _SENDER_HEADERS.sub(lambda m: _DOMAIN.sub(b"@" + domain.encode(), m.group(0)), head)
    if trusted:
        eol = b"\r\n" if b"\r\n" in head else b"\n"
        head = (f"Authentication-Results: {AUTHSERV}; spf=pass smtp.mailfrom={domain};"
                f" dkim=pass header.d={domain}; dmarc=pass header.from={domain}").encode() + eol + head
    return head + body, domain


@dataclass
class Mail:
    kind: str  # sample / scan / doc / docx
    raw: bytes
    msgid: str
    domain: str
    trusted: bool
    appended: float = 0.0


def build(total: int, scans: int, pages: int, trusted: int, seed: int = 2025) -> list[Mail]:
    corpus = _burst_mails(total, scans, pages)
    random.Random(seed).shuffle(corpus)
    marked = {round(i * total / trusted) for i in range(trusted)} if trusted else set()
    out = []
    for n, (kind, raw) in enumerate(corpus):
        msgid = make_msgid(idstring=f"dd{n}", domain="deadline-day.example")
        raw, domain = new_sender(_with_id(raw, msgid), n, n in marked)
        out.append(Mail(kind, raw, msgid, domain, n in marked))
    return out


# -- measuring ---------------------------------------------------------------------------------
class _Timed(list):
    """The SMTP server's list of received mail, with the moment each one was accepted."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def append(self, item) -> None:  # type: ignore[no-untyped-def]  # noqa: ANN001
        self.times.append(time.monotonic())
        super().append(item)


@dataclass
class Rss:
    tree: int = 0  # the whole tree at its largest sampled moment
    service: int = 0  # the `jiebang run` process
    worker: int = 0  # the largest single understanding worker
    child: int = 0  # the largest child of any kind (fork server, LibreOffice …)
    samples: int = 0


def _sample(pid: int, rss: Rss, done: threading.Event, every: float = 0.5) -> None:
    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    while not done.is_set():
        try:
            service = root.memory_info().rss
            children = root.children(recursive=True)
        except psutil.NoSuchProcess:
            return
        total, worker, child = service, 0, 0
        for proc in children:
            try:
                value = proc.memory_info().rss
                # workers are forked by the fork server (the service's direct child)
                if proc.ppid() != pid and "python" in proc.name():
                    worker = max(worker, value)
            except psutil.NoSuchProcess:
                continue
            child = max(child, value)
            total += value
        rss.tree, rss.service = max(rss.tree, total), max(rss.service, service)
        rss.worker, rss.child = max(rss.worker, worker), max(rss.child, child)
        rss.samples += 1
        done.wait(every)


@dataclass
class Answers:
    """Outgoing mail seen at the SMTP server, per mail answered (In-Reply-To)."""

    seen: int = 0
    by_parent: dict[str, list[tuple[float, str, str]]] = field(default_factory=dict)  # (time, Message-ID, subject)
    last: float = 0.0

    def update(self, received: _Timed) -> None:
        count = len(received.times)
        for i in range(self.seen, count):
            msg = message_from_bytes(received[i].content, policy=default_policy)
            parent = str(msg.get("In-Reply-To", "")).strip()
            own = str(msg.get("Message-ID", "")).strip()
            self.by_parent.setdefault(parent, []).append((received.times[i], own, str(msg.get("Subject", ""))))
            self.last = received.times[i]
        self.seen = count


def _pct(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of *values* (sorted)."""
    if not values:
        return None
    return round(values[max(0, math.ceil(q * len(values)) - 1)], 1)


def _summary(values: list[float]) -> dict:
    values = sorted(values)
    return {"n": len(values), "p50": round(statistics.median(values), 1) if values else None,
            "p95": _pct(values, 0.95), "max": round(values[-1], 1) if values else None}


def _db(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=10)
    conn.execute("pragma query_only = 1")
    return conn


def _idle(db: Path, mails: int) -> bool:
    """Nothing left for the service to do: every mail stored and read, no outbox row due."""
    try:
        with _db(db) as conn:
            total, waiting = conn.execute(
                "select count(*), coalesce(sum(state = 'stored'), 0) from message").fetchone()
            due = conn.execute("select count(*) from outbox where state in ('pending', 'sending')").fetchone()[0]
    except sqlite3.Error:
        return False
    return total >= mails and waiting == 0 and due == 0


# -- the run -----------------------------------------------------------------------------------
def run(total: int, scans: int, pages: int, minutes: float, trusted: int, wait: float,
        overrides: dict[str, dict] | None = None, log_copy: Path | None = None) -> dict:
    from support.servers.dovecot import Dovecot
    from support.servers.smtp import SmtpServer

    _, template = sources(None)
    print(f"building {total} mails ({scans} scans of {pages} pages, {trusted} trusted) …", flush=True)
    mails = build(total, scans, pages, trusted)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="jiebang-deadline-") as tmp, Dovecot(Path(tmp) / "dovecot") as dovecot:
        root = Path(tmp)
        smtp = SmtpServer().start()
        received = _Timed()
        smtp.handler.received = received
        db = root / "jiebang.db"
        mailbox: dict = {"url": dovecot.url, "idle": True}
        if trusted:
            mailbox["trusted_authserv_ids"] = [AUTHSERV]
        sections: dict[str, dict] = {
            "mailbox": mailbox,
            "smtp": {"url": f"smtp://127.0.0.1:{smtp.port}"},
            "database": {"url": f"sqlite:///{db}"},
            "storage": {"path": str(root / "store")},
            "receiver": {"enabled": False},
            "schedule": {"poll_seconds": 10},
        }
        for section, values in (overrides or {}).items():  # --set: a comparison run, not the default
            sections[section] = {**sections.get(section, {}), **values}
        config = _config(root, template, **sections)
        log = root / "run.log"
        env = dict(os.environ, JIEBANG_IMAP_PASSWORD=dovecot.password)
        service = subprocess.Popen([*JIEBANG, "run", "-v", "--config", str(config)], cwd=REPO, env=env,
                                   stdout=subprocess.DEVNULL, stderr=log.open("wb"))
        rss, done = Rss(), threading.Event()
        sampler = threading.Thread(target=_sample, args=(service.pid, rss, done), daemon=True)
        sampler.start()
        answers = Answers()
        try:
            wait_started(service, log)
            step = minutes * 60 / max(1, len(mails))
            start = time.monotonic()
            for i, mail in enumerate(mails):
                pause = start + i * step - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                mail.appended = time.monotonic()
                dovecot.append(mail.raw)
                if i % 50 == 49:
                    answers.update(received)
                    print(f"  {i + 1} appended at {mail.appended - start:.0f} s; "
                          f"{len(answers.by_parent)} mails answered so far", flush=True)
            appended_in = time.monotonic() - start
            print(f"appended {len(mails)} in {appended_in:.1f} s", flush=True)
            end = time.monotonic() + wait
            ids = {m.msgid for m in mails}
            while time.monotonic() < end:
                answers.update(received)
                full = sum(1 for m in ids if any("正在核验" not in s for _, _, s in answers.by_parent.get(m, [])))
                if full == len(ids):
                    break
                quiet = time.monotonic() - max(answers.last, mails[-1].appended)
                if quiet > 30 and _idle(db, len(mails)):
                    break
                time.sleep(1)
            time.sleep(1)
            answers.update(received)
        finally:
            done.set()
            service.terminate()
            try:
                service.wait(60)
            except subprocess.TimeoutExpired:
                service.kill()
                service.wait()
            smtp.stop()
        with _db(db) as conn:
            outbox = {mid.strip(): (kind, state, key or "", reply) for mid, kind, state, key, reply in conn.execute(
                "select message_id, kind, state, dedupe_key, in_reply_to from outbox")}
            stored = {mid: (intent, state, error) for mid, intent, state, error in conn.execute(
                "select message_id, intent, state, error from message")}
        if log_copy is not None:
            log_copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(log, log_copy)
        log_text = log.read_text(errors="replace")

    def arrival(own: str, subject: str) -> bool:
        row = outbox.get(own)
        return row[2].endswith(":arrival") if row else "正在核验" in subject

    first: dict[str, float] = {}
    full: dict[str, float] = {}
    kinds: dict[str, list[str]] = {}
    for mail in mails:
        got = sorted(answers.by_parent.get(mail.msgid, []))
        kinds[mail.msgid] = [(outbox.get(own) or ("?",))[0] + (":arrival" if arrival(own, s) else "")
                             for _, own, s in got]
        if got:
            first[mail.msgid] = got[0][0] - mail.appended
        fulls = [t for t, own, s in got if not arrival(own, s)]
        if fulls:
            full[mail.msgid] = fulls[0] - mail.appended
    t0 = mails[0].appended
    last_full = max((full[m.msgid] + m.appended for m in mails if m.msgid in full), default=None)

    held = [row for row in outbox.values() if row[1] == "held"]
    receipts_sent = sum(1 for kind, state, key, _ in outbox.values() if key.endswith(":arrival") and state == "sent")
    receipts = sum(1 for kind, state, key, _ in outbox.values() if key.endswith(":arrival"))
    outcome: Counter[str] = Counter()
    no_answer: Counter[str] = Counter()
    no_full: Counter[str] = Counter()
    held_for: set[str] = {row[3] for row in held}
    for mail in mails:
        intent, state, _ = stored.get(mail.msgid, ("not stored", "", None))
        label = f"{mail.kind}: {intent} ({state})" + (", answer held" if mail.msgid in held_for else "")
        if mail.msgid not in first:
            no_answer[label] += 1
        elif mail.msgid not in full:
            no_full[label] += 1
        outcome[f"{intent} ({state})"] += 1
    by_kind = {}
    for kind in sorted({m.kind for m in mails}):
        group = [m for m in mails if m.kind == kind]
        by_kind[kind] = {"mails": len(group),
                         "first": _summary([first[m.msgid] for m in group if m.msgid in first]),
                         "full": _summary([full[m.msgid] for m in group if m.msgid in full])}
    errors = [line for line in log_text.splitlines() if " ERROR " in line or "Traceback" in line]
    result = {
        "date": date.today().isoformat(),
        "mails": len(mails),
        "kinds": dict(Counter(m.kind for m in mails)),
        "trusted": sum(m.trusted for m in mails),
        "pages_per_scan": pages,
        "overrides": overrides or {},
        "append_seconds": round(appended_in, 1),
        "first_answer": _summary(list(first.values())),
        "full_answer": _summary(list(full.values())),
        "all_full_answers_out_seconds": round(last_full - t0, 1) if last_full is not None else None,
        "full_answer_over_60s": sum(1 for v in full.values() if v > 60),
        "receipts_written": receipts,
        "receipts_sent": receipts_sent,
        "held": len(held),
        "held_by_kind": dict(Counter(row[0] + (":arrival" if row[2].endswith(":arrival") else "") for row in held)),
        "outbox_by_state": dict(Counter(row[1] for row in outbox.values())),
        "outbox_by_kind": dict(Counter(row[0] + (":arrival" if row[2].endswith(":arrival") else "")
                                       for row in outbox.values())),
        "answers_per_mail": dict(Counter(len(v) for v in kinds.values())),
        "messages_by_intent": dict(outcome),
        "without_any_answer": dict(no_answer),
        "receipt_but_no_full_answer": dict(no_full),
        "by_kind": by_kind,
        "rss_mb": {"tree": round(rss.tree / MiB), "service": round(rss.service / MiB),
                   "worker": round(rss.worker / MiB), "largest_child": round(rss.child / MiB),
                   "samples": rss.samples},
        "load_average": {"before": [round(x, 1) for x in load_before],
                         "after": [round(x, 1) for x in os.getloadavg()]},  # other work sharing the cores
        "log_errors": len(errors),
        "log_error_lines": errors[:20],
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mails", type=int, default=300)
    parser.add_argument("--scans", type=int, default=None, help="default: a third of the mails")
    parser.add_argument("--pages", type=int, default=3, help="pages per scan")
    parser.add_argument("--minutes", type=float, default=3, help="the APPENDs spread over this long")
    parser.add_argument("--trusted", type=int, default=0, help="mails with a trusted Authentication-Results")
    parser.add_argument("--wait", type=float, default=3600, help="at most this long after the last APPEND")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="override one config key (a comparison run; the benchmark is the default config)")
    parser.add_argument("--json", type=Path, default=RESULTS / "deadline-day.json",
                        help="where the figures go (the service log goes beside it, *-run.log)")
    args = parser.parse_args()
    scans = args.mails // 3 if args.scans is None else args.scans
    overrides: dict[str, dict] = {}
    for item in args.set:
        key, _, value = item.partition("=")
        section, _, name = key.partition(".")
        if not name:
            parser.error(f"--set {item}: expected SECTION.KEY=VALUE")
        overrides.setdefault(section, {})[name] = yaml.safe_load(value)
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "machine": platform.machine()}
    result = run(args.mails, scans, args.pages, args.minutes, min(args.trusted, args.mails), args.wait,
                 overrides, args.json.with_name(args.json.stem + "-run.log"))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"machine": machine, "args": {**vars(args), "json": str(args.json)}, **result},
                                    ensure_ascii=False, indent=2))
    shutil.rmtree(REPO / "benchmarks" / "__pycache__", ignore_errors=True)


if __name__ == "__main__":
    main()
