"""Every step of understanding is bounded: no pattern is super-linear on hostile text, and
loops over untrusted structure check the document's deadline."""

from __future__ import annotations

import re
import time

import pytest

from intake.documents.limits import Deadline, LimitExceeded
from intake.documents.sheets import _fill_down
from intake.extract.fields import _EMAIL


@pytest.mark.parametrize("text", [
    "." * 250_000, "a" * 250_000, "a@" + "." * 250_000, "a." * 125_000 + "@", "@a" * 125_000,
    "a@b." * 60_000, "x" * 250_000 + "@example.cn",
])
def test_the_email_pattern_is_linear_on_hostile_runs(text: str) -> None:
    start = time.perf_counter()
    _EMAIL.findall(text)
    # the unbounded pattern took minutes on these (every start position scanned to the end)
    assert time.perf_counter() - start < 2


@pytest.mark.parametrize(("text", "found"), [
    ("联系邮箱：li.na@ruifeng.example.cn，电话", ["li.na@ruifeng.example.cn"]),
    ("zhang_san+1@mail.sdu.edu.cn", ["zhang_san+1@mail.sdu.edu.cn"]),
    ("x" * 80 + "@example.cn", []),  # a local part longer than any address has
    ("a@b", []),
])
def test_the_email_pattern_still_finds_addresses(text: str, found: list[str]) -> None:
    assert _EMAIL.findall(text) == found


def test_merged_ranges_stop_at_the_documents_deadline() -> None:
    rows = [["a", ""] for _ in range(100)]
    spent = Deadline(0)
    time.sleep(0.01)
    with pytest.raises(LimitExceeded):
        _fill_down(rows, [(0, 0, 99, 0)] * 10_000, spent)
    filled = _fill_down([["a"], [""], [""]], [(0, 0, 2, 0)], Deadline(60))
    assert [r[0] for r in filled] == ["a", "a", "a"]


def _patterns() -> list[tuple[str, re.Pattern]]:
    import importlib
    import pkgutil

    import intake

    found = []
    for info in pkgutil.walk_packages(intake.__path__, "intake."):
        module = importlib.import_module(info.name)
        found += [(f"{info.name}.{name}", value) for name, value in vars(module).items()
                  if isinstance(value, re.Pattern)]
    return found


RUNS = [c * 60_000 for c in ".a1 中@-(（\n_A/、："] + [
    pair * 30_000 for pair in ("a.", "a@", "1-", "中 ", "（中", "a1", "\n ", "中\n", ".@")]


@pytest.mark.parametrize(("name", "pattern"), _patterns(), ids=lambda v: v if isinstance(v, str) else "")
def test_no_pattern_of_intake_is_super_linear_on_hostile_runs(name: str, pattern: re.Pattern) -> None:
    # 60,000 characters: a quadratic pattern needs ~10⁹ steps (the old e-mail pattern: 5 s), a linear one ms
    for text in RUNS:
        subject = text if isinstance(pattern.pattern, str) else text.encode("utf-8")
        start = time.perf_counter()
        pattern.search(subject)
        assert time.perf_counter() - start < 2, (name, text[:4])
