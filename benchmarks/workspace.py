"""The staff workspace's submission list at scale: seconds on the server per request.

    .venv/bin/python benchmarks/workspace.py [--submissions 10000] [--repeat 5] [--db URL]

Seeds N submissions straight into a fresh SQLite database (tests/support/crowd.py: every
direction, city and status, open deficiencies on the incomplete ones), signs in as a
province user and times, in process through Starlette's TestClient (no network, no
browser), the requests a clerk makes: the first page, a later page, each sort key, a
filter by deficiency, a text search, the htmx partial, and an export that follows a
filter. Each row is the median of ``--repeat`` runs after one warm-up; "bytes" is the
answer's size. The goal (issue #23): every list page under 0.3 s at 10,000 submissions.
Figures also go to benchmarks/results/workspace.json. Exit status 1 if a list row is over
the goal.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from support.crowd import crowd  # noqa: E402
from support.records import make_app  # noqa: E402
from support.web import add_users, login  # noqa: E402

from tracker.web.workspace import create_workspace  # noqa: E402

GOAL = 0.3
CASES: list[tuple[str, str, dict[str, str]]] = [
    ("first page (default: by reference)", "/submissions", {}),
    ("page 50", "/submissions", {"page": "50"}),
    ("by unit", "/submissions", {"sort": "unit"}),
    ("by first received, newest first", "/submissions", {"sort": "received", "order": "desc"}),
    ("by status", "/submissions", {"sort": "status"}),
    ("by direction", "/submissions", {"sort": "direction"}),
    ("by city, last page", "/submissions", {"sort": "city", "page": "999"}),
    ("by waiting since", "/submissions", {"sort": "waiting"}),
    ("filter: a deficiency", "/submissions", {"deficiency": "TASK_TYPE_MISSING"}),
    ("filter: city + status", "/submissions", {"city": "潍坊市", "status": "incomplete"}),
    ("search: a unit's name", "/submissions", {"q": "泉河"}),
    ("htmx partial, 200 per page", "/submissions", {"per_page": "200", "hx": "1"}),
]
EXPORT = ("export .csv of a filter", "/export/submissions.csv", {"direction": "3"})


def _time(client: Any, path: str, params: dict[str, str], repeat: int) -> tuple[float, int]:
    headers = {"HX-Request": "true"} if params.pop("hx", None) else {}
    answer = client.get(path, params=params, headers=headers)  # warm-up
    assert answer.status_code == 200, (path, params, answer.status_code)
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        answer = client.get(path, params=params, headers=headers)
        runs.append(time.perf_counter() - t)
    return statistics.median(runs), len(answer.content)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--submissions", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--db", help="a database URL (default: SQLite in a temporary folder)")
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    from starlette.testclient import TestClient

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        app = make_app(folder, args.db or f"sqlite:///{folder / 'bench.db'}", processing={"workers": 0})
        t = time.perf_counter()
        crowd(app, args.submissions, start=1)
        seeded = time.perf_counter() - t
        add_users(app)
        client = TestClient(create_workspace(app), follow_redirects=False)
        login(client, "alice", "correct horse 电池")
        rows = []
        for name, path, params in [*CASES, EXPORT]:
            seconds, size = _time(client, path, dict(params), args.repeat)
            rows.append({"case": name, "path": path, "params": params, "seconds": round(seconds, 4), "bytes": size})
        app.engine.dispose()
    print(f"{args.submissions:,} submissions (seeded in {seeded:.1f} s), median of {args.repeat} after a warm-up\n")
    print("| request | seconds | KB |\n|---|---:|---:|")
    for r in rows:
        print(f"| {r['case']} | {r['seconds']:.3f} | {r['bytes'] / 1024:.0f} |")
    out = REPO / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "workspace.json").write_text(json.dumps({"submissions": args.submissions, "rows": rows}, ensure_ascii=False,
                                                   indent=1), encoding="utf-8")
    slow = [r for r in rows if r["path"] == "/submissions" and r["seconds"] > GOAL]
    if slow:
        print(f"\nover {GOAL} s: " + ", ".join(r["case"] for r in slow))
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
