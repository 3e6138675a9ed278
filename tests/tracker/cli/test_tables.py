"""Tables piped to a script, a pager or a file are never cut at 80 columns."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session
from support.helpers import jiebang, write_config

from tracker.store import db
from tracker.store.tables import Submission

LONG_UNIT = "山东省大数据产业创新发展研究院（济南）有限公司暨数据要素市场化配置改革联合实验室牵头单位"


def test_a_long_unit_name_is_printed_whole_when_piped(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jiebang.db'}"
    config = write_config(tmp_path, db_url=url)
    engine = db.make_engine(url)
    db.upgrade(engine)
    with Session(engine) as session:
        session.add(Submission(round_code="JB2025", reference="JB2025-0001", lead_key="name:x", unit=LONG_UNIT,
                               direction=3, channel="direct", versions=1,
                               contacts=["applicant@example.cn"]))
        session.commit()
    engine.dispose()
    # stdout is a pipe here, as in `jiebang list | grep …`; even a COLUMNS of 80 does not narrow it
    result = jiebang("list", config=config, env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr.decode()
    text = result.stdout.decode()
    assert LONG_UNIT in text
    assert "…" not in text
