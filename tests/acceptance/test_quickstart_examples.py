"""The quick start's example mails, through `jiebang run --once` with the worker pool as
it ships: numbers follow arrival, and the status question is answered with its own
application's status (the example quotes JB2025-0001, the reference of mail 01)."""

from __future__ import annotations

import json

from support import REPO
from support.helpers import jiebang, write_config

EXAMPLES = REPO / "examples" / "mails"


def test_examples_are_numbered_by_arrival_and_the_status_question_gets_its_own_status(tmp_path) -> None:
    config = write_config(tmp_path, db_url=f"sqlite:///{tmp_path / 'jiebang.db'}",
                          receiver={"enabled": False}, processing={"workers": 2})
    inbox = tmp_path / "var" / "inbox"
    for sub in ("tmp", "new", "cur"):
        (inbox / sub).mkdir(parents=True)
    # dropped in the reverse of their arrival, as a Maildir listing may give them
    mails = sorted(p for p in EXAMPLES.glob("*.eml") if "04-status-query" not in p.name)
    for n, path in enumerate(reversed(mails)):
        (inbox / "new" / f"{n:03d}.{path.stem}").write_bytes(path.read_bytes())
    first = jiebang("run", "--once", config=config, timeout=300)
    assert first.returncode == 0, first.stderr.decode()[-2000:]
    # the status question comes later (the quick start sends it through the SMTP receiver)
    (inbox / "new" / "999.status").write_bytes((EXAMPLES / "04-status-query.eml").read_bytes())
    second = jiebang("run", "--once", config=config, timeout=300)
    assert second.returncode == 0, second.stderr.decode()[-2000:]

    listed = json.loads(jiebang("list", "--json", config=config).stdout)
    by_contact = {c: row["reference"] for row in listed for c in row["contacts"]}
    assert by_contact["wangxm@quanhe.example.cn"] == "JB2025-0001"  # mail 01, 8 January
    assert by_contact["li.na@ruifeng.example.cn"] == "JB2025-0002"  # mail 02, 9 January

    messages = json.loads(jiebang("messages", "--json", config=config).stdout)
    away = next(m for m in messages if m["from"] == "li.na@ruifeng.example.cn" and m["intent"] == "auto_reply")
    assert away["references"] == ["JB2025-0002"]  # the out-of-office is tied to its own application

    answers = json.loads(jiebang("outbox", "--json", config=config).stdout)
    to_asker = [a for a in answers if a["kind"] == "status" and a["to"] == ["wangxm@quanhe.example.cn"]]
    assert len(to_asker) == 1 and to_asker[0]["reference"] == "JB2025-0001"
    status = jiebang("status", "JB2025-0001", config=config).stdout.decode()
    assert "山东省泉河" in status or "JB2025-0001" in status
