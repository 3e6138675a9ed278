"""Cost per recorded mail as the round grows: mails 1–100, then 100 more after N submissions.

    .venv/bin/python benchmarks/recording_cost.py [--existing 9800] [--mails 100] [--json PATH]

SQLite in a temporary folder (WAL, as shipped), understanding in process (no worker
pool: the figure is the recording, not the reading). Phase 1 records ``--mails``
application mails from new units one by one (store, understand, record, answer).
Then ``--existing`` submissions are inserted directly (with two open deficiencies each,
as a real round has) and ``--mails`` more are recorded. Per mail it reports the whole
path and the part spent in the records writer (apply: submissions, versions, cross-mail
rules, the answer in the outbox), median and 90th percentile.

``--existing 9800``: the second hundred are mails 9,901–10,000 of a 10,000-submission round
(references count past 9,999 since #26: JB2025-10000 follows JB2025-9999).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO)]

from sqlalchemy import insert  # noqa: E402
from support.records import application_mail, make_app  # noqa: E402

from campaign.clock import utcnow  # noqa: E402
from tracker.pipeline.ingest import store_raw  # noqa: E402
from tracker.pipeline.processing import InProcess, process_pending  # noqa: E402
from tracker.store.tables import DeficiencyRecord, Submission  # noqa: E402

NATURES = ("省属单位", "其他")


def _mail(n: int) -> bytes:
    return application_mail(sender=f"lead{n}@u{n}.example.cn", unit=f"山东测试{n}数据科技有限公司",
                            code17=f"913701{n:011d}", nature=NATURES[n % 2], direction=1 + n % 4)


def _record(app: Any, numbers: range) -> list[tuple[float, float]]:
    spent: list[float] = []
    applier = app.applier

    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return applier(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - t0)

    understander = InProcess(app.analyse)
    out = []
    for n in numbers:
        raw = _mail(n)
        t0 = time.perf_counter()
        store_raw(app.engine, app.blobs, raw)
        report = process_pending(app.engine, app.blobs, understander, apply=timed)
        assert report.processed == 1, report
        out.append((time.perf_counter() - t0, spent[-1]))
    return out


def _insert(app: Any, first: int, count: int, code: str) -> None:
    rng = random.Random(26)
    now = utcnow()
    rows = [{"round_code": code, "reference": f"{code}-{first + i:04d}", "lead_key": f"9137{first + i:014d}",
             "unit": f"山东已有{first + i}有限公司", "direction": rng.randint(1, 4), "channel": "direct",
             "status": "incomplete", "task_types": [], "partners": [], "contacts": [f"x{first + i}@e.cn"],
             "versions": 1, "standing_version": 1, "created_at": now, "updated_at": now}
            for i in range(count)]
    with app.engine.begin() as conn:
        for start in range(0, len(rows), 2000):
            conn.execute(insert(Submission.__table__), rows[start:start + 2000])  # type: ignore[arg-type]
        ids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM submission WHERE reference LIKE '%'")]
        defs = [{"submission_id": pk, "code": c, "severity": "error", "message": "x", "state": "open",
                 "opened_at": now} for pk in ids for c in ("MISSING_SEAL", "MISSING_COMMITMENT")]
        for start in range(0, len(defs), 4000):
            conn.execute(insert(DeficiencyRecord.__table__), defs[start:start + 4000])  # type: ignore[arg-type]


def _summary(samples: list[tuple[float, float]]) -> dict[str, float]:
    whole = sorted(s[0] for s in samples)
    apply = sorted(s[1] for s in samples)
    p90 = int(len(whole) * 0.9)
    return {"median_ms": statistics.median(whole) * 1000, "p90_ms": whole[p90] * 1000,
            "apply_median_ms": statistics.median(apply) * 1000, "apply_p90_ms": apply[p90] * 1000}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--existing", type=int, default=9_800)
    ap.add_argument("--mails", type=int, default=100)
    ap.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "recording_cost.json")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp), f"sqlite:///{tmp}/jiebang.db", processing={"workers": 0})
        with app.round():
            first = _summary(_record(app, range(1, args.mails + 1)))
            t0 = time.perf_counter()
            _insert(app, args.mails + 1, args.existing, app.policy.code)
            inserted = time.perf_counter() - t0
            start = args.mails + args.existing + 1
            later = _summary(_record(app, range(start, start + args.mails)))
    result = {"existing": args.existing, "mails": args.mails, "first": first, "later": later,
              "insert_seconds": inserted}
    print(json.dumps(result, indent=2))
    n = args.mails
    print(f"| mails 1–{n} | {first['median_ms']:.0f} | {first['p90_ms']:.0f} | "
          f"{first['apply_median_ms']:.1f} | {first['apply_p90_ms']:.1f} |")
    print(f"| {n} mails after {args.existing + n:,} submissions | {later['median_ms']:.0f} | {later['p90_ms']:.0f} | "
          f"{later['apply_median_ms']:.1f} | {later['apply_p90_ms']:.1f} |")
    args.json.parent.mkdir(exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
