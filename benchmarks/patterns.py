"""Every pattern of intake, timed on hostile runs (the clock side of tests/intake/test_bounded.py).

    .venv/bin/python benchmarks/patterns.py [--length 60000]

A linear pattern searches a run of 60,000 characters in milliseconds; a pattern that
rescans a run from each of its characters needs ~10⁹ steps (the old e-mail pattern: ~5 s
here). Prints the slowest (pattern, input) pairs and the time of the old e-mail pattern
for comparison.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import intake  # noqa: E402

OLD_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")


def runs(length: int) -> list[str]:
    singles = [c * length for c in ".a1 中@-(（\n_A/、："]
    pairs = [p * (length // 2) for p in ("a.", "a@", "1-", "中 ", "（中", "a1", "\n ", "中\n", ".@", "☆ ")]
    return singles + pairs


def timed(pattern: re.Pattern, text: str) -> float:
    subject = text if isinstance(pattern.pattern, str) else text.encode("utf-8")
    start = time.perf_counter()
    pattern.search(subject)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--length", type=int, default=60_000)
    length = parser.parse_args().length
    rows = []
    for info in pkgutil.walk_packages(intake.__path__, "intake."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern):
                worst = max((timed(value, text), text[:4]) for text in runs(length))
                rows.append((worst[0], f"{info.name}.{name}", worst[1]))
    rows.sort(reverse=True)
    print(f"{len(rows)} patterns, runs of {length} characters; slowest:")
    for seconds, name, text in rows[:10]:
        print(f"  {seconds * 1000:8.1f} ms  {name}  on {text!r}…")
    print(f"the old e-mail pattern: {max(timed(OLD_EMAIL, t) for t in runs(length)[:2]):.2f} s")


if __name__ == "__main__":
    main()
