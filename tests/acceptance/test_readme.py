"""The README's quick start, as a newcomer follows it: the command they are told to type
exists, and the swaks example sends the form under its own name."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess

import pytest
from support import REPO
from support.helpers import jiebang
from support.servers import free_port

from intake.sources.receiver import LocalReceiver

README = (REPO / "README.md").read_text(encoding="utf-8")
QUICK_START = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]


def test_the_quick_start_says_where_the_command_is() -> None:
    assert ".venv/bin/jiebang" in QUICK_START
    assert "source .venv/bin/activate" in QUICK_START
    installs = (REPO / "scripts" / "quickstart.sh").read_text(encoding="utf-8")
    assert "J=.venv/bin/jiebang" in installs  # where the quick start's script puts it


def _swaks_attach_example() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", QUICK_START, flags=re.S)
    (command,) = [b for b in blocks if b.lstrip().startswith("swaks") and "--attach" in b]
    return shlex.split(command.replace("\\\n", " "))


@pytest.mark.skipif(shutil.which("swaks") is None, reason="swaks is not installed (scripts/test.sh installs it)")
def test_the_swaks_example_sends_the_form_under_its_own_name(tmp_path) -> None:
    args = _swaks_attach_example()
    assert "@申报书.docx" in args  # the README's file, read from the current folder
    (tmp_path / "申报书.docx").write_bytes(b"PK\x03\x04 not really a form")
    port = free_port()
    inbox = tmp_path / "inbox"
    receiver = LocalReceiver(inbox, host="127.0.0.1", port=port)
    receiver.start()
    try:
        command = [a.replace("127.0.0.1:2525", f"127.0.0.1:{port}") for a in args]
        sent = subprocess.run(command, cwd=tmp_path, capture_output=True, timeout=60)
        assert sent.returncode == 0, sent.stderr.decode()[-2000:]
    finally:
        receiver.stop()
    (delivered,) = list((inbox / "new").iterdir())
    seen = jiebang("inspect", str(delivered), "--json")
    assert seen.returncode == 0, seen.stderr.decode()
    names = [d["name"] for d in json.loads(seen.stdout)["documents"]]
    assert names == ["申报书.docx"]
