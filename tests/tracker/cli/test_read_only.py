"""Commands that only read open the database as it is: they never migrate it.

Only `run`, `db upgrade` and the commands that write bring the schema up to the code's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic import command
from support.helpers import jiebang, write_config

from tracker.store import db

READ_ONLY = [
    ("list", "--json"), ("messages", "--json"), ("outbox", "--json"), ("claims", "--json"), ("stats", "--json"),
    ("show", "JB2025-0001"), ("status", "JB2025-0001"), ("digest", "--today", "2025-01-14"),
    ("release", "--dry-run"), ("reprocess",),
]


def _migrate_to(url: str, revision: str) -> None:
    engine = db.make_engine(url)
    cfg = db.alembic_config(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    engine.dispose()


def _revision(url: str) -> str | None:
    engine = db.make_engine(url)
    try:
        return db.current_revision(engine)
    finally:
        engine.dispose()


@pytest.fixture
def behind(tmp_path: Path, db_url: str) -> tuple[Path, str, str]:
    """A database one migration behind the code (as after installing a newer jiebang)."""
    head = db.head_revision()
    (older,) = {s.down_revision for s in db.ScriptDirectory(str(db.MIGRATIONS)).walk_revisions()
                if s.revision == head}
    assert isinstance(older, str)
    _migrate_to(db_url, older)
    return write_config(tmp_path, db_url=db_url), db_url, older


@pytest.mark.parametrize("args", READ_ONLY, ids=lambda a: " ".join(a))
def test_a_read_only_command_leaves_a_behind_database_as_it_was(behind, args):
    config, url, older = behind
    result = jiebang(*args, config=config)
    assert _revision(url) == older  # not migrated
    lines = result.stderr.decode().strip().splitlines()
    assert lines[0] == (f"jiebang: 数据库版本落后（{older}，本程序需要 {db.head_revision()}），"
                        "请先运行 jiebang db upgrade（或 jiebang run，它会先升级数据库）")
    assert "Traceback" not in result.stderr.decode()
    assert result.returncode in (0, 1), lines  # read what it could (1: no such submission)


def test_it_still_reads_what_the_older_schema_holds(behind):
    config, _url, _older = behind
    result = jiebang("list", "--json", config=config)
    assert result.returncode == 0 and json.loads(result.stdout) == []


def test_a_read_the_older_schema_cannot_answer_is_one_line_and_exit_4(tmp_path: Path, db_url: str):
    older = "0007"  # before the accounts table (migration 0008); later migrations only add to it
    _migrate_to(db_url, older)
    config, url = write_config(tmp_path, db_url=db_url), db_url
    result = jiebang("user", "list", config=config)
    assert result.returncode == 4
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("jiebang: 数据库版本落后，无法读取") and "jiebang db upgrade" in lines[1]
    assert _revision(url) == older


def test_a_writing_command_migrates_first(behind):
    config, url, _older = behind
    result = jiebang("requeue", config=config)
    assert result.returncode == 0, result.stderr.decode()
    assert _revision(url) == db.head_revision()
    again = jiebang("list", "--json", config=config)
    assert again.returncode == 0 and again.stderr == b""  # up to date: nothing to say


def test_on_a_database_never_set_up_a_read_says_so_and_creates_nothing(tmp_path):
    database = tmp_path / "var" / "jiebang.db"
    config = write_config(tmp_path, db_url=f"sqlite:///{database}")
    for args in (("list",), ("messages", "--json"), ("outbox",)):
        result = jiebang(*args, config=config)
        assert result.returncode == 4
        (line,) = result.stderr.decode().strip().splitlines()
        assert "数据库尚未建立" in line and "jiebang db upgrade" in line
    assert not database.exists()
    assert jiebang("db", "upgrade", config=config).returncode == 0
    assert _revision(f"sqlite:///{database}") == db.head_revision()
