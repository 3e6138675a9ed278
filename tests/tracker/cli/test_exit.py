"""A command ends with its database closed: the file alone holds everything it wrote."""

from __future__ import annotations

import shutil
import sqlite3

from support.helpers import jiebang, make_mail, write_config


def test_after_a_command_the_sqlite_file_alone_holds_what_it_wrote(tmp_path):
    db = tmp_path / "jiebang.db"
    config = write_config(tmp_path, db_url=f"sqlite:///{db}", processing={"workers": 0})
    assert jiebang("ingest", "-", config=config, input=make_mail(subject="备份")).returncode == 0
    done = jiebang("run", "--once", config=config)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    # no write-ahead log left beside it: a copy of the file is a whole backup
    assert not (tmp_path / "jiebang.db-wal").exists()
    copy = tmp_path / "backup.db"
    shutil.copyfile(db, copy)
    with sqlite3.connect(copy) as conn:
        assert conn.execute("select subject, state from message").fetchall() == [("备份", "processed")]
