"""Authentication-Results: only our own server's verdicts count; all of them, a fail anywhere wins."""

from __future__ import annotations

import pytest

from intake.authres import SenderAuth, aligned, organisation, parse

OURS = ["mx.shandong.cn"]
JINAN = "jinan-dsj@dsj.jinan.gov.cn"


def test_a_dmarc_pass_from_our_server_verifies_the_sender() -> None:
    auth = parse(["mx.shandong.cn; spf=pass smtp.mailfrom=dsj.jinan.gov.cn; "
                  "dkim=pass header.d=jinan.gov.cn header.s=s1; dmarc=pass (p=reject) header.from=dsj.jinan.gov.cn"],
                 OURS, JINAN)
    assert auth.trusted and auth.verified and not auth.forged
    assert (auth.spf, auth.dkim, auth.dmarc, auth.spf_aligned, auth.dkim_aligned) == ("pass", "pass", "pass", True, True)


def test_anyone_elses_header_is_ignored() -> None:
    forged = "mx.attacker.example; spf=pass smtp.mailfrom=dsj.jinan.gov.cn; dmarc=pass header.from=dsj.jinan.gov.cn"
    assert parse([forged], OURS, JINAN) == SenderAuth()
    assert not parse([forged], OURS, JINAN).verified


def test_a_planted_pass_below_our_fail_changes_nothing() -> None:
    # our server's own verdict sits on top; a copy the sender wrote below it claims a pass
    ours = "mx.shandong.cn; spf=fail smtp.mailfrom=dsj.jinan.gov.cn; dmarc=fail header.from=dsj.jinan.gov.cn"
    planted = "mx.shandong.cn; spf=pass smtp.mailfrom=dsj.jinan.gov.cn; dmarc=pass header.from=dsj.jinan.gov.cn"
    auth = parse([ours, planted], OURS, JINAN)
    assert auth.forged and not auth.verified


def test_without_trusted_ids_nothing_is_believed() -> None:
    assert parse(["mx.shandong.cn; dmarc=pass"], [], JINAN) == SenderAuth()


@pytest.mark.parametrize(("header", "verified"), [
    ("mx.shandong.cn 1; spf=pass smtp.mailfrom=bounce.jinan.gov.cn", True),  # aligned (same organisation)
    ("mx.shandong.cn; spf=pass smtp.mailfrom=mailer.example.com", False),  # passes, but for someone else
    ("mx.shandong.cn; dkim=pass header.d=esp.example.net; dkim=fail header.d=jinan.gov.cn", False),
    ("mx.shandong.cn; dkim=pass header.i=@jinan.gov.cn", True),
    ("mx.shandong.cn; dmarc=pass header.from=other.example.cn", False),  # a verdict about another domain
    ("MX.Shandong.CN; (comment) DMARC=Pass header.from=jinan.gov.cn", True),
])
def test_alignment_with_the_from_domain(header: str, verified: bool) -> None:
    assert parse([header], OURS, JINAN).verified is verified


def test_softfail_is_not_forged_but_not_verified_either() -> None:
    auth = parse(["mx.shandong.cn; spf=softfail smtp.mailfrom=dsj.jinan.gov.cn; dmarc=none"], OURS, JINAN)
    assert not auth.forged and not auth.verified


def test_organisational_domains() -> None:
    assert organisation("mail.dsj.jinan.gov.cn") == "jinan.gov.cn"
    assert organisation("a.b.example.com") == "example.com"
    assert organisation("qq.com") == "qq.com"
    assert aligned("bounces.qq.com", "qq.com") and not aligned("qq.com.evil.example", "qq.com")
    assert not aligned(None, "qq.com")


def test_a_huge_or_broken_header_is_harmless() -> None:
    assert parse(["mx.shandong.cn; " + "spf=" * 100_000], OURS, JINAN).trusted
    assert parse([";;;", "", "mx.shandong.cn"], OURS, JINAN) == SenderAuth(True)


def test_a_quoted_semicolon_starts_no_verdict() -> None:
    # the attacker chose the envelope sender; our MTA quoted it into its header as it is
    header = ('mx.shandong.cn; spf=pass smtp.mailfrom="x;dmarc=pass header.from=dsj.jinan.gov.cn;"@evil.example; '
              "dkim=none; dmarc=fail header.from=dsj.jinan.gov.cn")
    auth = parse([header], OURS, JINAN)
    assert auth.dmarc == "fail" and auth.forged and not auth.verified
    assert not auth.spf_aligned  # the pass was for evil.example


def test_verdicts_split_over_several_headers_are_combined() -> None:
    # one milter a header: DKIM on top said nothing, SPF and DMARC below it failed
    auth = parse(["mx.shandong.cn; dkim=none", "mx.shandong.cn; spf=fail smtp.mailfrom=jinan.gov.cn",
                  "mx.shandong.cn; dmarc=fail header.from=jinan.gov.cn"], OURS, JINAN)
    assert auth.forged and not auth.verified
    passes = parse(["mx.shandong.cn; dkim=pass header.d=jinan.gov.cn",
                    "mx.shandong.cn; dmarc=pass header.from=dsj.jinan.gov.cn"], OURS, JINAN)
    assert passes.verified and not passes.forged


@pytest.mark.parametrize("header", [
    "mx.shandong.cn (our (nested) comment; dmarc=pass); dmarc=fail header.from=jinan.gov.cn",
    'mx.shandong.cn; dmarc=fail reason="p=reject; dmarc=pass" header.from=jinan.gov.cn',
    "mx.shandong.cn; dmarc/1=fail header.from=jinan.gov.cn",
])
def test_comments_and_quoted_reasons_are_not_verdicts(header: str) -> None:
    auth = parse([header], OURS, JINAN)
    assert auth.dmarc == "fail" and not auth.verified
