"""Loop guards: who we never write to, which incoming mail we never answer."""

from __future__ import annotations

import pytest

from notifier.loops import allowed_recipient

OWN = frozenset({"dsjjzcghc@shandong.cn", "jiebang@shandong.cn"})


@pytest.mark.parametrize(
    ("address", "allowed", "reason"),
    [
        ("applicant@example.cn", True, "ok"),
        ("Zhang.San+jb@Example.CN", True, "ok"),
        ("jnsdsj@jn.shandong.cn", True, "ok"),
        ("user@localhost", True, "ok"),
        ("dsjjzcghc@shandong.cn", False, "our own address"),
        ("DSJJZCGHC@Shandong.CN", False, "our own address"),
        ("dsjjzcghc+test@shandong.cn", False, "our own address"),
        ("jiebang@shandong.cn", False, "our own address"),
        ("MAILER-DAEMON@mx.example.cn", False, "MAILER-DAEMON"),
        ("mailer_daemon@example.cn", False, "MAILER-DAEMON"),
        ("postmaster@example.cn", False, "postmaster"),
        ("noreply@example.cn", False, "no-reply address"),
        ("no-reply@example.cn", False, "no-reply address"),
        ("No_Reply@example.cn", False, "no-reply address"),
        ("do-not-reply@example.cn", False, "no-reply address"),
        ("donotreply@example.cn", False, "no-reply address"),
        ("noreply-notifications@example.cn", False, "no-reply address"),
        ("bounce@example.cn", False, "bounce address"),
        ("owner-datalist@lists.example.cn", False, "list address"),
        ("datalist-request@lists.example.cn", False, "list address"),
        ("datalist-bounces@lists.example.cn", False, "list address"),
        ("datalist-bounces+applicant=example.cn@lists.example.cn", False, "list address"),
        ("majordomo@example.cn", False, "list address"),
        ("", False, "empty address"),
        ("   ", False, "empty address"),
        ("applicant", False, "malformed address"),
        ("a@b@example.cn", False, "malformed address"),
        ("applicant@example.cn\r\nBcc: evil@x.cn", False, "malformed address"),
        ("申报人@example.cn", False, "malformed address"),
        ("<applicant@example.cn>", False, "malformed address"),
        ("applicant@-example.cn", False, "malformed address"),
        ("a..b@example.cn", False, "malformed address"),
        ("x" * 65 + "@example.cn", False, "malformed address"),
    ],
)
def test_allowed_recipient(address: str, allowed: bool, reason: str) -> None:
    assert allowed_recipient(address, OWN) == (allowed, reason)
