"""The staff workspace while Word previews convert: does a clerk's page still answer fast?

    .venv/bin/python benchmarks/previews.py [--viewers 5] [--requests 45] [--convert-seconds 5]

Builds the test suite's workspace (tests/support/web.py) in a temp folder, serves it with
uvicorn on a free loopback port (a real server, real sockets) and stands in for
LibreOffice with a conversion that takes ``--convert-seconds`` (a hostile file holds the
real one up to two minutes). Then ``--viewers`` accounts each fire ``--requests`` preview
requests at once for files not yet converted, and meanwhile a province clerk opens the
submission list and one submission, ``--repeat`` times. Prints the clerk's seconds per
page (median and worst), how the previews were answered (200 / 429 / 503 / errors), and
writes benchmarks/results/previews.json. The goal (issue #23): every clerk page under 1 s
while the previews wait; no preview answered 500. Exit status 1 if either is missed.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import httpx  # noqa: E402
from sqlmodel import Session  # noqa: E402
from support.browser import served  # noqa: E402
from support.web import PASSWORD, csrf_of, make_workspace  # noqa: E402

import tracker.reports.documents as documents_module  # noqa: E402
from tracker.records import accounts  # noqa: E402
from tracker.records.queries import find_submission  # noqa: E402
from tracker.reports.documents import documents  # noqa: E402

GOAL = 1.0


def _client(base: str, name: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=300)
    page = client.get("/login")
    answer = client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": csrf_of(page.text)})
    if answer.status_code != 303:
        raise SystemExit(f"{name} could not sign in: {answer.status_code}")
    return client


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--viewers", type=int, default=5)
    parser.add_argument("--requests", type=int, default=45, help="preview requests per viewer, all at once")
    parser.add_argument("--convert-seconds", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    def slow_conversion(jobs, seconds):  # type: ignore[no-untyped-def]
        time.sleep(args.convert_seconds)
        return [b"%PDF-1.4 benchmark"]

    documents_module.office_convert = slow_conversion  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        ws = make_workspace(Path(tmp), f"sqlite:///{tmp}/jiebang.db")
        with Session(ws.app.engine) as s:
            for i in range(args.viewers):
                accounts.add_user(s, f"viewer{i}", "viewer", PASSWORD)
            s.commit()
            targets = []
            for ref in (ws.jinan, ws.weifang):
                sub = find_submission(s, ref)
                assert sub is not None and sub.id is not None
                targets += [(ref, v.number, d.name) for v, docs in documents(s, sub.id) for d in docs]
        with served(ws.app) as base:
            clerk = _client(base, "alice")
            viewers = [_client(base, f"viewer{i}") for i in range(args.viewers)]
            answers: list[str] = []

            def preview(client: httpx.Client, n: int) -> None:
                ref, version, name = targets[n % len(targets)]
                try:
                    answers.append(str(client.get(f"/submissions/{ref}/v{version}/preview",
                                                  params={"name": name}).status_code))
                except httpx.HTTPError as exc:
                    answers.append(type(exc).__name__)

            threads = [threading.Thread(target=preview, args=(v, n)) for v in viewers for n in range(args.requests)]
            for t in threads:
                t.start()
            time.sleep(0.5)  # the previews are in
            seconds = []
            for _ in range(args.repeat):
                for path in ("/submissions", f"/submissions/{ws.weifang}"):
                    start = time.perf_counter()
                    status = clerk.get(path).status_code
                    seconds.append(time.perf_counter() - start)
                    if status != 200:
                        answers.append(f"clerk {status}")
            for t in threads:
                t.join()
    figures = {"viewers": args.viewers, "requests_each": args.requests, "convert_seconds": args.convert_seconds,
               "clerk_median_s": round(statistics.median(seconds), 3), "clerk_worst_s": round(max(seconds), 3),
               "previews": dict(Counter(answers)), "goal_s": GOAL}
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    out = REPO / "benchmarks" / "results" / "previews.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n")
    failed = max(seconds) > GOAL or any(a not in ("200", "429", "503") for a in answers)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
