"""`jiebang inspect` as staff and scripts use it: one JSON object, exit 0 on any message."""

from __future__ import annotations

import json

from support.helpers import REPO, jiebang

EXAMPLES = REPO / "examples" / "mails"
KEYS = {"message_id", "from", "subject", "received_at", "intent", "reference", "channel", "city",
        "applications", "recommendations", "documents", "deficiencies"}


def test_inspect_json_is_one_object_with_the_contract_keys(tmp_path):
    result = jiebang("inspect", str(EXAMPLES / "03-city-package-jinan.eml"), "--json", config=REPO / "config.yaml")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == KEYS
    assert (data["intent"], data["channel"], data["city"]) == ("submission", "via_city", "济南市")
    assert [r["rank"] for r in data["recommendations"]] == [1, 2]
    assert len(data["applications"]) == 2 and data["deficiencies"] == []


def test_inspect_survives_garbage_and_says_what_it_could(tmp_path):
    junk = tmp_path / "junk.eml"
    junk.write_bytes(b"\x00\xff\xfeNot a mail at all\r\n\r\n\x89PNG garbage")
    result = jiebang("inspect", str(junk), "--json")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert set(data) == KEYS and data["applications"] == []


def test_inspect_of_a_missing_file_fails_with_one_line(tmp_path):
    result = jiebang("inspect", str(tmp_path / "absent.eml"), "--json")
    assert result.returncode != 0
    assert result.stdout == b"" and len(result.stderr.decode().strip().splitlines()) == 1


def test_inspect_without_json_shows_a_readable_view():
    result = jiebang("inspect", str(EXAMPLES / "02-direct-private-company.eml"), config=REPO / "config.yaml",
                     env={"COLUMNS": "240"})
    assert result.returncode == 0
    text = result.stdout.decode()
    assert "WRONG_CHANNEL" in text and "潍坊瑞丰数据科技有限公司" in text and "直报省局" in text
