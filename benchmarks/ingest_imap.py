"""Raw intake throughput: Dovecot → `jiebang run --once --fetch-only` (fetch + store + commit).

    .venv/bin/python benchmarks/ingest_imap.py [--messages 2000] [--min-kb 50] [--max-kb 5000]

Appends N messages of log-uniform sizes to a private Dovecot on 127.0.0.1, then measures
in the same run: a bare imapclient fetch loop over the same messages (the ceiling set by
Dovecot), the same loop writing each body durably to disk (the ceiling set by Dovecot and
the disk), and jiebang's raw intake as a subprocess (wall time incl. start-up, peak RSS).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests"), str(REPO)]

from support.helpers import make_mail, write_config  # noqa: E402
from support.servers.dovecot import Dovecot  # noqa: E402


def sizes(n: int, lo_kb: int, hi_kb: int, seed: int = 7) -> list[int]:
    rng = random.Random(seed)
    return [int(math.exp(rng.uniform(math.log(lo_kb), math.log(hi_kb))) * 1024) for _ in range(n)]


def fill(dovecot: Dovecot, byte_sizes: list[int]) -> tuple[float, int]:
    started, total = time.perf_counter(), 0
    with dovecot.session() as client:
        for i, size in enumerate(byte_sizes):
            # base64 grows an attachment by 4/3: aim the whole message at `size`
            raw = make_mail(subject=f"bench {i}", attachment_bytes=max(1, int(size * 3 / 4) - 800))
            client.append("INBOX", raw)
            total += len(raw)
    return time.perf_counter() - started, total


def bare_fetch(dovecot: Dovecot) -> tuple[float, int, int]:
    """What any client must do: list, then fetch every body once."""
    started, total, count = time.perf_counter(), 0, 0
    with dovecot.session() as client:
        client.select_folder("INBOX", readonly=True)
        uids = client.search(["ALL"])
        client.fetch(uids, ["RFC822.SIZE", "INTERNALDATE"])
        for uid in uids:
            data = client.fetch([uid], ["BODY.PEEK[]"])[uid][b"BODY[]"]
            total += len(data)
            count += 1
    return time.perf_counter() - started, total, count


def durable_fetch(dovecot: Dovecot, folder: Path) -> float:
    """The least a client that keeps mail durably must do: fetch, write, sync per 32 MB."""
    from tracker.store.blobs import BlobStore

    store = BlobStore(folder)
    started, pending = time.perf_counter(), 0
    with dovecot.session() as client:
        client.select_folder("INBOX", readonly=True)
        uids = client.search(["ALL"])
        client.fetch(uids, ["RFC822.SIZE", "INTERNALDATE"])
        for uid in uids:
            data = client.fetch([uid], ["BODY.PEEK[]"])[uid][b"BODY[]"]
            store.put(data, durable=False)
            pending += len(data)
            if pending >= 32 << 20:
                store.flush()
                pending = 0
        store.flush()
    return time.perf_counter() - started


def jiebang_fetch(dovecot: Dovecot, folder: Path, n: int) -> tuple[float, int]:
    config = write_config(folder, db_url=f"sqlite:///{folder}/jiebang.db", mailbox_url=dovecot.url,
                          mailbox={"max_messages_per_run": n, "max_message_bytes": 100 << 20})
    env = {**os.environ, "JIEBANG_IMAP_PASSWORD": dovecot.password}
    subprocess.run([sys.executable, "-m", "tracker.cli", "db", "upgrade", "--config", str(config)],
                   check=True, env=env, capture_output=True)
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "tracker.cli", "run", "--once", "--fetch-only", "--config", str(config)],
        env=env, capture_output=True, text=True,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode:
        raise SystemExit(proc.stderr[-2000:])
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print("   ", proc.stdout.strip())
    return elapsed, peak_kb


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--min-kb", type=int, default=50)
    ap.add_argument("--max-kb", type=int, default=5000)
    args = ap.parse_args()
    byte_sizes = sizes(args.messages, args.min_kb, args.max_kb)
    with tempfile.TemporaryDirectory(prefix="jb-bench-") as tmp:
        tmp_path = Path(tmp)
        with Dovecot(tmp_path / "dovecot") as dovecot:
            print(f"appending {args.messages} messages ({sum(byte_sizes) / 1e6:,.0f} MB) …")
            t_fill, total = fill(dovecot, byte_sizes)
            print(f"  appended in {t_fill:.1f} s")
            t_bare1, bare_bytes, count = bare_fetch(dovecot)
            t_durable = durable_fetch(dovecot, tmp_path / "durable")
            t_jb, peak_kb = jiebang_fetch(dovecot, tmp_path / "jb", args.messages)
            t_bare2, _, _ = bare_fetch(dovecot)
    t_bare = (t_bare1 + t_bare2) / 2
    mb = bare_bytes / 1e6
    result = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "messages": count,
        "megabytes": round(mb, 1),
        "bare_seconds": round(t_bare, 2),
        "bare_msgs_per_s": round(count / t_bare, 1),
        "bare_mb_per_s": round(mb / t_bare, 1),
        "durable_seconds": round(t_durable, 2),
        "durable_mb_per_s": round(mb / t_durable, 1),
        "jiebang_seconds": round(t_jb, 2),
        "jiebang_msgs_per_s": round(count / t_jb, 1),
        "jiebang_mb_per_s": round(mb / t_jb, 1),
        "ratio_jiebang_to_bare": round(t_jb / t_bare, 2),
        "ratio_jiebang_to_durable": round(t_jb / t_durable, 2),
        "jiebang_peak_rss_mb": round(peak_kb / 1024, 1),
    }
    print(json.dumps(result, indent=1))
    out = REPO / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / f"ingest_imap-{args.messages}.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
