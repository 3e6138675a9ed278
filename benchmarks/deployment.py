"""Several processes on one PostgreSQL, and a deadline-day burst over IMAP.

    .venv/bin/python benchmarks/deployment.py processes [--copies 240] [--counts 1,2,4]
    .venv/bin/python benchmarks/deployment.py burst [--mails 79] [--scans 24] [--pages 20]

**processes** — a private PostgreSQL (Debian's server binaries, started by the test
support code). For each process count K: a fresh database, ``--copies`` messages (the
public samples round-robin, each with its own Message-ID) stored by ``jiebang run --once
--fetch-only``, then K ``jiebang run --once --role worker`` processes started together
(``processing.workers: 1`` each, so K is the number of understanding processes) until
all exit. It prints msgs/s and checks the outcome: every message processed exactly once
and no answer written twice (two outbox rows answering one Message-ID with one kind).

**burst** — a private Dovecot and a recording SMTP server (aiosmtpd); ``jiebang run``
(serving, IDLE on) on SQLite. Once it is up, ``--mails`` messages are APPENDed as fast
as IMAP takes them: the public samples (city packages, archives, GBK names …), scanned
applications of ``--pages`` image-only pages (OCR), .doc applications (LibreOffice) and
Word applications. For each mail that gets an answer, the time from its APPEND to the
arrival at the SMTP server of the first answer threaded on its Message-ID (In-Reply-To).
Prints p50 / p95 / max and what got no answer (by intent: auto-replies, bounces …).

Figures go to stdout and ``benchmarks/results/deployment-*.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from email import message_from_bytes
from email.policy import default as default_policy
from email.utils import make_msgid
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests"), str(REPO / "benchmarks"), str(REPO)]

from sqlalchemy import create_engine, text  # noqa: E402
from throughput import _MSGID, sources, unique  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
JIEBANG = [sys.executable, "-m", "tracker.cli"]


def _config(root: Path, template: Path, **sections: dict) -> Path:
    data = yaml.safe_load(template.read_text(encoding="utf-8"))
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value}
    data["database"] = sections.get("database", data.get("database", {}))
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _run(args: list[str], config: Path, **kwargs) -> subprocess.Popen[bytes]:  # type: ignore[no-untyped-def]
    return subprocess.Popen([*JIEBANG, *args, "--config", str(config)], cwd=REPO, **kwargs)


# -- processes ---------------------------------------------------------------------------------
def processes(copies: int, counts: list[int]) -> list[dict]:
    from support.servers.postgres import Postgres

    mails, template = sources(None)
    raws = [p.read_bytes() for p in mails]
    rows = []
    with Postgres() as pg:
        for k in counts:
            name = f"bench_{k}_{os.getpid()}"
            pg.create_database(name)
            url = pg.url_for(name)
            with tempfile.TemporaryDirectory(prefix="jiebang-procs-") as tmp:
                root = Path(tmp)
                inbox = root / "inbox"
                for sub in ("new", "cur", "tmp"):
                    (inbox / sub).mkdir(parents=True)
                for n in range(copies):
                    (inbox / "new" / f"{n:06d}.bench:2,").write_bytes(unique(raws[n % len(raws)], n))
                config = _config(
                    root, template,
                    mailbox={"url": f"maildir:{inbox}", "max_messages_per_run": copies + 10},
                    smtp={"url": f"maildir:{root / 'outbox'}"},
                    database={"url": url},
                    storage={"path": str(root / "store")},
                    receiver={"enabled": False},
                    processing={"workers": 1},
                )
                if _run(["run", "--once", "--fetch-only"], config, stdout=subprocess.DEVNULL).wait() != 0:
                    raise SystemExit("fetch failed")
                start = time.perf_counter()
                procs = [_run(["run", "--once", "-v", "--role", "worker"], config, stdout=subprocess.DEVNULL,
                              stderr=(root / f"worker{i}.log").open("wb")) for i in range(k)]
                codes = [p.wait() for p in procs]
                seconds = time.perf_counter() - start
                steady = _steady_rate(list(root.glob("worker*.log")))
                engine = create_engine(url)
                with engine.connect() as conn:
                    states = dict(conn.execute(text("select state, count(*) from message group by state")).all())
                    errors = [e for (e,) in conn.execute(text(
                        "select error from message where state = 'quarantined'")).all()]
                    doubled = conn.execute(text(
                        "select count(*) from (select in_reply_to, kind from outbox"
                        " where in_reply_to is not null group by in_reply_to, kind having count(*) > 1) d"
                    )).scalar()
                engine.dispose()
            row = {"processes": k, "messages": copies, "seconds": round(seconds, 2),
                   "rate": round(copies / seconds, 1), "steady_rate": steady, "exit_codes": codes, "states": states,
                   "doubled_answers": doubled, "errors": errors}
            print(f"{k} process(es): {copies} in {seconds:.1f} s = {copies / seconds:.1f}/s "
                  f"({steady}/s from the first message recorded to the last); "
                  f"states {states}; doubled answers {doubled}; exits {codes}", flush=True)
            for error in errors[:5]:
                print("  quarantined:", error[:300], flush=True)
            rows.append(row)
    return rows


_RECORDED = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO jiebang\.processing: message ", re.M)


def _steady_rate(logs: list[Path]) -> float | None:
    """Messages a second between the first and the last one recorded (start-up left out:
    each process imports, starts its fork server and warms its OCR engine first)."""
    times = sorted(datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f")
                   for log in logs for m in _RECORDED.finditer(log.read_text(errors="replace")))
    if len(times) < 2:
        return None
    return round((len(times) - 1) / (times[-1] - times[0]).total_seconds(), 1)


# -- burst -------------------------------------------------------------------------------------
def _burst_mails(total: int, scans: int, pages: int) -> list[tuple[str, bytes]]:
    """(kind, raw) for the burst: samples, scans, .doc and Word applications."""
    from support.factory.office import convert, soffice_available
    from support.factory.pdfs import scanned_pdf
    from support.records import application_mail, form

    from examples.generate import uscc

    mails, _ = sources(None)
    out: list[tuple[str, bytes]] = [("sample", p.read_bytes()) for p in mails][:total]
    word = form(unit="山东示例数据科技有限公司", code17="91370102MA3C4D5E6")
    doc = convert({"申报书.docx": word}, "doc").get("申报书.doc") if soffice_available() else None
    n = 0
    while len(out) < total:
        n += 1
        unit = f"山东第{n}号数据科技有限公司"
        code17 = f"9137010{n % 10}MA3C{n:04d}"[:17].ljust(17, "0")
        sender = f"u{n}@burst{n}.example.cn"
        if n <= scans:
            lines = [
                ["揭榜挂帅项目申报书", f"揭榜单位（盖章）：{unit}"],
                ["填报说明"],
                ["一、揭榜单位基本情况", f"单位名称：{unit}", f"统一社会信用代码：{uscc(code17)}"],
            ]
            lines += [[f"第{i}页 实施方案"] for i in range(4, pages + 1)]
            raw = application_mail(sender=sender, attachments=[("申报书（盖章扫描件）.pdf", scanned_pdf(lines))])
            out.append(("scan", raw))
        elif doc is not None and n <= scans + 8:
            out.append(("doc", application_mail(sender=sender, attachments=[("申报书.doc", doc)])))
        else:
            out.append(("docx", application_mail(sender=sender, unit=unit, code17=code17)))
    return out


def _with_id(raw: bytes, msgid: str) -> bytes:
    """*raw* with exactly *msgid* as its Message-ID (answers are matched on it)."""
    numbered = unique(raw, 0)  # has exactly one Message-ID header now
    found = _MSGID.search(numbered)
    assert found is not None
    return numbered.replace(found.group(0), b"Message-ID: " + msgid.encode(), 1)


def wait_started(service: subprocess.Popen[bytes], log: Path) -> None:
    """Until `jiebang run` says it is running (and its IDLE connection is in place)."""
    deadline = time.monotonic() + 120
    while "jiebang running" not in log.read_text(errors="replace"):
        if time.monotonic() > deadline or service.poll() is not None:
            raise SystemExit("service did not start:\n" + log.read_text(errors="replace")[-3000:])
        time.sleep(0.2)
    time.sleep(2)  # IDLE connection in place


def burst(total: int, scans: int, pages: int, wait: float) -> dict:
    from support.servers.dovecot import Dovecot
    from support.servers.smtp import SmtpServer

    mails, template = sources(None)
    print(f"building {total} mails ({scans} scans of {pages} pages) …", flush=True)
    corpus = _burst_mails(total, scans, pages)
    with tempfile.TemporaryDirectory(prefix="jiebang-burst-") as tmp, Dovecot(Path(tmp) / "dovecot") as dovecot:
        root = Path(tmp)
        smtp = SmtpServer().start()
        config = _config(
            root, template,
            mailbox={"url": dovecot.url, "idle": True, "max_messages_per_run": 500},
            smtp={"url": f"smtp://127.0.0.1:{smtp.port}"},
            database={"url": f"sqlite:///{root / 'jiebang.db'}"},
            storage={"path": str(root / "store")},
            receiver={"enabled": False},
            schedule={"poll_seconds": 10, "outbox_seconds": 5, "process_seconds": 5},
            notify={"new_address_hourly_cap": 10_000},
        )
        log = root / "run.log"
        env = dict(os.environ, JIEBANG_IMAP_PASSWORD=dovecot.password)
        service = subprocess.Popen([*JIEBANG, "run", "-v", "--config", str(config)], cwd=REPO, env=env,
                                   stdout=subprocess.DEVNULL, stderr=log.open("wb"))
        try:
            wait_started(service, log)
            appended: dict[str, tuple[str, float]] = {}
            for kind, raw in corpus:
                msgid = make_msgid(domain="burst.example")
                dovecot.append(_with_id(raw, msgid))
                appended[msgid] = (kind, time.monotonic())
            burst_seconds = time.monotonic() - min(t for _, t in appended.values())
            print(f"appended {len(appended)} in {burst_seconds:.1f} s", flush=True)
            answered: dict[str, float] = {}
            last_change = time.monotonic()
            end = time.monotonic() + wait
            seen = 0
            while time.monotonic() < end:
                received = list(smtp.received)
                for r in received[seen:]:
                    msg = message_from_bytes(r.content, policy=default_policy)
                    parent = str(msg.get("In-Reply-To", "")).strip()
                    if parent in appended and parent not in answered:
                        answered[parent] = time.monotonic()
                        last_change = time.monotonic()
                seen = len(received)
                if len(answered) == len(appended) or (answered and time.monotonic() - last_change > 60):
                    break
                time.sleep(0.2)
        finally:
            service.terminate()
            service.wait(60)
            smtp.stop()
        engine = create_engine(f"sqlite:///{root / 'jiebang.db'}")
        with engine.connect() as conn:
            intents = {mid: (intent, state) for mid, intent, state in conn.execute(
                text("select message_id, intent, state from message")).all()}
        engine.dispose()
    latencies = sorted(answered[m] - appended[m][1] for m in answered)
    by_kind: dict[str, list[float]] = {}
    for m in answered:
        by_kind.setdefault(appended[m][0], []).append(answered[m] - appended[m][1])
    unanswered = {m: intents.get(m, ("not stored", "")) for m in appended if m not in answered}
    result = {
        "mails": len(appended),
        "answered": len(answered),
        "p50": round(statistics.median(latencies), 1) if latencies else None,
        "p95": round(latencies[max(0, int(len(latencies) * 0.95 + 0.5) - 1)], 1) if latencies else None,
        "max": round(latencies[-1], 1) if latencies else None,
        "by_kind": {k: {"n": len(v), "p50": round(statistics.median(v), 1), "max": round(max(v), 1)}
                    for k, v in sorted(by_kind.items())},
        "unanswered": sorted(f"{appended[m][0]}: {i} ({s})" for m, (i, s) in unanswered.items()),
        "append_seconds": round(burst_seconds, 1),
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("processes")
    p.add_argument("--copies", type=int, default=240)
    p.add_argument("--counts", default="1,2,4")
    b = sub.add_parser("burst")
    b.add_argument("--mails", type=int, default=79)
    b.add_argument("--scans", type=int, default=24)
    b.add_argument("--pages", type=int, default=20)
    b.add_argument("--wait", type=float, default=600)
    args = parser.parse_args()
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "machine": platform.machine()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.what == "processes":
        rows = processes(args.copies, [int(x) for x in args.counts.split(",")])
        (RESULTS / "deployment-processes.json").write_text(json.dumps({"machine": machine, "rows": rows}, indent=2))
    else:
        result = burst(args.mails, args.scans, args.pages, args.wait)
        (RESULTS / "deployment-burst.json").write_text(
            json.dumps({"machine": machine, **result}, ensure_ascii=False, indent=2))
    shutil.rmtree(REPO / "benchmarks" / "__pycache__", ignore_errors=True)


if __name__ == "__main__":
    main()
