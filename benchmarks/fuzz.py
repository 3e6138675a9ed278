"""Mutational fuzzing of intake at volume: ``read_envelope``, ``content_key``,
``parse_message`` and ``understand`` on mutated mails (mutators: tests/support/mailfuzz.py).

    .venv/bin/python benchmarks/fuzz.py [--cases 10000] [--seed 1] [--all-seeds]
    .venv/bin/python benchmarks/fuzz.py --seed 1 --case 4711 --save case.eml   # replay one

Seeds: the example mails (examples/mails/*.eml) and, where present, the peer corpus
(``$JIEBANG_SHARED/corpus/peers``, messages up to 64 KB; without ``--all-seeds`` only those
whose attachments need no document reader or OCR). Prints cases/s, every failure (an
exception, a case over the time bound, a header fact that does not fit its column, an
error intake logged and survived) and the slowest cases. Exit status 1 on any failure.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from support.mailfuzz import Case, Outcome, example_seeds, make_case, peer_seeds, run_case  # noqa: E402

from campaign import RoundPolicy  # noqa: E402


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000, help="how many cases (default 10000)")
    parser.add_argument("--seed", type=int, default=1, help="the run's seed (default 1)")
    parser.add_argument("--case", type=int, help="replay only this case number")
    parser.add_argument("--save", type=Path, help="with --case: write its bytes here")
    parser.add_argument("--all-seeds", action="store_true",
                        help="also peer mails with documents to open (slower; OCR)")
    parser.add_argument("--time-bound", type=float, default=5.0, help="seconds per case")
    parser.add_argument("--peers", type=Path, help="the peer corpus (default: shared folder)")
    return parser.parse_args()


def _peers(args: argparse.Namespace) -> Path:
    shared = Path(os.environ.get("JIEBANG_SHARED") or REPO.parent / "shared")
    return args.peers or shared / "corpus" / "peers"


def _report(outcome: Outcome) -> None:
    print(f"FAIL {outcome.case} in {outcome.seconds:.2f} s")
    for problem in outcome.failures + [f"logged error: {m}" for m in outcome.caught]:
        print(f"    {problem}")


def main() -> int:
    args = _arguments()
    logging.basicConfig(level=logging.CRITICAL)  # hostile input logs a warning per limit
    peers = _peers(args)
    seeds = example_seeds()
    if peers.is_dir():
        seeds += peer_seeds(peers, light=not args.all_seeds)
    print(f"seeds: {len(seeds)} ({'with' if peers.is_dir() else 'without'} {peers})")
    policy = RoundPolicy()
    numbers = [args.case] if args.case is not None else range(args.cases)
    failures: list[Outcome] = []
    slowest: list[tuple[float, Case]] = []
    total_bytes = 0
    start = time.perf_counter()
    for number in numbers:
        case = make_case(seeds, args.seed, number)
        total_bytes += len(case.raw)
        outcome = run_case(case, policy, args.time_bound)
        if outcome.failures or outcome.caught:
            failures.append(outcome)
            _report(outcome)
        slowest = sorted([*slowest, (outcome.seconds, case)], key=lambda x: -x[0])[:5]
        if args.save and args.case is not None:
            args.save.write_bytes(case.raw)
    elapsed = time.perf_counter() - start
    count = len(numbers)
    print(f"cases: {count} in {elapsed:.1f} s = {count / elapsed:.1f} cases/s "
          f"({total_bytes / elapsed / 1e6:.1f} MB/s), seed {args.seed}")
    print(f"failures: {len(failures)}")
    print("slowest:")
    for seconds, case in slowest:
        print(f"    {seconds:.2f} s  {case}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
