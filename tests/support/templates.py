"""A database with its files, built once per backend and session, copied for every test.

``cloned(key, tmp_path, db_url, build)`` gives ``tmp_path`` and the empty database at
``db_url`` what ``build(folder, url)`` made the first time it was asked for ``key`` on that
backend: the database cloned (SQLite's backup API; PostgreSQL's ``CREATE DATABASE …
TEMPLATE``), every other file of the folder copied (``config.yaml`` with its database URL
changed, the store, the outbox), and ``build``'s return value (plain data — references,
row ids — never an engine or an App). Each test gets a copy of its own: it may change it.

``build`` writes its ``config.yaml`` into ``folder`` with relative paths (as
``support.helpers.write_config`` does) and leaves no connection open to ``url``.
"""

from __future__ import annotations

import atexit
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

T = TypeVar("T")
_MADE: dict[tuple[str, str], tuple[Path, str, Any]] = {}


def cloned(key: str, tmp_path: Path, db_url: str, build: Callable[[Path, str], T]) -> T:
    backend = make_url(db_url).get_backend_name()
    if (key, backend) not in _MADE:
        folder = Path(tempfile.mkdtemp(prefix=f"jb-template-{key}-{backend}-"))
        atexit.register(shutil.rmtree, folder, True)
        url = f"sqlite:///{folder / 'jiebang.db'}" if backend == "sqlite" else _new_database(db_url)
        _MADE[key, backend] = (folder, url, build(folder, url))
    folder, url, value = _MADE[key, backend]
    source = make_url(url).database or ""
    tmp_path.mkdir(parents=True, exist_ok=True)
    for item in folder.iterdir():
        if item.is_dir():
            shutil.copytree(item, tmp_path / item.name, dirs_exist_ok=True)
        elif item.name == "config.yaml":
            config = yaml.safe_load(item.read_text(encoding="utf-8"))
            config["database"]["url"] = db_url
            (tmp_path / item.name).write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        elif not str(item).startswith(source):  # the SQLite file and its -wal/-shm: below
            shutil.copy2(item, tmp_path / item.name)
    if backend == "sqlite":
        old, new = sqlite3.connect(source), sqlite3.connect(make_url(db_url).database or "")
        try:
            old.backup(new)
        finally:
            old.close()
            new.close()
    else:
        name = make_url(db_url).database
        _admin(db_url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       f"WHERE datname = '{source}' AND pid <> pg_backend_pid()",
               f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}" TEMPLATE "{source}"')  # fmt: skip
    return value


def _admin(db_url: str, *statements: str) -> None:
    """Statements run outside a transaction in the server's ``postgres`` database."""
    engine = create_engine(make_url(db_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def _new_database(db_url: str) -> str:
    name = f"t_template_{uuid.uuid4().hex[:8]}"
    _admin(db_url, f'CREATE DATABASE "{name}"')
    return make_url(db_url).set(database=name).render_as_string(hide_password=False)
