"""Every sample mail in ../shared/samples produces the mails a bureau would expect, and no others."""

from __future__ import annotations

from collections import Counter

import pytest
import yaml
from support.helpers import SHARED
from support.records import deliver, make_app, outbox, submissions

SAMPLES = SHARED / "samples"
pytestmark = pytest.mark.skipif(not SAMPLES.exists(), reason="../shared/samples not beside the checkout")


def test_sample_mails_get_exactly_the_expected_answers(tmp_path, db_url):
    cities = yaml.safe_load((SAMPLES / "config.yaml").read_text(encoding="utf-8"))["cities"]
    app = make_app(tmp_path, db_url, cities=cities)
    deliver(app, *[p.read_bytes() for p in sorted((SAMPLES / "mails").glob("*.eml"))])
    mails = outbox(app)
    by_recipient = Counter((m.kind, m.to_addrs[0]) for m in mails)

    def to(address: str) -> list[str]:
        return sorted(m.kind for m in mails if m.to_addrs == [address])

    assert to("gbnch1987@163.com") == ["ack"]                       # 001 clean
    # a city package gets one receipt, addressed to the bureau, listing each application
    assert to("jinan-dsj@dsj.jinan.example") == ["package_receipt"]      # 003 two applications
    assert to("qingdao-dsj@dsj.qingdao.example") == ["package_receipt"]  # 012 zip package
    assert to("2539347683@qq.com") == ["deficiency"]                # 004 LATE
    assert to("mbge2001@126.com") == ["redirect"]                   # 005 to its city bureau
    assert to("1713998373@qq.com") == ["deficiency"]                # 009 nothing attached
    assert to("2617128384@qq.com") == ["deficiency"]                # 010 consortium of four
    assert to("1819005688@qq.com") == ["ack"]                       # 011 GBK names
    # 006 asks about a reference that is not on file for its sender: an answer without details
    assert to("wfmea1974@163.com") == ["status"]
    assert "JB2025-0007" not in next(m for m in mails if m.to_addrs == ["wfmea1974@163.com"]).text_body
    # 007 (auto-reply) and 008 (bounce) are never answered
    assert to("jmzf2004@163.com") == [] and not any("mailer-daemon" in a for _, a in by_recipient)
    assert len(mails) == 10
    jinan = next(m for m in mails if m.to_addrs == ["jinan-dsj@dsj.jinan.example"])
    assert jinan.text_body.startswith("济南市大数据局：") and jinan.text_body.count("受理编号 JB2025-") == 2
    redirect = next(m for m in mails if m.kind == "redirect")
    assert "潍坊市" in redirect.text_body and "郎雪梅" in redirect.text_body
    assert len(submissions(app)) == 10
