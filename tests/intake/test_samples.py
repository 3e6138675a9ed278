"""Every shared sample mail → ``understand`` must match truth.json's ``expect`` exactly."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import SHARED  # noqa: E402

from campaign import Catalogue, CityBureau, RoundPolicy
from intake.understand import understand

SAMPLES = SHARED / "samples"

pytestmark = pytest.mark.skipif(
    not (SAMPLES / "truth.json").exists(), reason="shared samples not present"
)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def policy_from_yaml(path: Path) -> RoundPolicy:
    """The few config keys intake needs (tracker has the real loader)."""
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    campaign = cfg.get("campaign") or {}
    own = {
        cfg.get("province", {}).get("address"),
        cfg.get("mailbox", {}).get("address"),
        cfg.get("smtp", {}).get("from"),
    }
    return RoundPolicy(
        catalogue=Catalogue(
            code=campaign.get("code", "JB2025"),
            timezone=campaign.get("timezone", "Asia/Shanghai"),
            deadlines={k: _day(v) for k, v in (campaign.get("deadlines") or {}).items()},
        ),
        cities={
            name: CityBureau(
                name,
                tuple(c.get("bureau_emails") or ()),
                c.get("contact", ""),
                str(c.get("phone", "")),
            )
            for name, c in (cfg.get("cities") or {}).items()
        },
        own_addresses=frozenset(a.lower() for a in own if a),
        role=cfg.get("role", "province"),
        city=cfg.get("city"),
    )


def unit_key(name: str | None) -> str | None:
    if name is None:
        return None
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))
    return text.replace("（", "(").replace("）", ")").replace("【", "(").replace("】", ")")


def _app(a: dict[str, Any]) -> dict[str, Any]:
    out = {k: a.get(k) for k in ("uscc", "unit_nature", "city", "direction")}
    out["unit"] = unit_key(a.get("unit"))
    out["task_types"] = sorted(a.get("task_types") or [])
    out["partners"] = [unit_key(p) for p in a.get("partners") or []]
    return out


def _compare(got: dict[str, Any], expect: dict[str, Any]) -> list[str]:
    problems = []
    for key in ("intent", "reference", "channel", "city", "subject", "received_at"):
        if key in expect and got[key] != expect[key]:
            problems.append(f"{key}: got {got[key]!r}, want {expect[key]!r}")
    if "applications" in expect:
        want = [_app(a) for a in expect["applications"]]
        have = [{k: v for k, v in _app(a).items()} for a in got["applications"]]
        if have != want:
            problems.append(f"applications: got {have}, want {want}")
    if "recommendations" in expect:
        want = [(r["rank"], r["direction"], unit_key(r["unit"])) for r in expect["recommendations"]]
        have = [(r["rank"], r["direction"], unit_key(r["unit"])) for r in got["recommendations"]]
        if have != want:
            problems.append(f"recommendations: got {have}, want {want}")
    if "documents" in expect:
        have_docs = got["documents"]
        if len(have_docs) != len(expect["documents"]):
            problems.append(f"documents: got {[d['name'] for d in have_docs]}")
        for h, w in zip(have_docs, expect["documents"], strict=False):
            for key, value in w.items():
                if h.get(key) != value:
                    problems.append(
                        f"document {w['name']}: {key} got {h.get(key)!r}, want {value!r}"
                    )
    codes = {d["code"] for d in got["deficiencies"]}
    optional = set(expect.get("deficiencies_optional") or [])
    if (
        codes - optional != set(expect["deficiencies"]) - optional
        or not set(expect["deficiencies"]) <= codes
    ):
        problems.append(
            f"deficiencies: got {sorted(codes)}, want {sorted(expect['deficiencies'])} (+{sorted(optional)})"
        )
    return problems


CASES = (
    json.loads((SAMPLES / "truth.json").read_text(encoding="utf-8"))
    if (SAMPLES / "truth.json").exists()
    else []
)


@pytest.fixture(scope="module")
def policy() -> RoundPolicy:
    return policy_from_yaml(SAMPLES / "config.yaml")


@pytest.mark.parametrize("case", CASES, ids=[c["file"][:3] for c in CASES])
def test_sample_matches_truth(case: dict[str, Any], policy: RoundPolicy) -> None:
    raw = (SAMPLES / "mails" / case["file"]).read_bytes()
    got = understand(raw, policy).contract()
    json.dumps(got, ensure_ascii=False)  # the inspect contract must serialise
    problems = _compare(got, case["expect"])
    assert not problems, f"{case['file']} ({case['notes']}):\n  " + "\n  ".join(problems)
