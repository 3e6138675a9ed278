"""Every step of understanding is bounded: no pattern of intake can be made super-linear by
hostile text, and loops over untrusted structure check the document's deadline.

The patterns are checked by their structure, not by the clock (timings live in
``benchmarks/patterns.py``): a search tries every start position, so a pattern that
begins with an unbounded run and can still fail after it scans the rest of a long run
from each of its characters (the old e-mail pattern took 114 s on a line of 250,000
dots); nested unbounded repeats can backtrack exponentially.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import re._constants as C  # noqa: N812 (the parser's own names)
import re._parser as sre_parse
import time

import pytest

import intake
from intake.documents.limits import Deadline, LimitExceeded
from intake.documents.sheets import _fill_down
from intake.extract.fields import _EMAIL

_REPEATS = (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT)
_ANCHORS = (C.AT, C.ASSERT, C.ASSERT_NOT)
# nested unbounded repeats that cannot backtrack: each repetition begins (or ends) with a
# character the run before it excludes, so there is one way to split any text
UNAMBIGUOUS = {
    "intake.classify._CLOUD": "each (?:[A-Za-z0-9_-]+\\.) ends with a dot its class excludes",
    "intake.extract.pairs._COLON_LABEL": "each (?:\\u3000[ \\t]*) begins with U+3000, which [ \\t] excludes",
    "intake.extract.pairs._HEAD_LABEL": "the same label pattern, anchored",
}


def _patterns() -> list[tuple[str, re.Pattern]]:
    found = []
    for info in pkgutil.walk_packages(intake.__path__, "intake."):
        module = importlib.import_module(info.name)
        found += [(f"{info.name}.{name}", value) for name, value in vars(module).items()
                  if isinstance(value, re.Pattern)]
    return found


def _parsed(pattern: re.Pattern) -> list:
    return list(sre_parse.parse(pattern.pattern, pattern.flags))


def _nested_unbounded(items: list, inside: bool = False) -> bool:
    for op, arg in items:
        if op in _REPEATS:
            unbounded = arg[1] == C.MAXREPEAT
            if (inside and unbounded) or _nested_unbounded(list(arg[2]), inside or unbounded):
                return True
        elif op == C.SUBPATTERN and _nested_unbounded(list(arg[-1]), inside):
            return True
        elif op == C.BRANCH and any(_nested_unbounded(list(b), inside) for b in arg[1]):
            return True
        elif op in (C.ASSERT, C.ASSERT_NOT) and _nested_unbounded(list(arg[1]), inside):
            return True
    return False


PATTERNS = _patterns()


@pytest.mark.parametrize(("name", "pattern"), PATTERNS, ids=[n for n, _ in PATTERNS])
def test_no_pattern_rescans_a_run_from_each_of_its_characters(name: str, pattern: re.Pattern) -> None:
    items = _parsed(pattern)
    op, arg = items[0]
    leading_run = op in _REPEATS and arg[1] == C.MAXREPEAT
    # a leading unbounded run is harmless alone (it matches at once); followed by anything
    # that can fail, it needs a boundary in front (a lookbehind, ^)
    assert not (leading_run and len(items) > 1), f"{name}: {pattern.pattern[:80]}"


@pytest.mark.parametrize(("name", "pattern"), PATTERNS, ids=[n for n, _ in PATTERNS])
def test_nested_unbounded_repeats_are_reviewed(name: str, pattern: re.Pattern) -> None:
    assert not _nested_unbounded(_parsed(pattern)) or name in UNAMBIGUOUS, f"{name}: {pattern.pattern[:80]}"


def test_the_old_email_pattern_would_have_been_caught() -> None:
    old = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
    op, arg = _parsed(old)[0]
    assert op in _REPEATS and arg[1] == C.MAXREPEAT and len(_parsed(old)) > 1


@pytest.mark.parametrize(("text", "found"), [
    ("联系邮箱：li.na@ruifeng.example.cn，电话", ["li.na@ruifeng.example.cn"]),
    ("zhang_san+1@mail.sdu.edu.cn", ["zhang_san+1@mail.sdu.edu.cn"]),
    ("x" * 80 + "@example.cn", []),  # a local part longer than any address has
    ("a@b", []),
    ("。" * 1000 + "a@b.cn", ["a@b.cn"]),
])
def test_the_email_pattern_still_finds_addresses(text: str, found: list[str]) -> None:
    assert _EMAIL.findall(text) == found


def test_merged_ranges_stop_at_the_documents_deadline() -> None:
    rows = [["a", ""] for _ in range(100)]
    spent = Deadline(0)
    time.sleep(0.01)  # the deadline has passed: deterministic, whatever the machine's speed
    with pytest.raises(LimitExceeded):
        _fill_down(rows, [(0, 0, 99, 0)] * 10_000, spent)
    filled = _fill_down([["a"], [""], [""]], [(0, 0, 2, 0)], Deadline(60))
    assert [r[0] for r in filled] == ["a", "a", "a"]
