"""Shared test helpers: config files and simple messages built on the fly."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import yaml

from support import REPO, SHARED  # noqa: F401  (re-exported for the tests)

CST = timezone(timedelta(hours=8))


def write_config(folder: Path, *, db_url: str, mailbox_url: str = "maildir:var/inbox",
                 **sections: dict) -> Path:
    data: dict = {
        "campaign": {"code": "JB2025"},
        "province": {"address": "dsjjzcghc@shandong.cn"},
        "mailbox": {"url": mailbox_url, "address": "dsjjzcghc@shandong.cn"},
        "smtp": {"url": "maildir:var/outbox", "from": "dsjjzcghc@shandong.cn"},
        "database": {"url": db_url},
        "storage": {"path": "var/store"},
    }
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def make_mail(
    *,
    subject: str = "揭榜挂帅申报材料",
    sender: str = "applicant@example.cn",
    body: str = "您好，申报材料见附件。",
    attachment_bytes: int = 0,
    when: datetime | None = None,
    message_id: str | None = None,
) -> bytes:
    """A realistic plain submission; ``attachment_bytes`` pads it with a binary attachment."""
    msg = EmailMessage()
    msg["From"] = f"申报人 <{sender}>"
    msg["To"] = "dsjjzcghc@shandong.cn"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when or datetime(2025, 1, 10, 9, 30, tzinfo=CST))
    msg["Message-ID"] = message_id or make_msgid(idstring=uuid.uuid4().hex[:8], domain="example.cn")
    msg.set_content(body)
    if attachment_bytes:
        msg.add_attachment(os.urandom(attachment_bytes), maintype="application",
                           subtype="octet-stream", filename="附件.bin")
    return msg.as_bytes()


def jiebang(*args: str, config: Path | None = None, input: bytes | None = None,
            timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the real CLI in a subprocess (for exit codes and stderr as users see them)."""
    cmd = [sys.executable, "-m", "tracker.cli", *args]
    if config is not None:
        cmd += ["--config", str(config)]
    return subprocess.run(cmd, input=input, capture_output=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, cwd=REPO)
