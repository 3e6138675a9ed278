"""The bar on long CLI work (reprocess, export, review import): every item still comes, in
order; only a terminal sees a bar, so a script, a pipe or ``--json`` gets nothing on stderr;
and the export's report tells it how far it is, row by row."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

from rich.console import Console
from sqlmodel import Session
from support.crowd import crowd
from support.records import make_app

from tracker.cli.common import Watched, progress, progress_bar
from tracker.reports.exports import submissions_file


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    written = io.StringIO()
    return Console(file=written, force_terminal=terminal, width=80), written


def test_every_item_comes_in_order_and_without_a_terminal_nothing_is_written() -> None:
    console, written = _console(terminal=False)
    items = [f"第{i}封" for i in range(50)]
    assert list(progress(items, "重新理解 reprocessing", console=console)) == items
    with progress_bar("导出申报汇总 exporting", console=console) as step:
        for done in range(1, 11):
            step(done, 10)
    assert written.getvalue() == ""


def test_on_a_terminal_the_bar_is_drawn_and_every_item_still_comes_in_order() -> None:
    console, written = _console(terminal=True)
    items = list(range(30))
    assert list(progress(items, "重新理解 reprocessing", console=console)) == items
    assert "重新理解 reprocessing" in written.getvalue()
    assert list(progress([], "重新理解 reprocessing", console=console)) == []


def test_a_sequence_watched_is_the_same_sequence() -> None:
    console, written = _console(terminal=False)
    rows = ["第 2 行", "第 3 行", "第 4 行"]
    watched = Watched(rows, "检查评分 checking", console=console)
    assert len(watched) == 3 and watched[1] == "第 3 行" and list(watched[1:]) == rows[1:]
    assert list(watched) == rows and list(watched) == rows  # walked twice: the same rows
    assert written.getvalue() == ""


def test_the_export_says_how_far_it_is_row_by_row(tmp_path: Path) -> None:
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'jiebang.db'}")
    crowd(app, 40)
    for fmt in ("xlsx", "csv"):
        steps: list[tuple[int, int]] = []
        with app.round(), Session(app.engine) as session:
            submissions_file(session, app.policy, fmt, filled_on=date(2025, 1, 14),
                             on_row=lambda done, total, steps=steps: steps.append((done, total)))
        (total,) = {t for _, t in steps}
        assert [d for d, _ in steps] == list(range(1, total + 1)) and total >= 40
