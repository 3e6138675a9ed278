"""A new year's round is a config change: directions, limits and deadlines from config.yaml."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import datetime
from pathlib import Path

import pytest
from support.formfactory import CST, FormSpec, make_docx, make_eml, make_uscc
from support.helpers import jiebang, write_config

ROUND_2026 = {
    "code": "JB2026",
    "deadlines": {"direct": "2026-03-31", "city_applicant": "2026-03-25", "city_bureau": "2026-03-31"},
    "directions": [
        {"name": "数据基础设施建设", "aliases": ["基础设施建设"]},
        {"name": "数据标注产业", "aliases": ["数据标注"]},
        {"name": "数据资产入表", "aliases": ["资产入表"]},
        {"name": "可信数据空间", "aliases": []},
        {"name": "数据跨境流动", "aliases": ["跨境流动"]},
    ],
    "consortium_max": 4,
    "city_quota": 3,
}


def _mail(direction: str) -> bytes:
    spec = FormSpec(unit="山东省泉城数据研究院", uscc=make_uscc("370000", "12"), nature="省属事业单位",
                    direction_written=direction, task_types=["theory"], outcomes=["研究报告"],
                    email="apply@quancheng.example.cn")
    return make_eml(sender="apply@quancheng.example.cn", subject="揭榜挂帅申报书",
                    attachments=[("申报书.docx", make_docx(spec))], received=datetime(2026, 3, 2, 10, 0, tzinfo=CST))


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path, db_url=f"sqlite:///{tmp_path}/jiebang.db", campaign=ROUND_2026)


def _inspect(config: Path, tmp_path: Path, direction: str) -> dict:
    mail = tmp_path / "mail.eml"
    mail.write_bytes(_mail(direction))
    proc = jiebang("inspect", str(mail), "--json", config=config)
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout)


@pytest.mark.parametrize("written", ["（三）数据资产入表", "资产入表"])
def test_direction_is_read_from_the_rounds_own_names(config: Path, tmp_path: Path, written: str) -> None:
    result = _inspect(config, tmp_path, written)
    assert [a["direction"] for a in result["applications"]] == [3]
    assert "DIRECTION_MISSING" not in {d["code"] for d in result["deficiencies"]}


def test_a_number_the_round_does_not_have_is_no_direction(config: Path, tmp_path: Path) -> None:
    result = _inspect(config, tmp_path, "（六）")
    assert [a["direction"] for a in result["applications"]] == [None]
    [missing] = [d for d in result["deficiencies"] if d["code"] == "DIRECTION_MISSING"]
    # the applicant is told how many directions this round has, and shown one of its own
    assert "五个方向" in missing["message"] and "（二）数据标注产业" in missing["message"]


def test_the_2025_names_mean_nothing_in_2026(config: Path, tmp_path: Path) -> None:
    result = _inspect(config, tmp_path, "（二）数据治理")
    assert [a["direction"] for a in result["applications"]] == [2]  # the number still counts …
    result = _inspect(config, tmp_path, "数据治理")
    assert [a["direction"] for a in result["applications"]] == [None]  # … a 2025 name does not


def test_run_once_gives_the_rounds_reference_and_names_it_in_the_ack(config: Path, tmp_path: Path) -> None:
    inbox = tmp_path / "var" / "inbox"
    for sub in ("tmp", "new", "cur"):
        (inbox / sub).mkdir(parents=True, exist_ok=True)
    (inbox / "new" / "1.round2026.eml").write_bytes(_mail("（三）数据资产入表"))
    proc = jiebang("run", "--once", config=config)
    assert proc.returncode == 0, proc.stderr.decode()
    listed = json.loads(jiebang("list", "--json", config=config).stdout)
    assert [(s["reference"], s["direction"]) for s in listed] == [("JB2026-0001", 3)]
    [ack] = list((tmp_path / "var" / "outbox" / "new").iterdir())
    mail = email.message_from_bytes(ack.read_bytes(), policy=email.policy.default)
    text = mail.get_body(("plain",)).get_content()
    assert "JB2026-0001" in str(mail["Subject"])
    assert "2026年全省数据要素市场化配置改革揭榜挂帅" in text and "数据资产入表" in text


def test_a_five_direction_rounds_digest_shows_its_five_directions(config: Path, tmp_path: Path) -> None:
    inbox = tmp_path / "var" / "inbox"
    for sub in ("tmp", "new", "cur"):
        (inbox / sub).mkdir(parents=True, exist_ok=True)
    (inbox / "new" / "1.round2026.eml").write_bytes(_mail("（五）数据跨境流动"))
    assert jiebang("run", "--once", config=config).returncode == 0
    out = tmp_path / "digest.html"
    proc = jiebang("digest", "--to-file", str(out), config=config)
    assert proc.returncode == 0, proc.stderr.decode()
    html = out.read_text(encoding="utf-8")
    names = [d["name"] for d in ROUND_2026["directions"]]
    assert all(name in html for name in names)
    assert "未识别" not in html and "数据治理" not in html  # no phantom row, no 2025 direction


def test_two_rounds_live_side_by_side_in_one_process(config: Path, tmp_path: Path) -> None:
    """Creating an app sets no round for the process: each app's work runs in its own."""
    from campaign import current
    from campaign.labels import direction_label
    from tracker.app import App
    from tracker.config import load_settings

    before = current()
    app_2026 = App(load_settings(config))
    app_2025 = App(load_settings(write_config(tmp_path / "y2025", db_url=f"sqlite:///{tmp_path}/y2025.db")))
    assert current() is before  # nothing changed by building either
    with app_2026.round():
        assert direction_label(5) == "（五）数据跨境流动" and direction_label(6) == "未识别"
        with app_2025.round():
            assert direction_label(6) == "（六）数据流通利用技术"
        assert current().code == "JB2026"
    assert current() is before
