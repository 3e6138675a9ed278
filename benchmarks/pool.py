"""Understanding alone through the worker pool: no database, no mailbox, no answers.

    .venv/bin/python benchmarks/pool.py [--workers 1,2] [--messages 240]

The public samples (``/work/shared/samples/mails``, else ``examples/mails``) round-robin,
handed to a :class:`~tracker.pipeline.workers.WorkerPool` of N workers (after their
warm-up) as fast as they answer. Separates the cost of understanding from the service's
own (store, claim, record, answer) that ``throughput.py`` measures with it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "benchmarks"), str(REPO)]

from throughput import sources  # noqa: E402

from tracker.app import App  # noqa: E402
from tracker.config import Settings  # noqa: E402
from tracker.pipeline.workers import Task, WorkerLimits, WorkerPool  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--messages", type=int, default=240)
    args = parser.parse_args()
    mails, config = sources(None)
    app = App(Settings.model_validate(yaml.safe_load(config.read_text(encoding="utf-8"))))
    for size in (int(x) for x in args.workers.split(",")):
        with WorkerPool(app.policy, size, WorkerLimits()) as pool:
            list(pool.run([Task(i, mails[i % len(mails)], None) for i in range(size)]))  # warm
            start = time.perf_counter()
            tasks = (Task(i, mails[i % len(mails)], None) for i in range(args.messages))
            done = sum(1 for _ in pool.run(tasks))
            seconds = time.perf_counter() - start
        print(f"{size} worker(s): {done} messages in {seconds:.2f} s = {done / seconds:.1f} msgs/s "
              f"({seconds / done * 1000:.1f} ms a message); worker peak RSS {pool.stats.peak_rss / 2**20:.0f} MB")


if __name__ == "__main__":
    main()
